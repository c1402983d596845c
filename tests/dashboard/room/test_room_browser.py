"""The workshop room in real Chromium: a facilitator and participants in separate contexts.

Playwright drives Debian's Chromium (``/usr/bin/chromium``, as ``tests/dashboard/
test_browser.py`` does; ``.ci/install-browser`` installs it). Skipped only when Chromium is
missing and ``CI`` is unset; in CI a missing browser fails. Screenshots go to
``test-output/screenshots/room_*.png`` (with ``CHAINSIM_UPDATE_DOCS_IMG=1`` also to
``docs/img/``), timings to ``test-output/room-timings.json``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect
from roomserver import OUT, start_room

pytestmark = pytest.mark.slow  # a real browser: full suite only (CI runs it)

ROOT = Path(__file__).resolve().parents[3]
SHOTS = OUT / "screenshots"
DOCS_IMG = ROOT / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2,
         "is_mobile": True, "has_touch": True}
TIMINGS: dict[str, object] = {}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"room_{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if os.environ.get("CHAINSIM_UPDATE_DOCS_IMG"):
        shutil.copy(path, DOCS_IMG / path.name)


@pytest.fixture(scope="module")
def server():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI is set but {CHROMIUM} is missing (.ci/install-browser installs it)")
        pytest.skip(f"{CHROMIUM} is missing (run .ci/install-browser)")
    room = start_room("browser", reps=10)
    yield room
    room.stop()
    (OUT / "room-timings.json").write_text(json.dumps(TIMINGS, indent=2))
    print("\nroom timings:", json.dumps(TIMINGS))


@pytest.fixture(scope="module")
def browser(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield b
        b.close()


def join(browser, url: str, name: str, lang: str = "en", phone: bool = False,
         screenshot: str | None = None):
    context = browser.new_context(**PHONE) if phone else browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    started = time.perf_counter()
    page.goto(url)
    page.locator("input[name=name]").fill(name)
    page.locator("select[name=lang]").select_option(lang)
    if screenshot:
        shot(page, screenshot)
    page.locator(".btn-join").click()
    page.locator("body.page-participant[data-live='1']").wait_for()
    return page, time.perf_counter() - started


def test_a_round_with_a_facilitator_and_three_participants(browser, server):
    fac_context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    fac = fac_context.new_page()
    fac.goto(f"{server.base}/f/{server.secret}")
    expect(fac.locator(".room-code")).to_have_text(server.code)
    assert fac.url == f"{server.base}/host"  # the secret has left the address bar
    assert server.secret not in fac.content()
    expect(fac.locator(".qr-box svg.qr")).to_be_visible()
    join_url = fac.locator(".join-url").inner_text()
    assert join_url == f"{server.base}/join?code={server.code}"

    # a wrong code is refused
    stranger = browser.new_context(viewport=DESKTOP).new_page()
    stranger.goto(f"{server.base}/join")
    stranger.locator("input[name=code]").fill("ZZZZZZ")
    stranger.locator(".btn-join").click()
    expect(stranger.locator(".flash")).to_contain_text("not this room's code")
    stranger.goto(f"{server.base}/p")
    expect(stranger.locator("h1")).to_have_text("Join the workshop room")

    # three participants join with the link (the code prefilled), one on a phone, one in Dutch
    ann, t_ann = join(browser, join_url, "Ann")
    bram, t_bram = join(browser, join_url, "Bram", lang="nl")
    cas, _t = join(browser, join_url, "Cas", phone=True, screenshot="join_phone")  # not timed
    TIMINGS["participant_page_interactive_s"] = round(max(t_ann, t_bram), 2)
    expect(bram.locator(".waiting")).to_contain_text("Wachten")
    expect(fac.locator(".answered-count")).to_contain_text("answered 0/3")
    expect(fac.locator("tr.participant")).to_have_count(3)

    # participants cannot open the facilitator's controls or export
    for page in (ann, cas):
        assert page.locator(".btn-start, .btn-lock, .btn-reveal, .export-csv").count() == 0
        for path in (f"/f/{server.code}", "/host", "/host/export.csv", "/host/poll"):
            assert page.request.get(server.base + path).status == 404
    response = ann.goto(f"{server.base}/host")
    assert response.status == 404
    ann.goto(f"{server.base}/p")

    # the facilitator starts a round; the question appears on every screen by itself
    fac.locator(".pick-question").select_option("probation_recidivism")
    fac.locator(".btn-start").click()
    for page in (ann, bram, cas):
        expect(page.locator(".answer-value")).to_be_visible(timeout=10_000)
    shot(fac, "facilitator_open")
    shot(cas, "participant_phone")
    shot(ann, "participant")
    for page, value in ((ann, "44"), (bram, "47,5"), (cas, "52")):
        page.locator(".answer-value").fill(value)
        page.locator(".btn-submit").click()
        expect(page.locator(".my-answer")).to_be_visible()
    expect(bram.locator(".my-answer")).to_contain_text("47,5")
    expect(fac.locator(".answered-count")).to_contain_text("answered 3/3", timeout=10_000)
    expect(fac.locator("tr.participant .p-answered")).to_have_text(["yes", "yes", "yes"])

    fac.locator(".btn-lock").click()
    expect(cas.locator(".locked")).to_be_visible(timeout=10_000)
    expect(fac.locator(".btn-reveal")).to_be_visible()
    expect(fac.locator(".computing")).to_have_count(0, timeout=180_000)  # the round's runs
    started = time.perf_counter()
    fac.locator(".btn-reveal").click()
    for page in (ann, bram, cas):
        expect(page.locator(".sim-result")).to_be_visible(timeout=10_000)
    TIMINGS["reveal_seen_by_all_s"] = round(time.perf_counter() - started, 2)
    expect(ann.locator("circle.prediction")).to_have_count(3)
    expect(ann.locator("rect[data-band]")).to_have_count(1)
    expect(bram.locator(".sim-result")).to_contain_text("Gesimuleerd")
    expect(fac.locator(".sim-result")).to_be_visible()
    shot(cas, "participant_reveal_phone")
    shot(ann, "participant_reveal")
    shot(fac, "facilitator_reveal")
    assert TIMINGS["reveal_seen_by_all_s"] < 5  # the goal is 2 s; browsers add their share

    # the export is the facilitator's only
    with fac.expect_download() as info:
        fac.locator(".export-csv").click()
    text = Path(info.value.path()).read_text()
    assert "probation_recidivism" in text and "Bram" in text and "47.5" in text
    with fac.expect_download() as info:
        fac.locator(".export-html").click()
    assert "<svg" in Path(info.value.path()).read_text()
    assert ann.request.get(f"{server.base}/host/export.csv").status == 404
    assert ann.request.get(f"{server.base}/host/export.html").status == 404

    # the facilitator view on a phone
    phone = browser.new_context(**PHONE).new_page()
    phone.goto(f"{server.base}/f/{server.secret}")
    expect(phone.locator(".room-code")).to_be_visible()
    shot(phone, "facilitator_phone")

    # removal: Cas's page falls back to the join page with a message
    fac.locator("tr.participant", has_text="Cas").locator(".btn-remove").click()
    expect(cas.locator(".flash")).to_contain_text("removed you", timeout=30_000)
    expect(fac.locator("tr.participant")).to_have_count(2)
    # a fresh round for the lobby screenshot
    fac.locator(".pick-question").select_option("detection_specific")
    fac.locator(".btn-start").click()
    expect(bram.locator("input[name=direction]")).to_have_count(3, timeout=10_000)
    shot(bram, "participant_direction_nl")


def test_a_package_round_in_the_browser(browser):
    room = start_room("browser-package", reps=4)
    try:
        fac = browser.new_context(viewport=DESKTOP).new_page()
        fac.goto(f"{room.base}/f/{room.secret}")
        fac.locator(".btn-lang").click()  # the facilitator's view in Dutch
        expect(fac.locator(".answered-count")).to_contain_text("beantwoord 0/0")
        join_url = fac.locator(".join-url").inner_text()
        dana, _ = join(browser, join_url, "Dana", phone=True)
        eli, _ = join(browser, join_url, "Eli")
        fac.locator(".pick-question").select_option("package_harm")
        fac.locator(".btn-start").click()
        expect(dana.locator("input[name=prevention]")).to_have_count(3, timeout=300_000)
        dana.locator(".lever-prevention .choice").nth(2).click()
        dana.locator(".lever-probation .choice").nth(1).click()
        shot(dana, "participant_package_phone")
        dana.locator(".btn-submit").click()
        expect(dana.locator(".my-answer")).to_be_visible()
        eli.locator(".lever-evidence .choice").nth(2).click()
        eli.locator(".lever-inspection .choice").nth(2).click()
        eli.locator(".lever-prevention .choice").nth(2).click()
        eli.locator(".lever-probation .choice").nth(2).click()
        eli.locator(".btn-submit").click()
        expect(eli.locator(".flash")).to_contain_text("Over budget")
        eli.locator(".lever-inspection .choice").nth(1).click()
        eli.locator(".btn-submit").click()
        expect(eli.locator(".my-answer")).to_contain_text("Labour-sector inspection")
        expect(fac.locator(".answered-count")).to_contain_text("beantwoord 2/2")
        fac.locator(".btn-lock").click()
        fac.locator(".btn-reveal").click()
        expect(fac.locator("li.package-row")).to_have_count(2, timeout=300_000)
        expect(fac.locator(".reveal .computing")).to_have_count(0, timeout=300_000)
        expect(dana.locator("li.package-row.mine")).to_have_count(1, timeout=10_000)
        shot(fac, "facilitator_package_nl")
        shot(dana, "participant_package_reveal_phone")
    finally:
        room.stop()
