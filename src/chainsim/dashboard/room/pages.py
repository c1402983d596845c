"""The room's HTML: the join page, the participant's page and the facilitator's page.

Pages are rendered on the server, whole, so a phone shows a working form on the first
response (no framework, no build step); forms post and redirect back. Each page is split
into *parts* (elements with an ``id`` and a ``data-key``): the small script
``static/room.js`` long-polls ``…/poll`` and swaps a part only when its key changed, so a
half-typed answer is not wiped by someone else joining. Every text is escaped; the pages
carry no inline script or style (the content security policy forbids them).
"""

from __future__ import annotations

import statistics
import time
from html import escape

from chainsim.analysis.proxies import PROXIES
from chainsim.chain.numbers import format_number
from chainsim.dashboard.levers import shipped_presets
from chainsim.dashboard.room import package as pkg
from chainsim.dashboard.room.catalogue import LANGS, proxy_label, t
from chainsim.dashboard.room.chart import direction_chart, prediction_chart
from chainsim.dashboard.room.questions import Question, is_percent
from chainsim.dashboard.room.state import Participant, Room, Round

Parts = dict[str, tuple[str, str]]
"""Part id -> (key, HTML of the element with that id)."""

ONLINE_SECONDS = 30
"""A participant whose page polled within this many seconds counts as "page open"."""


def _part(pid: str, key: str, inner: str, live: bool = False) -> tuple[str, str]:
    aria = ' aria-live="polite"' if live else ""
    return key, (f'<section id="{pid}" data-key="{escape(key)}" class="part"{aria}>'
                 f"{inner}</section>")


def layout(title: str, body: str, lang: str, poll: str | None = None, version: int = 0,
           page_class: str = "") -> str:
    """A whole page: head with the local stylesheet and script, and ``body``."""
    data = f' data-poll="{escape(poll)}" data-version="{version}"' if poll else ""
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="referrer" content="no-referrer">'
            f"<title>{escape(title)}</title>"
            '<link rel="stylesheet" href="/static/room.css">'
            '<script src="/static/room.js" defer></script></head>'
            f'<body class="{page_class}"{data}>{body}</body></html>')


def question_text(q: Question, lang: str) -> str:
    """The question, with ``{proxy}`` replaced by the proxy's name."""
    text = q.text(lang).replace("{proxy}", proxy_label(q.proxy, lang))
    return text.replace(" %", "\u00a0%")  # "80 %" stays on one line


def unit(q: Question, lang: str) -> str:
    """What a number answer is measured in (the proxy's name)."""
    return proxy_label(q.proxy, lang)


def fmt(value: float | None, lang: str) -> str:
    """A number in the reader's convention (whole numbers without decimals)."""
    if value is None:
        return "–"
    if float(value).is_integer() and abs(value) >= 10:
        return format_number(value, lang, decimals=0)
    return format_number(value, lang)


def _computed(r: Round) -> str:
    """What of a round's computation is there (a part's key changes when it grows)."""
    return (f"{r.result is not None}:{r.error is not None}:{r.prices is not None}:"
            f"{len(r.packages)}")


def _range(lo: float, hi: float, lang: str) -> str:
    return f"{fmt(lo, lang)} {escape(t('to', lang))} {fmt(hi, lang)}"


def _flash(message: str | None, lang: str) -> str:
    if not message:
        return ""
    return f'<p class="flash" role="alert">{escape(t(message, lang))}</p>'


# -- join ------------------------------------------------------------------------------
def join_page(lang: str, code: str = "", error: str | None = None) -> str:
    """The join form (code, optional name, language)."""
    options = "".join(
        f'<option value="{lg}"{" selected" if lg == lang else ""}>'
        f'{"English" if lg == "en" else "Nederlands"}</option>' for lg in LANGS)
    body = (f'<main class="narrow"><h1>{escape(t("join_title", lang))}</h1>'
            f"{_flash(error, lang)}"
            '<form method="post" action="/join" class="join-form">'
            f'<label>{escape(t("code", lang))}<input name="code" class="code-input" '
            f'value="{escape(code)}" autocomplete="off" autocapitalize="characters" '
            'required maxlength="32"></label>'
            f'<label>{escape(t("name", lang))}<input name="name" maxlength="40" '
            'autocomplete="nickname"></label>'
            f'<label>{escape(t("language", lang))}<select name="lang">{options}</select>'
            f'</label><button type="submit" class="btn-join">{escape(t("join", lang))}'
            "</button></form></main>")
    return layout(t("join_title", lang), body, lang, page_class="page-join")


