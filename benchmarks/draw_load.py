"""A room full of people: N browser sessions drawing on the Draw page at once, and ten browsing every page.

    MNIST_DIR=/path/to/mnist .venv/bin/python -m benchmarks.draw_load [--sessions 1 5 10 20] [--cycles 3]

Each of N sessions (one Chromium, one context each, driven concurrently with Playwright's async API)
draws a "1", waits for "Prediction:", presses Clear, and does it again, `cycles` times, all at once.
With two or more cores the server runs on one and the browsers on the others, so the browsers'
rendering does not count as server time. Twenty browsers on one core are slower than the server,
so the same rounds run again with sessions that speak Streamlit's websocket protocol
(`benchmarks.stream_session`): the server alone. A short deep_cnn run is trained for the server's
store. Measures, never asserts; alone, it rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from playwright.async_api import Browser, Page, async_playwright, expect
from playwright.async_api import TimeoutError as PlaywrightTimeoutError

from benchmarks.report_sections import REPORT, write_section
from benchmarks.stream_session import StreamSession, canvas_state, element, elements, shows_text
from core.config import TrainConfig
from core.data import MnistData, load_mnist
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard.server_process import (
    CHROMIUM,
    CHROMIUM_ARGS,
    VIEWPORT,
    free_loopback_port,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)

SECTION_HEADING = "## 7–8. Many people at once: drawing, then browsing"

SESSION_COUNTS = (1, 5, 10, 20)
CYCLES = 3
# One visitor's strokes per room round: enough for a p95 that is not simply the slowest of three.
VISITOR_STROKES = 20
BROWSE_SESSIONS = 10
BROWSE_ROUNDS = 2
# Latency does not depend on how well the model is trained; its size and layers are deep_cnn's.
RUN_CONFIG = TrainConfig.for_arch("deep_cnn", epochs=1, train_limit=6000, patience=1, name="draw load")

PAGE_TIMEOUT_MS = 180_000  # 20 sessions on one server core: a page can wait its turn for a while
STROKE_TIMEOUT_MS = 60_000  # no prediction by then: the stroke was lost, and is drawn again
MAX_STROKE_ATTEMPTS = 3
INK_WAIT_MS = 5_000
CANVAS_SIZE = 280

MAIN = '[data-testid="stMain"]'
SIDEBAR = '[data-testid="stSidebar"]'
DRAW_HINT = "Draw a digit on the black canvas to see what the model predicts."
PAGE_HEADINGS = {
    "Training curves": "Training curves",
    "Per-class metrics": "Per-class metrics",
    "Misclassifications": "Misclassifications",
    "Calibration": "Calibration",
    "Weights": "Weights",
    "Activations": "Activations",
    "Draw": "Draw a digit",
    "Home": "Digit Lab",
}
ONE = [(146, 50), (143, 95), (140, 140), (137, 185), (134, 230)]  # a near-vertical "1", canvas pixels
STROKE_WIDTH = 22  # as pages/draw.py draws

# A probe in each page does every wait with plain DOM reads: Playwright's own waits (text and role
# selectors, polled over its connection) cost the browsers' single core more than the app did.
# The drawing canvas lives in the component's shadow root; a canvas re-created after Clear is found again.
PROBE_JS = """([hint, inkWaitMs]) => {
    if (window.__drawLoad) return;
    const main = () => document.querySelector('[data-testid="stMain"]');
    const probe = window.__drawLoad = {
        up: null, seen: null, observer: null, drawingCanvas: null,
        canvas() {
            if (probe.drawingCanvas?.isConnected) return probe.drawingCanvas;
            probe.drawingCanvas = null;
            for (const host of main().querySelectorAll("*")) {
                const found = host.shadowRoot?.querySelector("canvas.dc-canvas.lower-canvas");
                if (found) return (probe.drawingCanvas = found);
            }
            return null;
        },
        box() {
            const rect = probe.canvas()?.getBoundingClientRect();
            return rect && {x: rect.x, y: rect.y, width: rect.width, height: rect.height};
        },
        ink() {
            const canvas = probe.canvas();
            if (!canvas) return 0;
            const data = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            let inked = 0;
            for (let i = 0; i < data.length; i += 4) if (data[i + 3] > 32 && data[i] > 32) inked++;
            return inked;
        },
        predicted: () => [...main().querySelectorAll("h3")]
            .some(heading => heading.textContent.trim().startsWith("Prediction:")),
        // After a stroke: its seconds once "Prediction:" showed, or "lost" if it left no ink.
        outcome() {
            if (probe.seen !== null) return {seconds: (probe.seen - probe.up) / 1000};
            const late = probe.up !== null && performance.now() - probe.up > inkWaitMs;
            return late && probe.ink() === 0 ? {lost: true} : null;
        },
        cleared: () => !probe.predicted() && main().textContent.includes(hint) && probe.canvas() !== null
            && probe.ink() === 0,
        // A DOM click: Playwright's click() first checks the button with layout-forcing hit tests.
        pressClear: () => [...main().querySelectorAll('[data-testid="stButton"] button')]
            .find(button => button.textContent.trim().endsWith("Clear")).click(),
        // Ready for a stroke; returns where the canvas is.
        arm() {
            probe.observer?.disconnect();
            probe.up = probe.seen = null;
            probe.observer = new MutationObserver(() => {
                if (probe.up !== null && probe.seen === null && probe.predicted()) {
                    probe.seen = performance.now();
                    probe.observer.disconnect();
                }
            });
            probe.observer.observe(document.body, {childList: true, subtree: true, characterData: true});
            return probe.box();
        },
    };
    // The stroke's end, on the page's own clock: Playwright's round trips do not count.
    document.addEventListener("mouseup", () => { probe.up = performance.now(); }, true);
}"""
OUTCOME_JS = "() => window.__drawLoad.outcome()"
CLEARED_JS = "() => window.__drawLoad.cleared()"
POLL_MS = 100


# ---- results -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stroke:
    seconds: float  # mouse-up → "Prediction:" in the page, for the attempt that got one
    attempts: int  # 1, unless the stroke was lost and drawn again


@dataclass(frozen=True)
class DrawRound:
    sessions: int
    strokes: list[Stroke]
    server_cpu_seconds: float
    browser_cpu_seconds: float  # Chromium, Playwright's driver and this harness
    renderer_cpu_seconds: float  # of which Chromium's page renderers (scripts, layout, paint)
    wall_seconds: float
    server_core_busy: float | None  # fraction of the server's core busy (anyone's work) during the round
    browser_cores_busy: float | None
    load_before: str
    load_after: str
    other_strokes: int = 0  # strokes of sessions not timed here (the room round's websocket sessions)

    @property
    def server_cpu_per_stroke(self) -> float:
        return self.server_cpu_seconds / (len(self.strokes) + self.other_strokes)

    @property
    def redrawn(self) -> int:
        """Strokes drawn again because the first attempt was lost."""
        return sum(stroke.attempts - 1 for stroke in self.strokes)


@dataclass(frozen=True)
class Browse:
    sessions: int
    visits: dict[str, list[float]]  # seconds per visit, by page title
    exceptions: int
    alive: bool
    rss_before_mib: float
    peak_rss_mib: float
    rss_after_mib: float
    server_share: float  # of its core, while the sessions browsed
    browser_cores_busy: float | None
    load_before: str
    load_after: str


# ---- the machine: cores, CPU time, memory --------------------------------------------------------


@dataclass(frozen=True)
class Cores:
    """Where the server and the browsers run; None: anywhere (a one-core machine)."""

    server: set[int] | None
    browsers: set[int] | None


def cpu_split() -> Cores:
    """The first core for the server and the rest for the browsers, given two or more."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return Cores(None, None)
    return Cores({cpus[0]}, set(cpus[1:]))


def pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of a process (threads it starts later inherit the mask)."""
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except (ProcessLookupError, FileNotFoundError):  # the thread ended meanwhile
            continue


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all threads, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5), counted after ")"
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int, excluding: int, only_renderers: bool = False) -> float:
    """CPU seconds of a process and its live descendants but `excluding`'s tree (here: this harness, Playwright's
    driver and Chromium, not the Streamlit server this harness started); or of its Chromium page renderers only."""
    parents, seconds = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        if not only_renderers or is_renderer(stat.parent):
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return sum(
        seconds[pid]
        for pid in seconds
        if descends_from(pid, root, parents) and not descends_from(pid, excluding, parents)
    )


def is_renderer(process: Path) -> bool:
    """Whether /proc/<pid> is a Chromium renderer (the process that runs a page's scripts, layout and paint)."""
    try:
        return b"--type=renderer" in (process / "cmdline").read_bytes()
    except OSError:
        return False


def descends_from(pid: int, root: int, parents: dict[int, int]) -> bool:
    while pid and pid != root:
        pid = parents.get(pid, 0)
    return pid == root


def core_times() -> dict[int, tuple[int, int]]:
    """(busy, total) jiffies of each core since boot, from /proc/stat."""
    times = {}
    for line in Path("/proc/stat").read_text().splitlines():
        match = re.match(r"cpu(\d+) (.*)", line)
        if match:
            values = [int(v) for v in match.group(2).split()]
            idle = values[3] + values[4]  # idle + iowait
            times[int(match.group(1))] = (sum(values) - idle, sum(values))
    return times


def busy_fraction(before: dict, after: dict, cpus: set[int] | None) -> float | None:
    if not cpus:
        return None
    busy = sum(after[c][0] - before[c][0] for c in cpus)
    total = sum(after[c][1] - before[c][1] for c in cpus)
    return busy / total if total else None


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the other engineers kept the machine."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise ValueError(f"no {field} for process {pid}")


def reset_peak_rss(pid: int) -> None:
    """Start VmHWM (peak resident memory) afresh from the current RSS (proc(5): clear_refs "5")."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# ---- the server ----------------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        if self.process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=10) as response:
                return response.read().decode().strip() == "ok"
        except OSError:
            return False


def start_server(runs_dir: Path, cpus: set[int] | None) -> Server:
    """`streamlit run dashboard/Home.py` on `runs_dir`, pinned to `cpus` from its first moments."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = runs_dir.parent / "streamlit.log"
    env = {**os.environ, "RUNS_DIR": str(runs_dir), "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONUNBUFFERED": "1"}
    process = start_streamlit(port, env, log_path)
    if cpus:
        pin(process.pid, cpus)
    wait_for_health(url, process, log_path)
    return Server(url, process, log_path)


# ---- one session, as a person would use it -------------------------------------------------------


async def wait_for_app(page: Page) -> None:
    """Until Streamlit has finished the current script run."""
    await page.locator(MAIN).wait_for(state="attached")
    await page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(state="attached")
    await page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden")


async def open_session(browser: Browser, url: str) -> Page:
    """A new browser context (its own Streamlit session) on Home; the store's only run is every visitor's default."""
    context = await browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = await context.new_page()
    await page.goto(url)
    await page.locator(f"{MAIN} h1").first.wait_for()
    alert = page.locator(SIDEBAR).locator('[data-testid="stAlert"]').filter(has_text="Active model:")
    await alert.wait_for()
    await wait_for_app(page)
    return page


async def go_to(page: Page, title: str) -> None:
    """Click a page in the sidebar navigation and wait until it has rendered."""
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has=page.get_by_text(title, exact=True))
    await link.click()
    await expect(page.locator(f"{MAIN} h1").first).to_have_text(PAGE_HEADINGS[title], timeout=PAGE_TIMEOUT_MS)
    await wait_for_app(page)


