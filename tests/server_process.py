"""A real ``rencontres serve`` in a process group of its own, for the multi-process tests.

The server runs on the test's fresh database (the ``db`` fixture made the tables) on a
free port, with ``MAIL_WORKER=off`` unless the caller says otherwise; the context manager
waits until every worker has started and stops the whole group afterwards.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RENCONTRES = [sys.executable, "-m", "web.cli"]
STARTUP_TIMEOUT_S = 90.0
#: What a worker logs once it serves (gunicorn's log format: ``[time] [pid] [level] ...``).
READY = re.compile(r"\[(\d+)\] \[INFO\] Application startup complete")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def children(pid: int) -> list[int]:
    """The processes ``pid`` started (Linux's ``/proc``), oldest first."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:  # the process is gone
        return []
    return [int(child) for child in listed.split()]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    workers: int

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The workers running now that have finished starting (the server's children
        whose "startup complete" is in the log)."""
        ready = {int(pid) for pid in READY.findall(self.log)}
        return [pid for pid in children(self.process.pid) if pid in ready]

    def wait_for_workers(self, timeout: float = STARTUP_TIMEOUT_S) -> list[int]:
        """Until /healthz answers and every worker is up; their process ids."""
        deadline = time.monotonic() + timeout
        while True:
            with suppress(OSError):
                urllib.request.urlopen(f"{self.url}/healthz", timeout=1)
                pids = self.worker_pids()
                if len(pids) >= self.workers:
                    return pids
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(self.log)
            time.sleep(0.2)


@contextmanager
def serve(
    tmp_path: Path, database_url: str, *, workers: int = 2, name: str = "server", **env: str
) -> Iterator[Server]:
    """``rencontres serve --workers N`` on a free port (``env`` adds variables)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": database_url,
        "BASE_URL": url,
        "SECRET_KEY": "server-process-test-" + "k" * 40,
        "MAIL_WORKER": "off",  # mails stay in the outbox: no SMTP, no background thread
        **env,
    }
    log_path = tmp_path / f"{name}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [*RENCONTRES, "serve", "--port", str(port), "--workers", str(workers)],
            env=environment,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the workers are stopped too
        )
        server = Server(url, process, log_path, workers)
        try:
            server.wait_for_workers()
            yield server
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
            with suppress(ProcessLookupError):  # a worker left behind would hold locks
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