# -- reveal (shared by both views) ----------------------------------------------------------
def reveal_block(room: Room, r: Round, lang: str, mine: str | None = None) -> str:
    """The reveal: the room's answers beside the simulated result."""
    q = r.question
    answers = room.counted(r)
    head = f'<h2>{escape(t("reveal", lang))}</h2>'
    if r.error:
        return f'{head}<p class="error">{escape(t("failed", lang))}: {escape(r.error)}</p>'
    res = r.result
    if q.kind == "package":
        return head + pkg.reveal_html(room, r, lang, mine)
    if q.kind == "number":
        values = [a.value for a in answers.values() if a.value is not None]
        own = answers[mine].value if mine in answers else None
        chart = prediction_chart(values, res, lang, own)
        facts = []
        if values:
            facts.append(f'{escape(t("room_predictions", lang))}: {escape(t("median", lang))} '
                         f'{fmt(statistics.median(values), lang)} ({len(values)} '
                         f'{escape(t("answers", lang))})')
        if own is not None:
            facts.append(f'{escape(t("your_prediction", lang))}: {fmt(own, lang)}')
    else:
        pairs = [(a.direction, a.confidence) for a in answers.values() if a.direction]
        chart = direction_chart(pairs, res, lang)
        facts = []
        if mine in answers:
            a = answers[mine]
            facts.append(f'{escape(t("your_answer", lang))}: {escape(t(a.direction, lang))} '
                         f"({a.confidence} %)")
    if res is None:
        return (f'{head}<p class="computing">{escape(t("computing", lang))}</p>'
                f'<div class="chart-box">{chart}</div>')
    pct = " pp" if is_percent(q.proxy) else ""
    sim = (f'<p class="sim-result"><strong>{escape(t("simulated", lang))}: '
           f'<span class="sim-mean">{fmt(res.scenario.mean, lang)}</span></strong> '
           f'({escape(t("ci", lang))} {_range(res.scenario.lo, res.scenario.hi, lang)}; '
           f'{escape(t("band", lang))} {_range(res.band[0], res.band[1], lang)}). '
           f'{escape(t("baseline", lang))}: {fmt(res.baseline.mean, lang)}. '
           f'{escape(t("change_vs_baseline", lang))}: {fmt(res.delta.mean, lang)}{pct} '
           f'({escape(t("ci", lang))} {_range(res.delta.lo, res.delta.hi, lang)}).</p>')
    if q.kind == "direction":
        sim += (f'<p class="sim-direction-text"><strong>{escape(t("direction_result", lang))}: '
                f'{escape(t(res.direction, lang))}</strong>. {escape(t("direction_note", lang))}'
                "</p>")
    note = t("reveal_note", lang, reps=res.reps, period=res.period)
    return (f'{head}<p class="proxy-name">{escape(unit(q, lang))}</p>'
            f'<div class="chart-box">{chart}</div>{sim}'
            + "".join(f"<p>{f}</p>" for f in facts)
            + f'<p class="note">{escape(note)}</p>')


# -- participant -----------------------------------------------------------------------
def _answer_text(q: Question, a, lang: str) -> str:
    if q.kind == "number":
        return fmt(a.value, lang)
    if q.kind == "direction":
        return f"{t(a.direction, lang)} ({a.confidence} %)"
    return pkg.describe(a.package, lang)


