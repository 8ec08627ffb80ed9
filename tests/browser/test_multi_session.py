"""Several browser sessions on one server, training jobs that outlive pages, reloads and crashes.

Each Playwright browser context is a Streamlit session of its own. The Playwright sync API is
single-threaded, so "at the same time" means step by step: every session clicks, then every
session waits, so the server handles the sessions' script runs concurrently.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

from core.config import TrainConfig
from core.data import load_sample
from core.experiment import run_experiment
from core.runs import RunInfo, RunStore
from dashboard.page_registry import PAGES
from dashboard.server_process import (
    VIEWPORT,
    free_loopback_port,
    server_environment,
    start_streamlit,
    stop_process_group,
    wait_for_health,
)
from tests.support.browser import (
    APP_TIMEOUT_MS,
    DEFAULT_TIMEOUT_MS,
    MAIN,
    PAGE_HEADINGS,
    ConsoleLog,
    active_model_alert,
    assert_no_exception_boxes,
    canvas_ink_pixels,
    draw_stroke,
    ellipse_zero,
    fill_training_form,
    load_saved_run,
    metric_value,
    open_expander,
    progress_bar,
    runs_named,
    screenshot,
    select_option,
    selectbox_options,
    sidebar,
    vertical_one,
    wait_for_app,
    wait_for_empty_canvas,
    wait_for_finish,
    wait_for_images,
)

CANCELLED = "Training cancelled; nothing was saved."
JOB_LINE = re.compile(r"^Training [a-z_]+ · (job-[A-Za-z0-9_-]{22})$")  # core.jobs.new_job_id
OTHER_JOBS = re.compile(r"^\d+ other training job\(s\) running on this server\.$")
RELOAD_EPOCHS = 5  # of deep_cnn (~2.5 s each on the fast host): still running after the reload
FILTER_PREFERENCE = (8, 2, 9, 5, 3, 7, 4, 6, 0, 1)  # digits the MLPs get wrong most often first
# Misclassifications last: the five-session test goes on with its gallery after the tour.
EVERY_PAGE = [page.title for page in PAGES if page.title != "Misclassifications"] + ["Misclassifications"]
DRAW_HINT = "Draw a digit on the black canvas to see what the model predicts."
DRAWING_SESSIONS = 4
DRAW_CLEAR_ROUNDS = 2


# ---- sessions ------------------------------------------------------------------------------------


@dataclass
class Session:
    """One browser context on the app: its own cookies, its own Streamlit session."""

    name: str
    context: BrowserContext
    page: Page
    console: ConsoleLog

    def check(self) -> None:
        """No Streamlit exception box on the page and no browser console error so far."""
        assert_no_exception_boxes(self.page)
        self.console.assert_clean()


def new_session(browser: Browser, name: str) -> Session:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(DEFAULT_TIMEOUT_MS)
    page = context.new_page()
    return Session(name, context, page, ConsoleLog(page))


@pytest.fixture
def sessions(request, browser, streamlit_server) -> Iterator[Callable[[str], Session]]:
    """A factory of sessions on the shared server; at the end every one must be error-free.

    The test also fails when the server logged a traceback meanwhile. A failed test leaves a
    screenshot of each session's page as artifacts/screenshots/FAILED-<test>-<session>.png.
    """
    opened: list[Session] = []
    log_offset = streamlit_server.log_size()

    def open_session(name: str) -> Session:
        session = new_session(browser, name)
        opened.append(session)
        return session

    yield open_session
    report = getattr(request.node, "report_call", None)
    for session in opened:
        if report is not None and report.failed:
            screenshot(session.page, f"FAILED-{request.node.name}-{session.name}")
        session.context.close()
    for session in opened:
        session.console.assert_clean()
    traceback = streamlit_server.tracebacks_since(log_offset)
    assert not traceback, f"the server logged a traceback during the test:\n{traceback}"


def goto_all(sessions: list[Session], url: str) -> None:
    """Open the app in every session, then wait for each to render."""
    for session in sessions:
        session.page.goto(url)
    for session in sessions:
        expect(session.page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
        wait_for_app(session.page)


def click_nav(page: Page, title: str) -> None:
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has=page.get_by_text(title, exact=True))
    link.click()


def wait_for_page(page: Page, title: str) -> None:
    expect(page.locator(f"{MAIN} h1").first).to_have_text(PAGE_HEADINGS[title], timeout=APP_TIMEOUT_MS)
    wait_for_app(page)


def job_in_url(page: Page) -> str | None:
    return parse_qs(urlparse(page.url).query).get("job", [None])[0]


# ---- training from the sidebar -------------------------------------------------------------------


def wait_for_progress(page: Page, epochs: int) -> str:
    """Wait until the sidebar shows the session's job training; returns the job id it names."""
    expect(progress_bar(page)).to_contain_text(re.compile(rf"Epoch \d+/{epochs} · \d+ s"), timeout=APP_TIMEOUT_MS)
    line = sidebar(page).get_by_text(JOB_LINE)
    expect(line).to_be_visible()
    return JOB_LINE.match(line.inner_text().strip()).group(1)


