"""The prediction API under load: requests/s and latency at 1, 8 and 32 concurrent clients, MLP and CNN.

    .venv/bin/python -m benchmarks.serve_load [--clients 1 8 32] [--seconds 4] [--max-requests 5000]

`python -m core serve` runs on core 0 (`taskset`), this client (an asyncio loop of httpx clients, one
keep-alive connection per client, on 127.0.0.1 only) on core 1. Each client sends a request, waits
for the answer and sends the next, for `seconds` (after a one-second warm-up) or until
`max-requests` answers in all. A request is one 28×28 image as JSON (`POST /predict`); one more round
sends a 200×200 PNG, which goes through the Draw page's preprocessing. Every answer must be 200 with
the expected digit count, else the round fails. Each model is served with and without micro-batching.
Short runs trained on the offline sample are served: speed depends on the layers, not the training.
Measures, never asserts; alone, it rewrites its own section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from benchmarks.report_sections import REPORT, write_section
from core.config import TrainConfig
from core.data import load_sample
from core.experiment import run_experiment
from core.runs import RunStore
from dashboard.server_process import (
    API_HEALTH,
    free_loopback_port,
    server_environment,
    start_api_server,
    stop_process_group,
    wait_for_health,
)

SECTION_HEADING = "## 9. The prediction API under load"
CLIENT_COUNTS = (1, 8, 32)
SECONDS = 4.0
WARM_UP_SECONDS = 1.0
MAX_REQUESTS = 5000
SERVER_CPU, CLIENT_CPU = "0", 1
CONFIGS = {
    "mlp": TrainConfig.for_arch("mlp", epochs=1, train_limit=1000, name="serve load mlp"),
    "cnn": TrainConfig.for_arch("cnn", epochs=1, train_limit=1000, name="serve load cnn"),
}


@dataclass
class Round:
    arch: str
    micro_batching: bool
    request: str
    clients: int
    latencies: list[float]
    seconds: float
    server_cpu_seconds: float
    client_cpu_seconds: float
    batches: int | None
    batched_images: int | None
    load_before: str
    load_after: str

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def row(self) -> str:
        ms = np.array(self.latencies) * 1000
        batch = f"{self.batched_images / self.batches:.1f}" if self.batches else "-"
        return (
            f"| {self.arch} | {'on' if self.micro_batching else 'off'} | {self.request} | {self.clients} "
            f"| {len(ms)} | **{self.rate:.0f}** | {np.percentile(ms, 50):.1f} | **{np.percentile(ms, 95):.1f}** "
            f"| {ms.max():.1f} | {batch} | {self.server_cpu_seconds / len(ms) * 1000:.2f} "
            f"| {self.server_cpu_seconds / self.seconds:.0%} "
            f"| {self.client_cpu_seconds / self.seconds:.0%} | {self.load_before} → {self.load_after} |"
        )


def summary(rounds: list[Round]) -> list[str]:
    """The goal's figures (MLP, single images, 32 clients), and each server's capacity on a core of its own.

    The machine is shared, so the server rarely has its core to itself: its CPU time per request
    gives what one free core would serve (1000 / ms per request), whatever the load was.
    """
    lines = ["\nCapacity on a core of its own, from the server's CPU time per request at the most clients:\n"]
    most = max(r.clients for r in rounds)
    for r in rounds:
        if r.clients == most:
            per_request_ms = r.server_cpu_seconds / len(r.latencies) * 1000
            lines.append(
                f"- {r.arch}, {r.request}, micro-batching {'on' if r.micro_batching else 'off'}: "
                f"{per_request_ms:.2f} ms → about **{1000 / per_request_ms:.0f} requests/s**; measured "
                f"{r.rate:.0f}/s with the server getting {r.server_cpu_seconds / r.seconds:.0%} of its core"
            )
    return lines


def header() -> list[str]:
    return [
        "| model | micro-batching | request | clients | requests | requests/s | p50 ms | p95 ms | max ms "
        "| images per pass | server CPU ms per request | server CPU / wall | client CPU / wall "
        "| load average before → after |",
        "|" + " --- |" * 14,
    ]


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def health(url: str) -> dict:
    with urllib.request.urlopen(f"{url}{API_HEALTH}", timeout=10) as response:
        return json.loads(response.read())


async def drive(url: str, body: bytes, content_type: str, clients: int, seconds: float, max_requests: int):
    """`clients` loops of request-then-wait; the latencies of the answers, and the seconds they took.

    Each client has its own httpx client and connection: one shared pool of 32 connections cost
    httpx twice the CPU per request, and the client's core ran out before the server's.
    """
    latencies: list[float] = []
    headers = {"content-type": content_type}
    sessions = [httpx.AsyncClient(base_url=url, timeout=30, trust_env=False) for _ in range(clients)]

    async def one_client(client: httpx.AsyncClient, deadline: float, record: bool) -> None:
        while time.perf_counter() < deadline and (not record or len(latencies) < max_requests):
            start = time.perf_counter()
            response = await client.post("/predict", content=body, headers=headers)
            elapsed = time.perf_counter() - start
            if response.status_code != 200 or len(response.json()["probabilities"]) != 10:
                raise RuntimeError(f"answer {response.status_code}: {response.text[:200]}")
            if record:
                latencies.append(elapsed)

    try:
        warm_until = time.perf_counter() + WARM_UP_SECONDS
        await asyncio.gather(*(one_client(client, warm_until, False) for client in sessions))
        start = time.perf_counter()
        await asyncio.gather(*(one_client(client, start + seconds, True) for client in sessions))
        return latencies, time.perf_counter() - start
    finally:
        await asyncio.gather(*(client.aclose() for client in sessions))


def request_bodies(image: np.ndarray) -> dict[str, tuple[bytes, str]]:
    png = io.BytesIO()
    Image.fromarray(255 - image).resize((200, 200), Image.Resampling.BILINEAR).save(png, "PNG")
    return {
        "28×28 JSON": (json.dumps({"pixels": image.tolist(), "scale": 255}).encode(), "application/json"),
        "200×200 PNG": (png.getvalue(), "image/png"),
    }


def serve_rounds(
    store: RunStore, run_id: str, arch: str, micro_batching: bool, plan: list[tuple[str, int]], args, workdir: Path
):
    bodies = request_bodies(load_sample().x_test[0])
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}"
    log_path = workdir / f"serve-{arch}-{micro_batching}.log"
    serve_args = [run_id, "--runs-dir", str(store.root), *([] if micro_batching else ["--no-micro-batching"])]
    env = server_environment(store.root, workdir / "keras-home")
    cpus = SERVER_CPU if (os.cpu_count() or 1) >= 2 else None
    process = start_api_server(port, env, log_path, serve_args, cpus=cpus)
    try:
        wait_for_health(url, process, log_path, API_HEALTH)
        for request, clients in plan:
            body, content_type = bodies[request]
            before, load_before = health(url), load_average()
            server_before, client_before = process_cpu_seconds(process.pid), time.process_time()
            latencies, seconds = asyncio.run(drive(url, body, content_type, clients, args.seconds, args.max_requests))
            server_cpu = process_cpu_seconds(process.pid) - server_before
            client_cpu = time.process_time() - client_before
            after = health(url)
            batches = after["batches"] - before["batches"] if micro_batching else None
            images = after["batched_images"] - before["batched_images"] if micro_batching else None
            yield Round(
                arch, micro_batching, request, clients, latencies, seconds, server_cpu, client_cpu,
                batches, images, load_before, load_average(),
            )  # fmt: skip
    finally:
        stop_process_group(process)


def pin_this_process(cpu: int) -> None:
    """Every thread of this process on `cpu` (sched_setaffinity(0) moves only the calling thread)."""
    for thread_id in os.listdir("/proc/self/task"):
        os.sched_setaffinity(int(thread_id), {cpu})


def run(args) -> list[str]:
    if (os.cpu_count() or 1) >= 2:
        pin_this_process(CLIENT_CPU)
    lines = [
        "`python -m core serve` pinned to core 0, the client (`benchmarks/serve_load.py`: asyncio and httpx, one "
        f"keep-alive connection per client) to core 1; each client sends its next request when the last is "
        f"answered, for {args.seconds:g} s after a {WARM_UP_SECONDS:g} s warm-up (at most {args.max_requests:,} "
        "requests). *Images per pass*: single-image requests answered per forward pass by the micro-batcher. "
        "CPU shares are of one core; the load averages (1, 5, 15 min) show how busy the other users kept the "
        "machine. Latency is the client's, from sending to the parsed answer, so the client's own Python "
        "counts in it.\n",
        *header(),
    ]
    print(*lines, sep="\n", flush=True)
    rounds: list[Round] = []
    with tempfile.TemporaryDirectory(prefix="serve-load-") as folder:
        workdir = Path(folder)
        store = RunStore(workdir / "runs")
        data = load_sample()
        for arch in args.archs:
            run_id = run_experiment(CONFIGS[arch], data, store).run.run_id
            for micro_batching in (True, False):
                plan = [("28×28 JSON", clients) for clients in args.clients]
                if arch == "mlp" and micro_batching:
                    plan.append(("200×200 PNG", max(args.clients)))
                for result in serve_rounds(store, run_id, arch, micro_batching, plan, args, workdir):
                    rounds.append(result)
                    lines.append(result.row())
                    print(lines[-1], flush=True)
    capacity = summary(rounds)
    print(*capacity, sep="\n", flush=True)
    return lines + capacity


def main(argv: list[str] | None = None) -> int:
    from benchmarks.run import machine_description  # imports TensorFlow, as the training here does anyway

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, nargs="+", default=list(CLIENT_COUNTS), help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=SECONDS, help="measured seconds per round")
    parser.add_argument("--max-requests", type=int, default=MAX_REQUESTS, help="answers per round at most")
    parser.add_argument("--archs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    args = parser.parse_args(argv)
    section = [f"{SECTION_HEADING}\n", f"Machine: {machine_description()}\n"]
    print(*section, sep="\n", flush=True)
    section += run(args)
    write_section(REPORT, SECTION_HEADING, section)
    print(f"\nwritten to {REPORT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
