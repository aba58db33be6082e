"""The worker processes of ``rencontres serve`` run with the collector tuned for serving,
fork from a master that already built the app (shared pages, issue 20 item 4), give
their heap's free pages back, and never carry the test-only libraries."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from web.serving import GC_THRESHOLDS, limit_malloc_arenas

PROBE = """
import gc, json
from litestar import Litestar
from web.serving import create_serving_app
app = create_serving_app()
import sys
print(json.dumps({"app": isinstance(app, Litestar), "thresholds": gc.get_threshold(),
                  "frozen": gc.get_freeze_count(), "modules": sorted(sys.modules)}))
"""
#: Installed for the tests only (pyproject's ``dev`` extra): a server must not load them.
TEST_ONLY = ("pytest", "hypothesis", "schemathesis", "playwright", "aiosmtpd", "cv2", "mypy")


def serving_probe(database_url: str, tmp_path: Path, before: str = "") -> dict[str, object]:
    """What a freshly built serving app's process holds (in a process of its own: freezing,
    thresholds and imported modules are process-wide). ``before`` runs first."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 40,
        "MAIL_WORKER": "off",
    }
    done = subprocess.run(
        [sys.executable, "-c", before + PROBE],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def test_a_serving_process_freezes_its_startup_objects_and_collects_less_often(
    database_url: str, tmp_path: Path
) -> None:
    found = serving_probe(database_url, tmp_path)
    assert found["app"] is True
    assert tuple(found["thresholds"]) == GC_THRESHOLDS  # type: ignore[arg-type]
    assert found["frozen"] > 10_000  # type: ignore[operator]  # routes, templates, mappers
    loaded = {name.split(".")[0] for name in found["modules"]}  # type: ignore[attr-defined]
    assert not loaded & set(TEST_ONLY)


def test_the_probe_sees_a_test_only_library_when_one_is_loaded(
    database_url: str, tmp_path: Path
) -> None:
    # Negative control of the check above: the same probe, with hypothesis imported first.
    found = serving_probe(database_url, tmp_path, before="import hypothesis\n")
    loaded = {name.split(".")[0] for name in found["modules"]}  # type: ignore[attr-defined]
    assert "hypothesis" in loaded


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_malloc_arenas_can_be_limited_before_the_fork() -> None:
    assert limit_malloc_arenas() is True


TRIM_PROBE = """
import re, time
from pathlib import Path
from web.serving import start_malloc_trimming
def rss_mib():
    return int(re.search(r"VmRSS:\\s+(\\d+)", Path("/proc/self/status").read_text())[1]) // 1024
blocks = [bytes(4000) + bytes([i % 256]) for i in range(50_000)]  # ~200 MB from malloc
kept = blocks[::10]  # every tenth stays: the freed ones are holes, not the heap's top
full = rss_mib()
del blocks
time.sleep(0.3)
untrimmed = rss_mib()
start_malloc_trimming(0.05)
time.sleep(0.5)
print(full, untrimmed, rss_mib())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_a_worker_gives_freed_heap_pages_back_to_the_system() -> None:
    done = subprocess.run(
        [sys.executable, "-c", TRIM_PROBE], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    full, untrimmed, trimmed = map(int, done.stdout.split())
    # Negative control: freed but fragmented, the pages stay with the process untrimmed.
    assert untrimmed > full - 20
    assert trimmed < untrimmed - 100  # ~180 MB of holes given back