def _answer_form(room: Room, r: Round, p: Participant, lang: str) -> str:
    q = r.question
    hidden = f'<input type="hidden" name="round" value="{r.number}">'
    if q.kind == "number":
        fields = (f'<label>{escape(t("your_prediction", lang))} '
                  f'<span class="unit">({escape(unit(q, lang))})</span>'
                  '<input name="value" class="answer-value" inputmode="decimal" '
                  'autocomplete="off" required maxlength="20"></label>')
    elif q.kind == "direction":
        radios = "".join(
            f'<label class="choice"><input type="radio" name="direction" value="{d}" required> '
            f"{escape(t(d, lang))}</label>" for d in ("down", "same", "up"))
        conf = "".join(f'<option value="{c}"{" selected" if c == 70 else ""}>{c} %</option>'
                       for c in (50, 60, 70, 80, 90, 100))
        fields = (f'<fieldset class="directions">{radios}</fieldset>'
                  f'<label>{escape(t("confidence", lang))}<select name="confidence">{conf}'
                  "</select></label>")
    else:
        mine = r.answers.get(p.pid)
        fields = pkg.form_fields(room, r, lang, mine.package if mine else None)
    return (f'<form method="post" action="/p/answer" class="answer-form">{hidden}{fields}'
            f'<button type="submit" class="btn-submit">{escape(t("submit", lang))}</button>'
            "</form>")


def participant_parts(room: Room, p: Participant, message: str | None = None) -> Parts:
    """The participant page's parts (``main``)."""
    lang = p.lang
    with room.lock:
        r = room.current
        if r is None:
            return {"main": _part("main", f"wait:{lang}",
                                  f'<p class="waiting">{escape(t("waiting", lang))}</p>',
                                  live=True)}
        q = r.question
        mine = r.answers.get(p.pid)
        head = (f'<p class="round-no">{escape(t("round", lang))} {r.number}</p>'
                f'<h2 class="question">{escape(question_text(q, lang))}</h2>')
        if q.kind == "package":
            head += pkg.budget_line(room, r, lang)
        key = f"{r.number}:{r.phase}:{lang}:{mine.at if mine else 0}"
        if r.phase == "open":
            key += f":{pkg.prices_ready(r)}" if q.kind == "package" else ""
            body = head + _flash(message, lang)
            if mine is not None:
                body += (f'<p class="my-answer">{escape(t("your_answer", lang))}: '
                         f'<strong>{escape(_answer_text(q, mine, lang))}</strong>. '
                         f'{escape(t("can_change", lang))}</p>')
            body += _answer_form(room, r, p, lang)
        elif r.phase == "locked":
            body = head + (f'<p class="my-answer">{escape(t("your_answer", lang))}: '
                           f'<strong>{escape(_answer_text(q, mine, lang))}</strong></p>'
                           if mine else f'<p>{escape(t("no_answer", lang))}</p>')
            body += f'<p class="locked">{escape(t("locked", lang))}</p>'
        else:
            key += f":{_computed(r)}"
            body = head + f'<div class="reveal">{reveal_block(room, r, lang, p.pid)}</div>'
        return {"main": _part("main", key, body, live=True)}


def participant_page(room: Room, p: Participant, message: str | None = None) -> str:
    """The participant's whole page."""
    lang = p.lang
    other = "nl" if lang == "en" else "en"
    who = p.label(t("anonymous", lang))
    header = (f'<header class="bar"><span class="brand">{escape(t("title", lang))}</span>'
              f'<span class="who">{escape(t("you_are", lang))} <strong class="my-name">'
              f"{escape(who)}</strong></span>"
              f'<form method="post" action="/p/lang"><input type="hidden" name="lang" '
              f'value="{other}"><button class="btn-lang" type="submit">'
              f'{escape(t("switch_lang", lang))}</button></form></header>')
    parts = participant_parts(room, p, message)
    body = header + '<main class="narrow">' + "".join(h for _, h in parts.values()) + "</main>"
    return layout(t("title", lang), body, lang, poll="/p/poll", version=room.stage,
                  page_class="page-participant")


# -- facilitator -------------------------------------------------------------------------
def _clock(ts: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(ts))