async def draw(page: Page, points: Sequence[tuple[float, float]]) -> None:
    """One freehand stroke through `points` (canvas pixels), mouse down to mouse up, timed by the probe."""
    box = await page.evaluate("() => window.__drawLoad.arm()")
    scale_x, scale_y = box["width"] / CANVAS_SIZE, box["height"] / CANVAS_SIZE
    at = [(box["x"] + x * scale_x, box["y"] + y * scale_y) for x, y in points]
    await page.mouse.move(*at[0])
    await page.mouse.down()
    for point in at[1:]:
        await page.mouse.move(*point, steps=5)
    await page.mouse.up()


async def timed_stroke(page: Page) -> Stroke:
    """Draw a "1" and time it until "Prediction:" shows; a lost stroke is drawn again, and counted.

    Lost: no ink on the canvas (it was being replaced), or no prediction within STROKE_TIMEOUT_MS.
    """
    for attempt in range(1, MAX_STROKE_ATTEMPTS + 1):
        await draw(page, ONE)
        try:
            outcome = await page.wait_for_function(OUTCOME_JS, polling=POLL_MS, timeout=STROKE_TIMEOUT_MS)
        except PlaywrightTimeoutError:
            continue
        result = await outcome.json_value()
        if "seconds" in result:
            return Stroke(result["seconds"], attempt)
    raise RuntimeError(f"no prediction after {MAX_STROKE_ATTEMPTS} strokes")


