"""A throw-away PostgreSQL server for the tests: initdb in a temporary folder, a unix socket there, no TCP.

`make test` installs Debian's `postgresql` when it is missing (as it installs chromium); its server
binaries live in /usr/lib/postgresql/<version>/bin, outside PATH. PostgreSQL refuses to run as root,
so as root the server runs as the `postgres` user the package creates (runuser). The folder is
removed when the server stops.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SUPERUSER = "digitlab"
SERVER_USER = "postgres"  # as root


def server_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: Debian's newest version, else whatever PATH has."""
    versions = sorted(
        (path.parent for path in DEBIAN_BINARIES.glob("*/bin/initdb")),
        key=lambda folder: int(folder.parent.name) if folder.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1]
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def unavailable_reason() -> str | None:
    """Why no server can be started here, or None when one can."""
    if server_binaries() is None:
        return (
            "PostgreSQL's server binaries (initdb, pg_ctl) are not installed: `make test` installs Debian's postgresql"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return "running as root without a 'postgres' user for the server (PostgreSQL refuses to run as root)"
        if shutil.which("runuser") is None:
            return "running as root without runuser to start the server as 'postgres'"
    return None


@contextmanager
def throwaway_server() -> Iterator[str]:
    """Start a server; yield its SQLAlchemy URL (psycopg 3, unix socket); stop it and remove its files."""
    binaries = server_binaries()
    folder = Path(tempfile.mkdtemp(prefix="digitlab-pg-"))  # short: a socket path must stay under 108 bytes
    as_server_user: list[str] = []
    if os.geteuid() == 0:
        account = pwd.getpwnam(SERVER_USER)
        os.chown(folder, account.pw_uid, account.pw_gid)
        as_server_user = ["runuser", "-u", SERVER_USER, "--"]
    folder.chmod(0o755)
    data, log = folder / "data", folder / "server.log"
    pg_ctl = [*as_server_user, str(binaries / "pg_ctl"), "-D", str(data)]
    try:
        _run([*as_server_user, str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust",
              "--no-sync", "--encoding=UTF8", "--locale=C"])  # fmt: skip
        options = f"-k {folder} -c listen_addresses='' -c fsync=off -c full_page_writes=off"
        _run([*pg_ctl, "-l", str(log), "-o", options, "-w", "-t", "60", "start"], log)
        try:
            yield f"postgresql+psycopg://{SUPERUSER}@/postgres?host={folder}"
        finally:
            _run([*pg_ctl, "-m", "immediate", "-w", "stop"], log)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(command: list[str], log: Path | None = None) -> None:
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        server_log = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{' '.join(command[:4])}… failed:\n{result.stdout}\n{result.stderr}\n{server_log}")