def _question_picker(base: str, questions: list[Question], lang: str, label: str) -> str:
    options = "".join(f'<option value="{escape(q.id)}">{escape(q.id)}: '
                      f"{escape(question_text(q, lang)[:90])}…</option>" for q in questions)
    presets = "".join(f'<option value="{escape(n)}">{escape(n)}</option>'
                      for n in shipped_presets())
    proxies = "".join(f'<option value="{p}">{escape(proxy_label(p, lang))}</option>'
                      for p in PROXIES)
    kinds = "".join(f'<option value="{k}">{escape(t("kind_" + k, lang))}</option>'
                    for k in ("number", "direction", "package"))
    return (f'<form method="post" action="{base}/start" class="start-form">'
            f'<label>{escape(t("question", lang))}<select name="question" class="pick-question">'
            f"{options}</select></label>"
            f'<button type="submit" class="btn-start">{escape(label)}</button></form>'
            f'<details class="build"><summary>{escape(t("or_build", lang))}</summary>'
            f'<form method="post" action="{base}/build" class="build-form">'
            f'<label>{escape(t("scenario", lang))}<select name="preset">{presets}</select></label>'
            f'<label>{escape(t("proxy", lang))}<select name="proxy">{proxies}</select></label>'
            f'<label>{escape(t("kind", lang))}<select name="kind">{kinds}</select></label>'
            f'<label>{escape(t("budget_field", lang))}<input name="budget" value="3000000" '
            'inputmode="numeric" maxlength="14"></label>'
            f'<button type="submit" class="btn-build">{escape(t("build", lang))}</button>'
            "</form></details>")


def facilitator_parts(room: Room, base: str, questions: list[Question], join_url: str,
                      qr: str, message: str | None = None) -> Parts:
    """The facilitator page's parts: join box, status, controls, roster."""
    lang = room.facilitator_lang
    now = room.touch()
    with room.lock:
        r = room.current
        answered, total = room.answered()
        joinbox = (f'<p class="join-at">{escape(t("join_at", lang))}</p>'
                   f'<p class="join-url">{escape(join_url)}</p>'
                   f'<p class="room-code" data-code="{escape(room.code)}">{escape(room.code)}</p>'
                   f'<div class="qr-box">{qr}</div>'
                   f'<form method="post" action="{base}/new-code" class="new-code-form">'
                   f'<button type="submit" class="btn-new-code secondary" '
                   f'title="{escape(t("new_code_help", lang))}">{escape(t("new_code", lang))}'
                   "</button></form>")
        phase = f'{escape(t("phase_" + r.phase, lang))}' if r else ""
        status = (f'<p class="answered-count" data-answered="{answered}" data-total="{total}">'
                  f'<strong>{escape(t("answered", lang))} {answered}/{total}</strong></p>'
                  + (f'<p class="phase" data-phase="{r.phase}">{escape(t("round", lang))} '
                     f"{r.number}: {phase}</p>" if r else ""))
        controls = _flash(message, lang)
        if r is None:
            controls += (f'<p>{escape(t("no_rounds", lang))}</p>'
                         + _question_picker(base, questions, lang, t("start_round", lang)))
            ckey = "none"
        else:
            q = r.question
            controls += (f'<p class="round-no">{escape(t("round", lang))} {r.number}</p>'
                         f'<h2 class="question">{escape(question_text(q, lang))}</h2>')
            if q.kind == "package":
                controls += pkg.budget_line(room, r, lang)
            hidden = f'<input type="hidden" name="round" value="{r.number}">'
            if r.phase == "open":
                controls += (f'<form method="post" action="{base}/lock">{hidden}'
                             f'<button type="submit" class="btn-lock">{escape(t("lock", lang))}'
                             "</button></form>")
            elif r.phase == "locked":
                controls += (f'<form method="post" action="{base}/reveal">{hidden}'
                             f'<button type="submit" class="btn-reveal">'
                             f'{escape(t("reveal_button", lang))}</button></form>')
                if r.result is None and r.error is None:
                    controls += f'<p class="computing">{escape(t("computing", lang))}</p>'
            else:
                controls += f'<div class="reveal">{reveal_block(room, r, lang)}</div>'
                controls += _answers_table(room, r, lang)
                controls += _question_picker(base, questions, lang, t("next_round", lang))
            ckey = f"{r.number}:{r.phase}:{_computed(r)}"
            if r.phase == "revealed":
                ckey += f":{len(room.counted(r))}"
        rows = []
        for p in room.active():
            did = r is not None and p.pid in r.answers
            online = now - p.last_seen <= ONLINE_SECONDS
            rows.append(
                f'<tr class="participant" data-pid="{p.pid}"><td class="p-name">'
                f'{escape(p.label(t("anonymous", lang)))}</td>'
                f"<td>{_clock(p.joined)}</td>"
                f'<td class="p-answered">{escape(t("yes" if did else "no", lang))}</td>'
                f"<td>{_clock(p.last_action)}</td>"
                f'<td>{escape(t("yes" if online else "no", lang))}</td>'
                f'<td><form method="post" action="{base}/remove"><input type="hidden" '
                f'name="pid" value="{p.pid}"><button type="submit" class="btn-remove secondary">'
                f'{escape(t("remove", lang))}</button></form></td></tr>')
        roster = (f'<h2>{escape(t("roster", lang))} ({total})</h2><table class="roster"><thead>'
                  f'<tr><th>{escape(t("name_col", lang))}</th>'
                  f'<th>{escape(t("joined", lang))}</th><th>{escape(t("answered", lang))}</th>'
                  f'<th>{escape(t("last_activity", lang))}</th>'
                  f'<th>{escape(t("connected", lang))}</th><th></th></tr></thead>'
                  f'<tbody>{"".join(rows)}</tbody></table>'
                  f'<p class="exports">{escape(t("export", lang))}: '
                  f'<a class="export-csv" href="{base}/export.csv">{escape(t("export_csv", lang))}'
                  f'</a> · <a class="export-html" href="{base}/export.html">'
                  f'{escape(t("export_html", lang))}</a></p>')
        online_key = "".join("1" if now - p.last_seen <= ONLINE_SECONDS else "0"
                             for p in room.active())
        return {
            "joinbox": _part("joinbox", room.code, joinbox),
            "status": _part("status", f"{answered}/{total}:{r.phase if r else ''}", status,
                            live=True),
            "controls": _part("controls", ckey, controls),
            "roster": _part("roster", f"{room.version}:{online_key}", roster),
        }