async def clear(page: Page) -> None:
    """Press Clear and wait for what a person waits for: the hint back and an empty canvas."""
    await page.evaluate("() => window.__drawLoad.pressClear()")
    await page.wait_for_function(CLEARED_JS, polling=POLL_MS, timeout=PAGE_TIMEOUT_MS)


async def draw_and_clear(page: Page, cycles: int) -> list[Stroke]:
    strokes = []
    for _ in range(cycles):
        strokes.append(await timed_stroke(page))
        await clear(page)
    return strokes


async def visit_every_page(page: Page, rounds: int) -> tuple[list[tuple[str, float]], int]:
    """(page title, seconds) of each visit, and how many Streamlit exception boxes were seen."""
    visits, exceptions = [], 0
    for _ in range(rounds):
        for title in PAGE_HEADINGS:
            started = time.perf_counter()
            await go_to(page, title)
            visits.append((title, time.perf_counter() - started))
            exceptions += await page.locator('[data-testid="stException"]').count()
    return visits, exceptions


# ---- the rounds ----------------------------------------------------------------------------------


async def ready_to_draw(browser: Browser, url: str) -> Page:
    page = await open_session(browser, url)
    await go_to(page, "Draw")
    await page.locator("canvas.upper-canvas").wait_for()
    await page.evaluate(PROBE_JS, [DRAW_HINT, INK_WAIT_MS])
    return page


async def draw_round(browser: Browser, server: Server, sessions: int, cycles: int, cores: Cores) -> DrawRound:
    """`sessions` sessions on the Draw page, then all drawing and clearing at once."""
    pages = await asyncio.gather(*(ready_to_draw(browser, server.url) for _ in range(sessions)))
    result = await measured_round(server, cores, [draw_and_clear(page, cycles) for page in pages])
    await asyncio.gather(*(page.context.close() for page in pages))
    return result


async def measured_round(server: Server, cores: Cores, sessions: list, timed_sessions: int | None = None) -> DrawRound:
    """Run every session's draw-and-clear coroutine at once, measuring the server and the clients' CPU.

    The strokes of the first `timed_sessions` sessions (default: all) are the round's; the others' are counted
    only in the server's CPU per stroke.
    """
    pid, load_before = server.process.pid, load_average()
    cpu_before, cores_before, started = cpu_seconds(pid), core_times(), time.perf_counter()
    client_cpu_before = tree_cpu_seconds(os.getpid(), excluding=pid)
    renderer_cpu_before = tree_cpu_seconds(os.getpid(), excluding=pid, only_renderers=True)
    per_session = await asyncio.gather(*sessions)
    wall, cpu_after, cores_after = time.perf_counter() - started, cpu_seconds(pid), core_times()
    timed, others = per_session[:timed_sessions], per_session[timed_sessions:] if timed_sessions else []
    return DrawRound(
        sessions=len(sessions),
        strokes=[stroke for strokes in timed for stroke in strokes],
        other_strokes=sum(len(strokes) for strokes in others),
        server_cpu_seconds=cpu_after - cpu_before,
        browser_cpu_seconds=tree_cpu_seconds(os.getpid(), excluding=pid) - client_cpu_before,
        renderer_cpu_seconds=tree_cpu_seconds(os.getpid(), excluding=pid, only_renderers=True) - renderer_cpu_before,
        wall_seconds=wall,
        server_core_busy=busy_fraction(cores_before, cores_after, cores.server),
        browser_cores_busy=busy_fraction(cores_before, cores_after, cores.browsers),
        load_before=load_before,
        load_after=load_average(),
    )


