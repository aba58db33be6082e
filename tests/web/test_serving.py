"""The worker processes of ``rencontres serve`` run with the collector tuned for serving."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from web.serving import GC_THRESHOLDS

PROBE = """
import gc, json
from litestar import Litestar
from web.serving import create_serving_app
app = create_serving_app()
print(json.dumps({"app": isinstance(app, Litestar), "thresholds": gc.get_threshold(),
                  "frozen": gc.get_freeze_count()}))
"""


def test_a_serving_process_freezes_its_startup_objects_and_collects_less_often(
    database_url: str, tmp_path: Path
) -> None:
    # In a process of its own: freezing and thresholds are process-wide.
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DATA_DIR": str(tmp_path),
        "SECRET_KEY": "k" * 40,
        "MAIL_WORKER": "off",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["app"] is True
    assert tuple(found["thresholds"]) == GC_THRESHOLDS
    assert found["frozen"] > 10_000  # the app's routes, templates and mappers