def _answers_table(room: Room, r: Round, lang: str) -> str:
    answers = room.counted(r)
    rows = "".join(
        f"<tr><td>{escape(room.participants[pid].label(t('anonymous', lang)))}</td>"
        f"<td>{escape(_answer_text(r.question, a, lang))}</td></tr>"
        for pid, a in sorted(answers.items(), key=lambda kv: room.participants[kv[0]].number))
    return (f'<details class="answers"><summary>{escape(t("individual", lang))} '
            f"({len(answers)})</summary><table>{rows}</table></details>")


def facilitator_page(room: Room, base: str, questions: list[Question], join_url: str,
                     qr: str, message: str | None = None) -> str:
    """The facilitator's whole page."""
    lang = room.facilitator_lang
    other = "nl" if lang == "en" else "en"
    parts = facilitator_parts(room, base, questions, join_url, qr, message)
    header = (f'<header class="bar"><span class="brand">{escape(t("title", lang))} · '
              f'{escape(t("facilitator", lang))}</span>'
              f'<form method="post" action="{base}/lang"><input type="hidden" name="lang" '
              f'value="{other}"><button class="btn-lang" type="submit">'
              f'{escape(t("switch_lang", lang))}</button></form></header>')
    body = (header + '<div class="facilitator-grid"><aside class="side">'
            + parts["joinbox"][1] + parts["status"][1] + '</aside><main class="wide">'
            + parts["controls"][1] + parts["roster"][1] + "</main></div>")
    return layout(f'{t("title", lang)} · {t("facilitator", lang)}', body, lang,
                  poll=f"{base}/poll", version=room.version, page_class="page-facilitator")