async def browse_round(
    browser: Browser, server: Server, sessions: int, cores: Cores, rounds: int = BROWSE_ROUNDS
) -> Browse:
    """`sessions` sessions visiting every page at once, `rounds` times, watching the server's memory."""
    pid, load_before = server.process.pid, load_average()
    rss_before = rss_mib(pid)
    reset_peak_rss(pid)
    pages = await asyncio.gather(*(open_session(browser, server.url) for _ in range(sessions)))
    cpu_before, cores_before, started = cpu_seconds(pid), core_times(), time.perf_counter()
    results = await asyncio.gather(*(visit_every_page(page, rounds) for page in pages))
    server_share = (cpu_seconds(pid) - cpu_before) / (time.perf_counter() - started)
    browser_cores_busy = busy_fraction(cores_before, core_times(), cores.browsers)
    peak = rss_mib(pid, "VmHWM")
    alive = server.alive()
    await asyncio.gather(*(page.context.close() for page in pages))
    visits: dict[str, list[float]] = {title: [] for title in PAGE_HEADINGS}
    for session_visits, _ in results:
        for title, seconds in session_visits:
            visits[title].append(seconds)
    await asyncio.sleep(5)  # closed sessions' state is dropped shortly after their sockets close
    return Browse(
        sessions=sessions,
        visits=visits,
        exceptions=sum(count for _, count in results),
        alive=alive and server.alive(),
        rss_before_mib=rss_before,
        peak_rss_mib=peak,
        rss_after_mib=rss_mib(pid),
        server_share=server_share,
        browser_cores_busy=browser_cores_busy,
        load_before=load_before,
        load_after=load_average(),
    )


# ---- the server alone: sessions over the websocket, no browser ------------------------------------


@dataclass
class StreamDrawer:
    """A session on the Draw page over the websocket, and the ids its strokes and Clear need."""

    session: StreamSession
    canvas_id: str
    clear_id: str
    fragment_id: str

    async def stroke(self, state: str) -> float:
        """Send the canvas's state after a stroke; seconds until the prediction arrives."""
        started, seen = time.perf_counter(), []

        def watch(message) -> None:
            if not seen and shows_text(message, "Prediction:"):
                seen.append(time.perf_counter())

        await self.session.run("Draw", [{"id": self.canvas_id, "json_value": state}], self.fragment_id, watch)
        if not seen:
            raise RuntimeError("the stroke's run showed no prediction")
        return seen[0] - started

    async def clear(self, state: str, empty_state: str) -> None:
        """Press Clear, then report the emptied canvas, as the browser's canvas does once it has emptied itself."""
        pressed = [{"id": self.canvas_id, "json_value": state}, {"id": self.clear_id, "trigger_value": True}]
        self.follow_canvas(await self.session.run("Draw", pressed, self.fragment_id))
        await self.session.run("Draw", [{"id": self.canvas_id, "json_value": empty_state}], self.fragment_id)

    def follow_canvas(self, messages) -> None:
        """Use the canvas the run showed: re-created by Clear (as the page once did), it has a new id."""
        for shown in elements(messages):
            if shown.kind == "bidi_component":
                self.canvas_id = shown.proto.id


async def stream_drawer(url: str) -> StreamDrawer:
    """A websocket session with the store's only run loaded, on the Draw page."""
    session, home = await StreamSession.open(url)
    load = element(home, "button", lambda button: button.label == "Load run")
    await session.run("Home", [{"id": load.proto.id, "trigger_value": True}])
    draw = await session.run("Draw")
    canvas = element(draw, "bidi_component")
    clear = element(draw, "button", lambda button: button.label == "Clear")
    return StreamDrawer(session, canvas.proto.id, clear.proto.id, canvas.fragment_id)


async def stream_draw_and_clear(drawer: StreamDrawer, cycles: int) -> list[Stroke]:
    one, empty = canvas_state(ONE, STROKE_WIDTH), canvas_state([], STROKE_WIDTH)
    strokes = []
    for _ in range(cycles):
        strokes.append(Stroke(await drawer.stroke(one), 1))
        await drawer.clear(one, empty)
    return strokes


