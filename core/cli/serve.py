"""`python -m core serve`: answer digit predictions over HTTP (core/serving.py) with a saved run or an ensemble.

python -m core serve [RUN_ID | --ensemble RUN_ID RUN_ID ...] [--host 127.0.0.1] [--port 8000]

Without a run, the store's default: the pinned run, else the best by validation accuracy on the
data loaded now (as the dashboard chooses). The model loads once before the server listens; the
address is taken before that, so a port in use is an `error:` line, not a traceback.
"""

from __future__ import annotations

import argparse
import socket

import uvicorn

from core.cli.options import add_data_and_store_options, positive_int
from core.data import load_mnist
from core.errors import ConfigError, RunStoreError
from core.run_selection import default_run
from core.runs import RunStore
from core.serving import DEFAULT_MAX_BATCH, create_app, load_served_model

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_id", nargs="?", metavar="RUN_ID", help="run to serve (default: the default run)")
    parser.add_argument("--ensemble", nargs="+", metavar="RUN_ID", help="serve these runs' averaged probabilities")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--max-batch",
        type=positive_int,
        default=DEFAULT_MAX_BATCH,
        help=f"images per /predict/batch call and per micro-batch (default {DEFAULT_MAX_BATCH})",
    )
    parser.add_argument(
        "--no-micro-batching",
        dest="micro_batching",
        action="store_false",
        help="run each single-image request on its own instead of batching concurrent ones",
    )
    add_data_and_store_options(parser)


def run(args: argparse.Namespace) -> int:
    store = RunStore(args.runs_dir)
    run_ids = chosen_runs(args, store)
    listener = listen(args.host, args.port)
    try:
        served = load_served_model(store, run_ids)
        app = create_app(served, micro_batching=args.micro_batching, max_batch=args.max_batch)
        host, port = listener.getsockname()[:2]
        shown = f"[{host}]" if ":" in host else host
        print(f"serving {served.label} at http://{shown}:{port} (API docs at /docs)", flush=True)
        config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
        uvicorn.Server(config).run(sockets=[listener])
    finally:
        listener.close()
    return 0


def chosen_runs(args: argparse.Namespace, store: RunStore) -> list[str]:
    """The run ids to serve: the one named, the ensemble's, or the store's default run."""
    if args.run_id and args.ensemble:
        raise ConfigError("give a run or --ensemble, not both")
    if args.ensemble:
        if len(set(args.ensemble)) < 2:
            raise ConfigError("an ensemble needs at least two different runs")
        return list(dict.fromkeys(args.ensemble))
    if args.run_id:
        return [args.run_id]
    runs, _ = store.list_runs()
    if not runs:
        raise RunStoreError(f"no saved run in {store.root}: train one (python -m core train) or name one")
    data = load_mnist(args.source, args.data_dir)
    chosen = default_run(runs, data, store.pinned_default())
    if chosen is None:
        raise RunStoreError(f"no run in {store.root} was trained on {data.description}: name the run to serve")
    return [chosen.run_id]


def listen(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or one `error:` line (port in use, unknown address)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, got {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, kind, proto, _, address = infos[0]
        listener = socket.socket(family, kind, proto)
    except OSError as error:
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(address)
        listener.listen(2048)
    except OSError as error:
        listener.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from error
    listener.set_inheritable(True)
    return listener