# ---- drawing -------------------------------------------------------------------------------------


def drawn_prediction(page: Page) -> Locator:
    return page.locator(MAIN).get_by_role("heading", name=re.compile(r"^Prediction:"))


def draw_once(page: Page, stroke) -> None:
    """One stroke, not drawn again if it leaves no ink: a lost stroke fails the test."""
    draw_stroke(page, stroke, attempts=1)
    assert canvas_ink_pixels(page) > 1_000, "the stroke was lost: no ink on the canvas"


def wait_until_cleared(page: Page) -> None:
    """What a person waits for after Clear: the hint, no prediction, an empty canvas (not the script's end)."""
    expect(page.locator(MAIN).get_by_text(DRAW_HINT)).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(drawn_prediction(page)).to_have_count(0)
    wait_for_empty_canvas(page)


def mark_canvas(page: Page, mark: str) -> None:
    """Tag the canvas element, to tell later whether it is still the same one."""
    page.locator("canvas.upper-canvas").evaluate("(canvas, mark) => { canvas.dataset.sessionMark = mark; }", mark)


def marked_canvas(page: Page, mark: str) -> Locator:
    return page.locator(f'canvas.upper-canvas[data-session-mark="{mark}"]')


# ---- misclassifications --------------------------------------------------------------------------


def true_digit_filter(page: Page) -> Locator:
    return page.locator(MAIN).locator('[data-testid="stSelectbox"]').filter(has_text="True digit")


CAPTIONS_JS = """(part) => {
    const main = document.querySelector('[data-testid="stMain"]');
    const sample = [...main.querySelectorAll("h3")].find(h => h.textContent.startsWith("Random sample"));
    return [...main.querySelectorAll('[data-testid="stCaptionContainer"]')]
        .filter(caption => /true \\d/.test(caption.textContent))
        .filter(caption => {
            const before = Boolean(caption.compareDocumentPosition(sample) & Node.DOCUMENT_POSITION_FOLLOWING);
            return part === "gallery" ? before : !before;
        })
        .map(caption => caption.textContent.trim());
}"""


def gallery_captions(page: Page, part: str = "gallery") -> list[str]:
    """Captions of the filtered gallery ("gallery") or of the random sample ("sample").

    Document order, not screen position: images still loading move things down.
    """
    return page.evaluate(CAPTIONS_JS, part)


def gallery_true_digits(page: Page) -> list[int]:
    return [int(re.search(r"true (\d)", caption).group(1)) for caption in gallery_captions(page)]


def new_random_sample(page: Page) -> None:
    """Click "New sample" and wait until the rerun shows another sample."""
    before = gallery_captions(page, "sample")
    page.locator(MAIN).get_by_role("button", name="New sample").click()
    page.wait_for_function(
        f"before => JSON.stringify(({CAPTIONS_JS})('sample')) !== JSON.stringify(before)",
        arg=before,
        timeout=APP_TIMEOUT_MS,
    )


def filter_digits(models: list[RunInfo]) -> list[int]:
    """A different True digit filter per session, each one its model gets wrong at least once."""
    chosen: list[int] = []
    for run in models:
        confusion = run.record.test_metrics.confusion
        errors = {digit: sum(confusion[digit]) - confusion[digit][digit] for digit in range(10)}
        chosen.append(next(d for d in FILTER_PREFERENCE if errors[d] and d not in chosen))
    return chosen


def check_filter(session: Session, digit: int, run: RunInfo) -> None:
    """The session's own True digit filter, over its own model's errors."""
    page = session.page
    expect(true_digit_filter(page).locator("input")).to_have_value(str(digit))
    summary = page.locator(MAIN).get_by_text(re.compile(r"misclassified test images match the filters"))
    metrics = run.record.test_metrics
    row = metrics.confusion[digit]
    matching = sum(row) - row[digit]  # this model's errors on this digit (the run's confusion matrix)
    expect(summary).to_have_text(f"{matching} of the {metrics.errors} misclassified test images match the filters.")
    # Until the rerun ends, Streamlit may still show the previous gallery's stale elements.
    expected = min(matching, 32)
    page.wait_for_function(
        f"part => ({CAPTIONS_JS})(part).length === {expected}", arg="gallery", timeout=APP_TIMEOUT_MS
    )
    shown = gallery_true_digits(page)
    assert len(shown) == expected, (session.name, shown)
    assert set(shown) == {digit}, (session.name, digit, shown)