async def server_alone_round(server: Server, sessions: int, cycles: int, cores: Cores) -> DrawRound:
    """As `draw_round`, with sessions that speak Streamlit's websocket protocol instead of browsers."""
    drawers = await asyncio.gather(*(stream_drawer(server.url) for _ in range(sessions)))
    result = await measured_round(server, cores, [stream_draw_and_clear(drawer, cycles) for drawer in drawers])
    await asyncio.gather(*(drawer.session.close() for drawer in drawers))
    return result


# ---- a room: one person in a browser, the others over the websocket -------------------------------


async def keep_drawing(drawer: StreamDrawer, until: asyncio.Event) -> list[Stroke]:
    """Draw and clear without pause (faster than anyone draws) until `until` is set."""
    one, empty = canvas_state(ONE, STROKE_WIDTH), canvas_state([], STROKE_WIDTH)
    strokes = []
    while not until.is_set():
        strokes.append(Stroke(await drawer.stroke(one), 1))
        await drawer.clear(one, empty)
    return strokes


async def room_round(browser: Browser, server: Server, people: int, strokes: int, cores: Cores) -> DrawRound:
    """One visitor in a real browser draws `strokes` times while `people - 1` others draw over the websocket.

    In a room every visitor's browser runs on their own device; here the visitor's is alone on the browsers'
    core and the others load the server exactly as their browsers would (the same messages), so the visitor's
    seconds are what one person in that room waits, server queueing included.
    """
    page = await ready_to_draw(browser, server.url)
    others = await asyncio.gather(*(stream_drawer(server.url) for _ in range(people - 1)))
    visitor_done = asyncio.Event()

    async def visitor() -> list[Stroke]:
        try:
            return await draw_and_clear(page, strokes)
        finally:
            visitor_done.set()

    sessions = [visitor(), *(keep_drawing(drawer, visitor_done) for drawer in others)]
    result = await measured_round(server, cores, sessions, timed_sessions=1)
    await asyncio.gather(page.context.close(), *(drawer.session.close() for drawer in others))
    return result


# ---- the report ----------------------------------------------------------------------------------


class Chromium:
    """One event loop holding Playwright and one Chromium across the rounds, which run one after another."""

    def __enter__(self) -> Chromium:
        self.loop = asyncio.new_event_loop()
        self.playwright = self.run(async_playwright().start())
        self.browser = self.run(
            self.playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        )
        return self

    def run(self, coroutine):
        return self.loop.run_until_complete(coroutine)

    def __exit__(self, *exc_info) -> None:
        try:
            self.run(self.browser.close())
            self.run(self.playwright.stop())
        finally:
            self.loop.close()


@contextmanager
def pinned_to(cpus: set[int] | None) -> Iterator[None]:
    """This process (and what it starts: Playwright's driver, Chromium) on `cpus`, then back where it was."""
    own_cpus = os.sched_getaffinity(0)
    if cpus:
        pin(os.getpid(), cpus)
    try:
        yield
    finally:
        pin(os.getpid(), own_cpus)


def run(
    data: MnistData | None = None,
    session_counts: Sequence[int] = SESSION_COUNTS,
    cycles: int = CYCLES,
    browse_sessions: int = BROWSE_SESSIONS,
    visitor_strokes: int = VISITOR_STROKES,
) -> Iterator[str]:
    """Measure, yielding the report's lines (markdown) as each round finishes."""
    if not CHROMIUM.exists():
        yield f"skipped: {CHROMIUM} is missing"
        return
    cores = cpu_split()
    with tempfile.TemporaryDirectory() as folder:
        runs_dir = Path(folder) / "runs"
        run_experiment(RUN_CONFIG, data or load_mnist(), RunStore(runs_dir))  # on every core, before pinning
        yield from intro_lines(cores, cycles)
        server = start_server(runs_dir, cores.server)
        try:
            with pinned_to(cores.browsers), Chromium() as chromium:
                yield from rounds(chromium, server, cores, session_counts, cycles, browse_sessions, visitor_strokes)
        finally:
            stop_process_group(server.process)


