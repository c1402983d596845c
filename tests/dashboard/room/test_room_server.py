"""The room over HTTP against a real server (``chainsim workshop`` in a subprocess).

Access control (codes, secrets, cookies, removal, the host guard, the rate limit), the
rounds' flow (answers, counts, lock, reveal with the simulated result on every
participant's poll), and the export.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import time
import urllib.request

import pytest
from roomserver import start_room

from chainsim.dashboard.room.client import Client, Facilitator, Participant


@pytest.fixture(scope="module")
def room_server():
    server = start_room("http")
    yield server
    server.stop()


def wait_for(check, timeout: float = 120.0, step: float = 0.3):
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("timed out")


def answered(f: Facilitator) -> str:
    return re.search(r"answered (\d+/\d+)", f.page()[2]).group(1)


def test_a_wrong_code_is_refused_and_gets_nothing(room_server):
    p = Participant(room_server.base)
    assert p.join("WRONG9") == 403
    status, url, body = p.page()
    assert url.endswith("/join?e=not_in_room") and "Join the workshop room" in body
    status, data = p.poll(-1)
    assert status == 403 and data == {"redirect": "/join?e=not_in_room"}
    assert p.answer(1, value="3")[1].endswith("/join?e=not_in_room")


def test_the_code_is_typed_loosely(room_server):
    code = room_server.code
    assert Participant(room_server.base).join(f" {code[:3].lower()}-{code[3:]} ") == 200


def test_participants_cannot_reach_facilitator_controls_or_export(room_server):
    p = Participant(room_server.base)
    assert p.join(room_server.code, "Mallory") == 200
    for path in ("/host", "/host/poll", "/host/export.csv", "/host/export.html", "/f/x",
                 f"/f/{room_server.code}", f"/f/{room_server.secret[:-1]}",
                 f"/f/{room_server.secret}/export.csv"):
        status, _url, body = p.request(path)
        assert status == 404, path
        assert "participant" not in body.lower()
    for action in ("start", "lock", "reveal", "remove", "new-code", "lang"):
        status, _url, _body = p.request(f"/host/{action}", {"question": "probation_caseload",
                                                              "round": 1})
        assert status == 404
    # the participant's own cookie under the facilitator's name does not help either
    token = next(c.value for c in p.cookies if c.name == "chainsim_room")
    req = urllib.request.Request(room_server.base + "/host/export.csv",
                                 headers={"Cookie": f"chainsim_host={token}"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 404


def test_the_facilitator_link_leaves_the_address_bar(room_server):
    f = Facilitator(room_server.base, room_server.secret)
    status, url, html = f.page()
    assert status == 200 and url.endswith("/host")
    assert room_server.secret not in html and room_server.secret not in url
    cookie = next(c for c in f.cookies if c.name == "chainsim_host")
    assert cookie.path == "/host" and cookie.has_nonstandard_attr("HttpOnly")


def test_security_headers_and_no_external_assets(room_server):
    with urllib.request.urlopen(room_server.base + "/join") as r:
        headers = r.headers
        body = r.read().decode()
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"
    assert not re.search(r'(src|href)="(https?:)?//', body)
    for asset in ("/static/room.js", "/static/room.css"):
        with urllib.request.urlopen(room_server.base + asset) as r:
            text = r.read().decode()
        assert "http://" not in text and "https://" not in text


def test_host_guard_refuses_other_host_names(room_server):
    req = urllib.request.Request(room_server.base + "/join", headers={"Host": "evil.example"})
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req)
    assert info.value.code == 400


def test_a_number_round_from_join_to_reveal(room_server):
    base = room_server.base
    f = Facilitator(base, room_server.secret)
    assert f.page()[0] == 200
    people = [Participant(base) for _ in range(3)]
    for i, p in enumerate(people):
        assert p.join(room_server.code, f"Player {i}", "nl" if i == 2 else "en") == 200
    total_before = int(answered(f).split("/")[1])
    assert f.act("start", question="probation_caseload")[0] == 200
    number = int(re.search(r'name="round" value="(\d+)"', people[0].page()[2]).group(1))
    assert people[0].answer(number, value="60")[0] == 200
    assert people[1].answer(number, value="1,234.5")[0] == 200  # English separators
    assert people[2].answer(number, value="75,5")[0] == 200  # Dutch decimal comma
    status, url, body = people[1].answer(number, value="lots")
    assert url.endswith("/p?e=bad_number") and "Type a number" in body
    assert answered(f) == f"3/{total_before}"
    page = people[0].page()[2]
    assert "Your answer: <strong>60</strong>" in page
    # everyone waits on a poll; the reveal must reach all of them
    seen: dict[int, float] = {}
    versions = [p.poll(-1)[1]["version"] for p in people]

    def watch(i: int) -> None:
        since = versions[i]
        while True:
            _status, data = people[i].poll(since, timeout=90)
            since = data["version"]
            html = data["parts"]["main"]["html"]
            if "sim-result" in html:
                seen[i] = time.monotonic()
                return

    assert f.act("lock", round=number)[0] == 200
    assert people[0].answer(number, value="1")[1].endswith("/p?e=not_open")
    wait_for(lambda: "computing" not in f.page()[2])
    threads = [threading.Thread(target=watch, args=(i,), daemon=True) for i in range(3)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    clicked = time.monotonic()
    assert f.act("reveal", round=number)[0] == 200
    for t in threads:
        t.join(timeout=30)
    assert sorted(seen) == [0, 1, 2]
    assert max(seen.values()) - clicked < 2.0  # the goal for the reveal
    dutch = people[2].page()[2]
    assert "Gesimuleerd" in dutch and "75,5" in dutch
    rows = list(csv.DictReader(io.StringIO(f.export("csv")[2])))
    mine = [r for r in rows if r["question_id"] == "probation_caseload"]
    assert sorted(float(r["value"]) for r in mine) == [60.0, 75.5, 1234.5]
    assert all(float(r["simulated_mean"]) > 0 for r in mine)
    status, _url, html = f.export("html")
    assert status == 200 and "Player 1" in html and "<svg" in html


def test_a_direction_round_and_removal(room_server):
    base = room_server.base
    f = Facilitator(base, room_server.secret)
    a, b = Participant(base), Participant(base)
    assert a.join(room_server.code, "Alice") == 200 and b.join(room_server.code, "Bob") == 200
    page = f.page()[2]
    if 'class="btn-lock"' in page or 'class="btn-reveal"' in page:
        pytest.skip("another round is still open")  # tests run in file order: not expected
    assert f.act("start", question="detection_true")[0] == 200
    number = int(re.search(r'name="round" value="(\d+)"', a.page()[2]).group(1))
    assert a.answer(number, direction="up", confidence="80")[0] == 200
    assert b.answer(number, direction="sideways", confidence="80")[1].endswith("e=bad_answer")
    assert b.answer(number, direction="down", confidence="20")[1].endswith("e=bad_answer")
    assert b.answer(number, direction="down", confidence="90")[0] == 200
    pid = re.search(r'data-pid="(\w+)"><td class="p-name">Bob', f.page()[2]).group(1)
    assert f.act("remove", pid=pid)[0] == 200
    _status, url, body = b.page()
    assert url.endswith("/join?e=removed") and "removed you" in body
    assert b.poll(-1)[0] == 403
    assert "Bob" not in f.page()[2].split('class="roster"')[1]
    f.act("lock", round=number)
    f.act("reveal", round=number)
    html = wait_for(lambda: (lambda h: h if "sim-direction-text" in h else None)(a.page()[2]))
    assert "The simulation says" in html
    rows = [r for r in csv.DictReader(io.StringIO(f.export("csv")[2]))
            if r["question_id"] == "detection_true"]
    assert [r["participant"] for r in rows] == ["Alice"]  # Bob's answer no longer counts
    assert rows[0]["simulated_direction"] in ("up", "down", "same")


def test_a_reveal_before_the_simulation_is_done_arrives_when_it_is(room_server):
    f = Facilitator(room_server.base, room_server.secret)
    p = Participant(room_server.base)
    assert p.join(room_server.code, "Early") == 200
    page = f.page()[2]
    if 'class="btn-lock"' in page or 'class="btn-reveal"' in page:
        pytest.skip("another round is still open")
    f.act("start", question="evidence_court")  # not simulated before in this room
    number = int(re.search(r'name="round" value="(\d+)"', p.page()[2]).group(1))
    p.answer(number, value="150")
    f.act("lock", round=number)
    f.act("reveal", round=number)
    status, data = p.poll(-1)
    assert status == 200
    first = data["parts"]["main"]["html"]
    assert "sim-result" in first or "The simulation is still running" in first
    since = data["version"]
    started = time.monotonic()
    while "sim-result" not in data["parts"]["main"]["html"]:
        assert time.monotonic() - started < 120
        _status, data = p.poll(since, timeout=60)  # no reload: the poll brings it
        since = data["version"]
    assert "court cases" in data["parts"]["main"]["html"]


def test_a_new_code_keeps_members_and_refuses_the_old_code(room_server):
    base = room_server.base
    f = Facilitator(base, room_server.secret)
    inside = Participant(base)
    assert inside.join(room_server.code) == 200
    f.act("new-code")
    code = re.search(r'data-code="(\w+)"', f.page()[2]).group(1)
    assert code != room_server.code
    assert Participant(base).join(room_server.code) == 403
    assert Participant(base).join(code) == 200
    assert inside.page()[1].endswith("/p")
    room_server.code = code


def test_a_question_built_from_a_scenario_and_a_proxy_in_dutch(room_server):
    f = Facilitator(room_server.base, room_server.secret)
    p = Participant(room_server.base)
    assert p.join(room_server.code, "Noor", "nl") == 200
    page = f.page()[2]
    if 'class="btn-lock"' in page:
        f.act("lock", round=re.search(r'name="round" value="(\d+)"', page).group(1))
    page = f.page()[2]
    if 'class="btn-reveal"' in page:
        f.act("reveal", round=re.search(r'name="round" value="(\d+)"', page).group(1))
    assert f.act("lang", lang="nl")[0] == 200
    assert "beantwoord" in f.page()[2]
    assert f.act("build", preset="better_evidence.toml", proxy="investigations",
                 kind="direction")[0] == 200
    html = p.page()[2]
    assert "Scenario better_evidence: welke richting voor gestarte opsporingsonderzoeken" in html
    assert 'name="direction"' in html
    assert f.act("build", preset="../secret.toml", proxy="investigations",
                 kind="number")[1].endswith("?e=bad_answer")
    assert f.act("build", preset="baseline.toml", proxy="court_cases", kind="package",
                 budget="lots")[1].endswith("?e=bad_answer")
    page = f.page()[2]
    f.act("lock", round=re.search(r'name="round" value="(\d+)"', page).group(1))
    f.act("reveal", round=re.search(r'name="round" value="(\d+)"', f.page()[2]).group(1))
    assert f.act("build", preset="baseline.toml", proxy="court_cases", kind="package",
                 budget="1000000")[0] == 200
    html = p.page()[2]
    assert "Budget: hoogstens 1.000.000 per jaar extra" in html
    assert "best scoort op rechtszaken" in html
    f.act("lang", lang="en")


def test_guessing_is_rate_limited():
    server = start_room("ratelimit")
    try:
        for _ in range(20):
            assert Participant(server.base).join("AAAAAA") == 403
        assert Participant(server.base).join(server.code) == 429  # even the right code, now
        assert Client(server.base).request("/f/guess")[0] == 429
    finally:
        server.stop()


@pytest.mark.slow
def test_a_package_round_ranks_the_packages():
    server = start_room("package", reps=2)
    try:
        f = Facilitator(server.base, server.secret)
        people = [Participant(server.base) for _ in range(3)]
        for p in people:
            assert p.join(server.code) == 200
        assert f.act("start", question="package_harm")[0] == 200
        page = wait_for(lambda: (lambda h: h if 'name="prevention"' in h else None)(
            people[0].page()[2]), timeout=300)
        number = int(re.search(r'name="round" value="(\d+)"', page).group(1))
        none = {"probation": 0, "prevention": 0, "capacity": 0, "evidence": 0, "inspection": 0}
        assert people[0].answer(number, **{**none, "prevention": 2})[0] == 200
        assert people[1].answer(number, **{**none, "probation": 2})[0] == 200
        assert people[2].answer(number, **{**none, "prevention": 2})[0] == 200
        over = people[2].answer(number, **{**none, "prevention": 2, "evidence": 2,
                                           "inspection": 2, "probation": 2})
        assert over[1].endswith("e=over_budget")
        f.act("lock", round=number)
        f.act("reveal", round=number)
        html = wait_for(lambda: (lambda h: h if "package-row" in h
                                 and "computing" not in h else None)(people[0].page()[2]),
                        timeout=300)
        rows = re.findall(r'<li class="package-row[^"]*">(.*?)</ul></li>', html)
        assert len(rows) == 2  # two distinct packages, each simulated once
        assert "Prevention" in rows[0]  # fewer young starters: fewest victim-months
        assert '<li class="package-row mine">' in html
    finally:
        server.stop()


def test_a_bad_unit_costs_file_stops_the_room_before_it_starts(tmp_path, capsys):
    from chainsim.cli import main

    bad = tmp_path / "costs.toml"
    bad.write_text("[costs]\nprison_month = -5\nnote = 'x'\n")
    assert main(["workshop", "--costs", str(bad), "--port", "0"]) == 2
    assert "prison_month" in capsys.readouterr().err


@pytest.mark.parametrize("how", ["terminate", "kill"])
def test_the_simulation_worker_exits_with_the_server(how):
    psutil = pytest.importorskip("psutil")
    server = start_room(f"worker-{how}")
    try:
        workers = wait_for(lambda: psutil.Process(server.proc.pid).children(), timeout=60)
        getattr(server.proc, how)()
        server.proc.wait(timeout=30)
        _gone, alive = psutil.wait_procs(workers, timeout=10)
        assert not alive, f"worker left running after {how}: {alive}"
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