# ---- 1. two trainings at once --------------------------------------------------------------------


def test_two_sessions_train_at_the_same_time(sessions, streamlit_server):
    url, store = streamlit_server.url, RunStore(streamlit_server.runs_dir)
    names = {"a": "ms-alpha", "b": "ms-beta"}
    pair = [sessions(key) for key in names]
    goto_all(pair, url)
    buttons = [fill_training_form(s.page, names[s.name], epochs=2) for s in pair]
    for button in buttons:  # back to back: both jobs start within a fraction of a second
        button.click()

    job_ids = [wait_for_progress(s.page, 2) for s in pair]
    assert job_ids[0] != job_ids[1]
    assert [job_in_url(s.page) for s in pair] == job_ids
    # B started while A's job was running, and its sidebar counts A's job as another one.
    expect(sidebar(pair[1].page).get_by_text(OTHER_JOBS)).to_be_visible()
    for session in pair:
        session.check()

    for session in pair:
        wait_for_finish(session.page)
    alpha, beta = (runs_named(store, names[s.name]) for s in pair)
    assert len(alpha) == 1 and len(beta) == 1, store.list_runs()
    assert alpha[0].run_id != beta[0].run_id
    _, damaged = store.list_runs()
    assert not damaged
    for session, run in zip(pair, (alpha[0], beta[0]), strict=True):
        assert run.config.epochs == 2 and run.config.name == names[session.name]
        expect(active_model_alert(session.page)).to_contain_text(f"Active model: {run.label}")
        wait_for_app(session.page)
        session.check()
    screenshot(pair[0].page, "50-two-trainings-a")
    screenshot(pair[1].page, "51-two-trainings-b")


# ---- 2. five sessions browse while one trains -----------------------------------------------------


