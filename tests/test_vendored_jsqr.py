"""The vendored, minified jsQR (static/vendor/jsQR-1.4.0.js, what the door scanner loads)
reads our ticket QR codes, run by Node.js outside the browser (the browser suite checks it
again through a fake camera)."""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from events.qr import qr_png
from events.tickets import ticket_url

JSQR = Path(__file__).resolve().parents[1] / "static" / "vendor" / "jsQR-1.4.0.js"
DECODE = """
const frames = JSON.parse(require("fs").readFileSync(0, "utf8"));
const jsQR = require(process.argv[1]);
const read = (f) => jsQR(Uint8ClampedArray.from(Buffer.from(f.rgba, "base64")), f.w, f.h);
console.log(JSON.stringify(frames.map((f) => (read(f) || {}).data || null)));
"""


def test_the_minified_jsqr_reads_ticket_codes() -> None:
    node = shutil.which("node")
    if node is None:
        if os.environ.get("CI"):
            pytest.fail("node is needed to run the vendored jsQR")
        pytest.skip("node is not installed")
    codes = ("abcdefghjkmnpqrstuvwxyz2345", "z" * 27, "23456789abcdefghjkmnpqrstuv")
    urls = [ticket_url("https://meetups.example.org", code) for code in codes]
    frames = []
    for url in urls:
        image = Image.open(io.BytesIO(qr_png(url))).convert("RGBA")
        rgba = base64.b64encode(image.tobytes()).decode()
        frames.append({"w": image.width, "h": image.height, "rgba": rgba})
    completed = subprocess.run(
        [node, "-e", DECODE, str(JSQR)],
        input=json.dumps(frames),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == urls
    assert JSQR.stat().st_size < 150_000  # minified (the plain build is 257 KB)