def rounds(
    chromium: Chromium,
    server: Server,
    cores: Cores,
    session_counts: Sequence[int],
    cycles: int,
    browse_sessions: int,
    visitor_strokes: int,
) -> Iterator[str]:
    """Browsers drawing, the server alone, one visitor in a room, then browsers browsing: each table's lines as
    its rounds finish."""
    # Warm-up: the model's first load and its one compiled forward pass are not measured.
    chromium.run(draw_round(chromium.browser, server, 1, 1, cores))
    yield from draw_table_header()
    for sessions in session_counts:
        yield draw_row(chromium.run(draw_round(chromium.browser, server, sessions, cycles, cores)))
    yield from server_alone_header()
    for sessions in session_counts:
        yield server_alone_row(chromium.run(server_alone_round(server, sessions, cycles, cores)))
    if visitor_strokes:
        yield from room_header(visitor_strokes)
        for people in session_counts:
            yield room_row(chromium.run(room_round(chromium.browser, server, people, visitor_strokes, cores)))
    if browse_sessions:
        yield from browse_lines(chromium.run(browse_round(chromium.browser, server, browse_sessions, cores)))


def intro_lines(cores: Cores, cycles: int) -> list[str]:
    placement = (
        f"the server pinned to core {core_list(cores.server)}, the browsers (one Chromium, a context per session) "
        f"and Playwright to core {core_list(cores.browsers)}"
        if cores.server
        else "one core only: server and browsers share it"
    )
    return [
        f'A short `{RUN_CONFIG.arch}` run loaded in every session; {placement}. Each session draws a "1", '
        f'waits for "Prediction:", presses Clear and waits for the empty canvas, {cycles} times, all sessions '
        "at once. Seconds are the page's own clock from the stroke's mouse-up to \"Prediction:\" in the page; "
        "they include the canvas's 200 ms wait for the end of a stroke before it sends. Server CPU is its "
        "user + system time (/proc/<pid>/stat) over the round divided by the strokes, each stroke's Clear "
        "included; server CPU / wall is the share of its core it used. Browser CPU counts Chromium, "
        "Playwright's driver and this harness (not the server); of it, the page renderers run each page's "
        "scripts, layout and paint (profiled, one session: Fabric's drawing and the frames it asks for about half, "
        "Streamlit's React updates for the stroke and the Clear the rest). A core's busy share counts "
        "anyone's work: the machine is shared, and the load averages (1, 5, 15 min) show how busy the other "
        "engineers kept it.\n",
    ]


def draw_table_header() -> list[str]:
    return [
        "| sessions drawing | strokes | p50 s | p95 s | max s | server CPU s per stroke | server CPU / wall "
        "| server core busy | browser CPU s per stroke | of which page renderers | browser cores busy "
        "| strokes drawn again "
        "| load average before → after |",
        "|" + " --- |" * 13,
    ]


def latency_cells(result: DrawRound, digits: int = 2) -> str:
    """The row's first cells: sessions, timed strokes, and their p50, p95 and slowest seconds."""
    seconds = [stroke.seconds for stroke in result.strokes]
    p50, p95 = np.percentile(seconds, 50), np.percentile(seconds, 95)
    return f"| {result.sessions} | {len(seconds)} | {p50:.{digits}f} | {p95:.{digits}f} | {max(seconds):.{digits}f} "


def draw_row(result: DrawRound) -> str:
    strokes = len(result.strokes)
    return (
        f"{latency_cells(result)}| {result.server_cpu_per_stroke:.3f} "
        f"| {result.server_cpu_seconds / result.wall_seconds:.0%} | {percent(result.server_core_busy)} "
        f"| {result.browser_cpu_seconds / strokes:.2f} | {result.renderer_cpu_seconds / strokes:.2f} "
        f"| {percent(result.browser_cores_busy)} | {result.redrawn} "
        f"| {result.load_before} → {result.load_after} |"
    )


