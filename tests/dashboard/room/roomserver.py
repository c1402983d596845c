"""Helpers of the workshop room's tests: a real room server in a subprocess.

The server is ``python -m chainsim workshop`` on a free port with few replications; the
room code and the facilitator secret are read from what it prints at start.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OUT = ROOT / "test-output"


@dataclass
class RoomServer:
    """A running room: its base URL, code, facilitator secret and process."""

    base: str
    code: str
    secret: str
    proc: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_room(name: str, *args: str, reps: int = 3) -> RoomServer:
    """Start ``chainsim workshop`` and wait until it answers."""
    OUT.mkdir(exist_ok=True)
    port = free_port()
    log = OUT / f"room-{name}.log"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    handle = open(log, "w")
    proc = subprocess.Popen([sys.executable, "-m", "chainsim", "workshop", "--port", str(port),
                             "--reps", str(reps), *args],
                            stdout=handle, stderr=subprocess.STDOUT, env=env)
    handle.close()
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while True:
        text = log.read_text()
        code = re.search(r"workshop room, code (\w+)", text)
        secret = re.search(r"/f/(\S+)", text)
        if code and secret:
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return RoomServer(base, code.group(1), secret.group(1), proc, log)
            except OSError:
                pass
        if proc.poll() is not None or time.monotonic() - started > 60:
            proc.kill()
            pytest.fail(f"the room server did not start:\n{log.read_text()}")
        time.sleep(0.2)
