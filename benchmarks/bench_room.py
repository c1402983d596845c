"""Load benchmark of the workshop room: 30 participants join, answer and get the reveal.

Usage: ``python benchmarks/bench_room.py [--participants N] [--reps R] [--no-browser]
[--quick] [--json FILE]``

Starts ``chainsim workshop`` in a subprocess (as a facilitator would), then plays a room
with N scripted participants (HTTP clients with their own cookies, one thread each, from
:mod:`chainsim.dashboard.room.client`) plus, if Chromium is installed, one real browser
participant (Playwright, ``/usr/bin/chromium``):

- **page interactive**: from opening the join link to the participant page with its
  script running, in the browser (and, for the HTTP clients, join + first page);
- **question and reveal latency**: every participant long-polls from joining on, as a
  phone does; the time from the facilitator's "start" until each participant's poll has
  the question, and from "reveal" until it has the reveal (and until the browser shows
  it); answers are posted spread over 5 s meanwhile;
- **server memory**: peak resident memory of the server and its simulation worker,
  sampled every 0.2 s throughout.

Goals (issue 16): reveal <= 2 s after the click, page interactive <= 3 s, memory <= 2 GiB.
The round's simulation is computed once (R replications per arm, in the worker), between
"start" and "reveal"; its time is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

from chainsim.dashboard.room.client import Facilitator, Participant

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
QUESTION = "probation_recidivism"


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(reps: int) -> tuple[subprocess.Popen, str, str, str]:
    port = _port()
    log = Path(tempfile.mkstemp(prefix="bench-room-", suffix=".log")[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"),
                                         *filter(None, [env.get("PYTHONPATH")])])
    with open(log, "w") as handle:
        proc = subprocess.Popen([sys.executable, "-m", "chainsim", "workshop", "--port",
                                 str(port), "--reps", str(reps)], stdout=handle,
                                stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    while time.monotonic() - started < 90:
        text = log.read_text()
        code, secret = re.search(r"code (\w+)", text), re.search(r"/f/(\S+)", text)
        if code and secret:
            try:
                if Participant(base).request("/healthz", timeout=2)[0] == 200:
                    return proc, base, code.group(1), secret.group(1)
            except OSError:
                pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"the room server did not start:\n{log.read_text()}")


class MemorySampler(threading.Thread):
    """Peak RSS of a process and its children."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.proc = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                self.peak = max(self.peak, sum(p.memory_info().rss for p in procs))
            except psutil.Error:
                pass
            time.sleep(0.2)