def server_alone_header() -> list[str]:
    return [
        "\nThe server alone: the same rounds with sessions speaking Streamlit's websocket protocol "
        "(`benchmarks/stream_session.py`) instead of browsers, so no rendering competes for the measuring core. "
        "Each sends what the canvas sends after a stroke (its drawing and PNG), then Clear, then the emptied "
        "canvas; seconds run from sending the stroke to receiving the prediction (no 200 ms canvas wait).\n",
        "| sessions drawing | strokes | p50 s | p95 s | max s | server CPU s per stroke | server CPU / wall "
        "| server core busy | load average before → after |",
        "|" + " --- |" * 9,
    ]


def server_alone_row(result: DrawRound) -> str:
    return (
        f"{latency_cells(result, digits=3)}| {result.server_cpu_per_stroke:.3f} "
        f"| {result.server_cpu_seconds / result.wall_seconds:.0%} | {percent(result.server_core_busy)} "
        f"| {result.load_before} → {result.load_after} |"
    )


def room_header(visitor_strokes: int) -> list[str]:
    return [
        f"\nOne person in a room: a visitor in Chromium (alone on the browsers' core, as on their own device) draws "
        f"and clears {visitor_strokes} times while the others draw and clear over the websocket without pause, faster "
        "than anyone draws, until the visitor is done. Seconds are the visitor's page clock, mouse-up to "
        '"Prediction:", as in the first table; server CPU per stroke counts everyone\'s strokes.\n',
        "| people drawing | visitor's strokes | p50 s | p95 s | max s | others' strokes meanwhile "
        "| server CPU s per stroke | server core busy | strokes drawn again | load average before → after |",
        "|" + " --- |" * 10,
    ]


def room_row(result: DrawRound) -> str:
    return (
        f"{latency_cells(result)}| {result.other_strokes} | {result.server_cpu_per_stroke:.3f} "
        f"| {percent(result.server_core_busy)} | {result.redrawn} | {result.load_before} → {result.load_after} |"
    )


def percent(fraction: float | None) -> str:
    return f"{fraction:.0%}" if fraction is not None else "-"


def browse_lines(result: Browse) -> list[str]:
    lines = [
        f"\n{result.sessions} sessions visiting every page at once, {BROWSE_ROUNDS} rounds each; seconds from the "
        f"click in the navigation to the page rendered with its script run finished. The server used "
        f"{result.server_share:.0%} of its core meanwhile, the browsers' cores were "
        f"{percent(result.browser_cores_busy)} busy (load average {result.load_before} → {result.load_after}):\n",
        "| page | visits | median s | p95 s |",
        "| --- | --- | --- | --- |",
    ]
    for title, seconds in result.visits.items():
        lines.append(
            f"| {title} | {len(seconds)} | {statistics.median(seconds):.2f} | {np.percentile(seconds, 95):.2f} |"
        )
    lines.append(
        f"\nServer {'alive' if result.alive else '**not answering**'} afterwards; {result.exceptions} exception "
        f"box(es) seen. Resident memory: {result.rss_before_mib:.0f} MiB before, **peak {result.peak_rss_mib:.0f} "
        f"MiB** while browsing, {result.rss_after_mib:.0f} MiB after the sessions closed."
    )
    return lines


def core_list(cpus: set[int] | None) -> str:
    return ",".join(str(cpu) for cpu in sorted(cpus or ()))


def main(argv: list[str] | None = None) -> int:
    from benchmarks.run import machine_description  # imports TensorFlow, as the training here does anyway

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=list(SESSION_COUNTS), help="sessions per round")
    parser.add_argument("--cycles", type=int, default=CYCLES, help="strokes (each followed by Clear) per session")
    parser.add_argument("--browse-sessions", type=int, default=BROWSE_SESSIONS, help="0 skips the browsing round")
    parser.add_argument(
        "--visitor-strokes", type=int, default=VISITOR_STROKES, help="the room round's visitor; 0 skips that round"
    )
    args = parser.parse_args(argv)
    section = [f"{SECTION_HEADING}\n", f"Machine: {machine_description()}\n"]
    print(*section, sep="\n", flush=True)
    for line in run(None, args.sessions, args.cycles, args.browse_sessions, args.visitor_strokes):
        print(line, flush=True)
        section.append(line)
    write_section(REPORT, SECTION_HEADING, section)
    print(f"\nwritten to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