def test_five_sessions_browse_while_one_trains(sessions, streamlit_server, quick_run):
    url, store = streamlit_server.url, RunStore(streamlit_server.runs_dir)
    older = streamlit_server.older_run

    trainer = sessions("trainer")
    goto_all([trainer], url)
    # The deep convnet at its lowest rate: 100 epochs take minutes even on a fast host, so the job
    # outlasts the browsing below (100 epochs of the MLP took 15 s here).
    fill_training_form(trainer.page, "ms-long", epochs=100, patience=20, slow=True, arch="deep_cnn").click()
    job_id = wait_for_progress(trainer.page, 100)

    # Five browsing sessions: runs alternate (different active models side by side); sessions
    # 0 and 2 draw different digits; each session filters Misclassifications by its own digit.
    browsers = [sessions(f"s{i}") for i in range(5)]
    models = [quick_run, older, quick_run, older, quick_run]
    digits = filter_digits(models)
    drawings = {0: (vertical_one(), 1), 2: (ellipse_zero(), 0)}
    goto_all(browsers, url)
    for session, run in zip(browsers, models, strict=True):
        load_saved_run(session.page, run.run_id)

    for title in EVERY_PAGE:
        for session in browsers:  # every session asks for the page, then each one is checked
            click_nav(session.page, title)
        for session, run in zip(browsers, models, strict=True):
            page = session.page
            wait_for_page(page, title)
            if title == "Training curves":
                epochs_run = f"{run.record.stopped_epoch} / {run.config.epochs}"
                expect(metric_value(page, "Epochs run")).to_have_text(epochs_run, timeout=APP_TIMEOUT_MS)
            elif title == "Weights":
                units = run.config.hidden_units[0]
                expect(page.locator(MAIN).get_by_text(re.compile(r"^Each tile is one of the"))).to_contain_text(
                    f"{units} units"
                )
            elif title == "Activations":
                expect(page.locator(MAIN).get_by_text(re.compile(r"^Output: predicted \d"))).to_be_visible()
            wait_for_images(page)
            session.check()
        if title == "Draw":
            for index, (stroke, _) in drawings.items():
                draw_stroke(browsers[index].page, stroke)
                assert canvas_ink_pixels(browsers[index].page) > 1_000
            for index, (_, digit) in drawings.items():
                expect(drawn_prediction(browsers[index].page)).to_have_text(
                    f"Prediction: {digit}", timeout=APP_TIMEOUT_MS
                )
                wait_for_app(browsers[index].page)
            for index, session in enumerate(browsers):  # nobody sees another session's drawing
                if index in drawings:
                    expect(drawn_prediction(session.page)).to_have_text(f"Prediction: {drawings[index][1]}")
                else:
                    expect(drawn_prediction(session.page)).to_have_count(0)
                    assert canvas_ink_pixels(session.page) == 0
        if title == "Misclassifications":
            for session, digit in zip(browsers, digits, strict=True):
                select_option(session.page, true_digit_filter(session.page), str(digit), exact=True)
            for session, digit, run in zip(browsers, digits, models, strict=True):
                wait_for_app(session.page)
                check_filter(session, digit, run)
                wait_for_images(session.page)

    # After everyone acted, each session reruns its script and still shows its own state.
    for session in browsers:
        new_random_sample(session.page)
    for session, digit, run in zip(browsers, digits, models, strict=True):
        page = session.page
        wait_for_app(page)
        check_filter(session, digit, run)
        wait_for_images(page)
        expect(active_model_alert(page)).to_contain_text(f"Active model: {run.label}")
        # The training is session A's: the others see it only as "another job", with no progress
        # bar and no job in their URL.
        expect(progress_bar(page)).to_have_count(0)
        expect(sidebar(page).get_by_text(OTHER_JOBS)).to_be_visible()
        assert job_in_url(page) is None
        session.check()

    # The drawings live in each session's state: Activations shows the session's own last digit.
    for index in drawings:
        click_nav(browsers[index].page, "Activations")
    for index, (_, digit) in drawings.items():
        page = browsers[index].page
        wait_for_page(page, "Activations")
        page.locator(MAIN).get_by_text("last drawn digit", exact=True).click()
        expect(page.locator(MAIN).get_by_text("your drawing, as the model sees it")).to_be_visible(
            timeout=APP_TIMEOUT_MS
        )
        wait_for_app(page)  # the rerun is over: the test image's output is gone
        expect(page.locator(MAIN).get_by_text(re.compile(r"^Output: predicted"))).to_contain_text(f"predicted {digit} ")
        wait_for_images(page)
        browsers[index].check()
    screenshot(browsers[0].page, "52-five-sessions-s0-activations")

    # The long training ran through all of it; session A cancels it, and nothing is saved.
    page = trainer.page
    assert wait_for_progress(page, 100) == job_id
    expect(active_model_alert(page)).not_to_contain_text("ms-long")  # still the model it landed with
    sidebar(page).get_by_role("button", name="Cancel training").click()
    expect(sidebar(page).get_by_text(CANCELLED)).to_be_visible(timeout=APP_TIMEOUT_MS)
    expect(progress_bar(page)).to_have_count(0)
    assert runs_named(store, "ms-long") == []
    trainer.check()
    screenshot(page, "53-training-cancelled")


# ---- 3. several sessions draw, clear and draw again ----------------------------------------------


def test_sessions_drawing_at_once_never_lose_the_stroke_after_clear(sessions, streamlit_server, quick_run):
    """Every session draws, clears and draws again at the same time; each second stroke gets its prediction.

    A stroke is drawn once (a lost one fails the test) as soon as the canvas shows empty, without waiting
    for the server's run to end; the canvas is the same element throughout (Clear does not re-create it).
    """
    drawers = [sessions(f"draw{i}") for i in range(DRAWING_SESSIONS)]
    goto_all(drawers, streamlit_server.url)
    for session in drawers:
        load_saved_run(session.page, quick_run.run_id)
    for session in drawers:
        click_nav(session.page, "Draw")
    for session in drawers:
        wait_for_page(session.page, "Draw")
        mark_canvas(session.page, session.name)

    for _ in range(DRAW_CLEAR_ROUNDS):
        for stroke, digit in ((vertical_one(), 1), (ellipse_zero(), 0)):
            for session in drawers:  # every session draws, then each one is checked
                draw_once(session.page, stroke)
            for session in drawers:
                expect(drawn_prediction(session.page)).to_have_text(f"Prediction: {digit}", timeout=APP_TIMEOUT_MS)
            for session in drawers:
                session.page.locator(MAIN).get_by_role("button", name="Clear").click()
            for session in drawers:
                wait_until_cleared(session.page)
                expect(marked_canvas(session.page, session.name)).to_have_count(1)
    for session in drawers:
        wait_for_app(session.page)
        session.check()
    screenshot(drawers[0].page, "56-sessions-drawing-cleared")


# ---- 4. reload during training ------------------------------------------------------------------