def _stats(values: list[float]) -> str:
    return (f"median {1000 * statistics.median(values):.0f} ms, "
            f"max {1000 * max(values):.0f} ms (n = {len(values)})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=30)
    parser.add_argument("--reps", type=int, default=20, help="replications per arm")
    parser.add_argument("--no-browser", action="store_true", help="HTTP participants only")
    parser.add_argument("--quick", action="store_true", help="4 replications per arm")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args()
    if args.quick:
        args.reps = 4
    proc, base, code, secret = start_server(args.reps)
    memory = MemorySampler(proc.pid)
    memory.start()
    figures: dict[str, object] = {"participants_http": args.participants, "reps": args.reps}
    browser_ctx = None
    try:
        fac = Facilitator(base, secret)
        people = [Participant(base) for _ in range(args.participants)]
        join_times: list[float] = [0.0] * len(people)

        def join(i: int) -> None:
            started = time.perf_counter()
            assert people[i].join(code, f"P{i:02d}", random.choice(("en", "nl"))) == 200
            join_times[i] = time.perf_counter() - started

        threads = [threading.Thread(target=join, args=(i,)) for i in range(len(people))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        print(f"{len(people)} HTTP participants joined (join + first page): "
              f"{_stats(join_times)}")
        figures["http_join_page_s"] = {"median": statistics.median(join_times),
                                       "max": max(join_times)}

        page = None
        if not args.no_browser and Path(CHROMIUM).exists():
            from playwright.sync_api import sync_playwright

            browser_ctx = sync_playwright().start()
            browser = browser_ctx.chromium.launch(
                executable_path=CHROMIUM, headless=True,
                args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            page = browser.new_context(viewport={"width": 390, "height": 844},
                                       is_mobile=True, has_touch=True).new_page()
            started = time.perf_counter()
            page.goto(f"{base}/join?code={code}")
            page.locator(".btn-join").click()
            page.locator("body.page-participant[data-live='1']").wait_for()
            interactive = time.perf_counter() - started
            figures["browser_page_interactive_s"] = round(interactive, 3)
            print(f"browser participant (phone viewport): join link to interactive page "
                  f"{interactive:.2f} s (goal <= 3 s)")
        total = len(people) + (1 if page else 0)

        # every participant's page long-polls from now on, as phones do
        seen: dict[str, dict[int, float]] = {"question": {}, "reveal": {}}
        done = threading.Event()

        def watch(i: int) -> None:
            since = people[i].poll(-1)[1]["version"]
            while not done.is_set():
                _status, data = people[i].poll(since, timeout=60)
                since = data["version"]
                html = data["parts"]["main"]["html"]
                now = time.perf_counter()
                if 'name="round"' in html:
                    seen["question"].setdefault(i, now)
                if "sim-result" in html:
                    seen["reveal"].setdefault(i, now)
                    return

        watchers = [threading.Thread(target=watch, args=(i,), daemon=True)
                    for i in range(len(people))]
        for t in watchers:
            t.start()
        time.sleep(1.0)

        started = time.perf_counter()
        fac.act("start", question=QUESTION)
        while len(seen["question"]) < len(people) and time.perf_counter() - started < 30:
            time.sleep(0.02)
        question = [seen["question"][i] - started for i in sorted(seen["question"])]
        assert len(question) == len(people), f"only {len(question)} saw the question"
        figures["question_latency_s"] = {"median": round(statistics.median(question), 3),
                                         "max": round(max(question), 3)}
        print(f"the question reached every participant's poll: {_stats(question)}")
        number = int(re.search(r'name="round" value="(\d+)"', people[0].page()[2]).group(1))
        answer_times: list[float] = []
        lock = threading.Lock()

        def answer(i: int) -> None:
            time.sleep(random.uniform(0, 5))  # people type at their own pace
            t0 = time.perf_counter()
            status = people[i].answer(number, value=str(random.randint(30, 70)))[0]
            assert status == 200
            with lock:
                answer_times.append(time.perf_counter() - t0)

        threads = [threading.Thread(target=answer, args=(i,)) for i in range(len(people))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if page is not None:
            page.locator(".answer-value").fill("50")
            page.locator(".btn-submit").click()
            page.locator(".my-answer").wait_for()
        figures["answer_post_s"] = {"median": round(statistics.median(answer_times), 3),
                                    "max": round(max(answer_times), 3)}
        print(f"answers posted (spread over 5 s; post + page): {_stats(answer_times)}")
        text = fac.page()[2]
        shown = re.search(r"answered (\d+)/(\d+)", text).groups()
        assert shown == (str(total), str(total)), shown
        print(f"facilitator sees: answered {shown[0]}/{shown[1]}")
        fac.act("lock", round=number)
        while "computing" in fac.page()[2]:
            time.sleep(0.2)
        computed = time.perf_counter() - started
        figures["round_computed_after_start_s"] = round(computed, 2)
        print(f"the round's simulation (once, {args.reps} replications per arm) was ready "
              f"{computed:.1f} s after the start")

        time.sleep(1.0)
        clicked = time.perf_counter()
        fac.act("reveal", round=number)
        if page is not None:
            page.locator(".sim-result").wait_for(timeout=30_000)
            figures["browser_reveal_s"] = round(time.perf_counter() - clicked, 3)
        for t in watchers:
            t.join(timeout=30)
        done.set()
        latency = [seen["reveal"][i] - clicked for i in sorted(seen["reveal"])]
        assert len(latency) == len(people), f"only {len(latency)} saw the reveal"
        figures["reveal_latency_s"] = {"median": round(statistics.median(latency), 3),
                                       "max": round(max(latency), 3)}
        print(f"reveal reached every HTTP participant: {_stats(latency)} (goal <= 2 s)")
        if page is not None:
            print(f"reveal on the browser participant's screen: "
                  f"{figures['browser_reveal_s']:.2f} s")
        status, _url, csv_text = fac.export("csv")
        assert status == 200 and csv_text.count("\n") == total + 1
    finally:
        if browser_ctx is not None:
            browser_ctx.stop()
        memory.stop.set()
        memory.join()
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
    figures["server_peak_rss_mib"] = round(memory.peak / 2**20)
    print(f"server peak memory (server + simulation worker): {memory.peak / 2**20:.0f} MiB "
          f"(goal <= 2048 MiB)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    ok = (figures["reveal_latency_s"]["max"] <= 2.0 and memory.peak <= 2 * 2**30
          and figures.get("browser_page_interactive_s", 0) <= 3.0)
    print("goals met" if ok else "GOALS NOT MET")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