def test_reload_during_training_keeps_the_job(sessions, streamlit_server):
    store = RunStore(streamlit_server.runs_dir)
    session = sessions("reloader")
    page = session.page
    goto_all([session], streamlit_server.url)
    fill_training_form(page, "ms-reload", epochs=RELOAD_EPOCHS, slow=True, arch="deep_cnn").click()
    job_id = wait_for_progress(page, RELOAD_EPOCHS)
    assert job_in_url(page) == job_id

    page.reload()
    expect(page.locator(f"{MAIN} h1").first).to_be_visible(timeout=APP_TIMEOUT_MS)
    # A new Streamlit session: it finds the job through the URL and follows it.
    assert wait_for_progress(page, RELOAD_EPOCHS) == job_id
    assert job_in_url(page) == job_id
    screenshot(page, "54-reload-during-training")

    wait_for_finish(page)
    (run,) = runs_named(store, "ms-reload")
    expect(active_model_alert(page)).to_contain_text(f"Active model: {run.label}")
    wait_for_app(page)
    session.check()


# ---- 5. kill the server during training ----------------------------------------------------------


@dataclass
class OwnServer:
    url: str
    process: subprocess.Popen
    log_path: Path


def start_server(runs_dir: Path, keras_home: Path, log_path: Path) -> OwnServer:
    """`streamlit run dashboard/Home.py` on a free port, in its own process group (as conftest)."""
    port = free_loopback_port()
    process = start_streamlit(port, server_environment(runs_dir, keras_home), log_path)
    return OwnServer(f"http://127.0.0.1:{port}", process, log_path)


def test_killed_server_leaves_only_complete_runs(browser, tmp_path):
    runs_dir, keras_home, log_path = tmp_path / "runs", tmp_path / "keras-home", tmp_path / "streamlit.log"
    runs_dir.mkdir()
    keras_home.mkdir()
    store = RunStore(runs_dir)
    servers: list[OwnServer] = []
    contexts: list[BrowserContext] = []
    try:
        servers.append(start_server(runs_dir, keras_home, log_path))
        config = TrainConfig.for_arch("mlp", hidden_units=(16,), epochs=1, seed=5, name="survivor")
        survivor = run_experiment(config, load_sample(), store).run  # while the server boots
        wait_for_health(servers[0].url, servers[0].process, log_path)

        doomed = new_session(browser, "doomed")
        contexts.append(doomed.context)
        goto_all([doomed], servers[0].url)
        fill_training_form(doomed.page, "ms-killed", epochs=20).click()
        wait_for_progress(doomed.page, 20)
        doomed.check()

        os.killpg(servers[0].process.pid, signal.SIGKILL)
        servers[0].process.wait(timeout=15)
        contexts.remove(doomed.context)
        doomed.context.close()  # its page now reports the lost connection, as it should

        runs, damaged = store.list_runs()
        assert [run.run_id for run in runs] == [survivor.run_id]
        assert damaged == []
        visible = sorted(path.name for path in runs_dir.iterdir() if not path.name.startswith("."))
        assert visible == [survivor.run_id]  # no half-written run folder under a run's name

        servers.append(start_server(runs_dir, keras_home, log_path))
        wait_for_health(servers[1].url, servers[1].process, log_path)
        log_offset = log_path.stat().st_size
        session = new_session(browser, "after-restart")
        contexts.append(session.context)
        page = session.page
        goto_all([session], servers[1].url)
        # The only complete run is the new visitor's default, and the only run listed.
        expect(active_model_alert(page)).to_contain_text(f"Active model: {survivor.run_id}")
        loader = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Load a saved run")
        open_expander(loader)
        assert selectbox_options(page, loader.locator('[data-testid="stSelectbox"]')) == [survivor.label]
        expect(loader.get_by_text(re.compile(r"^Skipped \d+ damaged"))).to_have_count(0)
        expect(sidebar(page).get_by_text(JOB_LINE)).to_have_count(0)  # the killed job is gone

        load_saved_run(page, survivor.run_id)
        for title in ("Training curves", "Per-class metrics", "Weights", "Draw"):
            click_nav(page, title)
            wait_for_page(page, title)
            if title == "Training curves":
                expect(metric_value(page, "Epochs run")).to_have_text("1 / 1")
            elif title == "Weights":
                expect(page.locator(MAIN).get_by_text(re.compile(r"^Each tile is one of the"))).to_contain_text(
                    "16 units"
                )
            session.check()
        expect(page.locator("canvas.upper-canvas")).to_be_visible()
        screenshot(page, "55-after-restart")
        with log_path.open("rb") as log:
            log.seek(log_offset)
            assert b"Traceback (most recent call last)" not in log.read()
    finally:
        for context in contexts:
            context.close()
        for server in servers:
            stop_process_group(server.process)
