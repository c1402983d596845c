"""The room's web server: routes, access control, and ``chainsim workshop``.

Access control (what it does; see the README for what it does not):

- **Participants** post the room code to ``/join`` and get a random per-participant
  secret in an HttpOnly, SameSite=Strict cookie; every participant route needs it. A
  wrong code is refused, and more than :data:`MAX_FAILURES` wrong codes (or wrong
  facilitator secrets) from one address in :data:`FAILURE_WINDOW` seconds get HTTP 429,
  as do more than :data:`MAX_JOINS` joins. A removed participant's secret stops working.
- **The facilitator** has a separate secret (~190 bits) in their link ``/f/<secret>``,
  printed at start; opening it sets an HttpOnly, SameSite=Strict cookie with the secret
  and redirects to ``/host``, so the secret leaves the address bar (a projected browser
  does not show it) and no page contains it. Every facilitator route (page, controls,
  roster, export) needs that cookie; a participant's cookie or the room code gives 404.
- Bound to 127.0.0.1, the server also refuses requests whose ``Host`` is not a loopback
  name (a guard against DNS rebinding). ``--lan``/``--host`` bind wider, on purpose only.
- Every response carries a content security policy that allows only this server's own
  script and style (no inline code, no CDN), ``Referrer-Policy: no-referrer`` (the
  secrets in URLs do not leak to other sites) and ``Cache-Control: no-store``.

Forms are plain ``application/x-www-form-urlencoded`` posts (parsed here, no multipart
library), answered with a 303 redirect; ``…/poll`` long-polls the room's version and
returns the changed page parts as JSON.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import sys
import time
from collections import defaultdict, deque
from concurrent.futures import Future
from pathlib import Path
from urllib.parse import parse_qs, quote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from chainsim.chain.numbers import parse_number
from chainsim.dashboard.room import package as pkg
from chainsim.dashboard.room.catalogue import TEXTS, best_lang
from chainsim.dashboard.room.compute import DEFAULT_REPS, Simulator
from chainsim.dashboard.room.export import csv_text, html_text
from chainsim.dashboard.room.pages import (
    facilitator_page,
    facilitator_parts,
    join_page,
    participant_page,
    participant_parts,
)
from chainsim.dashboard.room.qr import qr_svg
from chainsim.dashboard.room.questions import (
    QUESTIONS_FILE,
    Question,
    custom_question,
    load_questions,
)
from chainsim.dashboard.room.state import Answer, Room, RoomError
from chainsim.dashboard.server import is_loopback

STATIC = Path(__file__).with_name("static")
COOKIE = "chainsim_room"
HOST_COOKIE = "chainsim_host"
HOST = "/host"
"""The facilitator's pages: reached with the secret's cookie, set by ``/f/<secret>``."""
MAX_FAILURES = 20
"""Wrong codes or secrets allowed per address within :data:`FAILURE_WINDOW`."""
FAILURE_WINDOW = 600.0
MAX_JOINS = 60
"""Joins allowed per address within :data:`FAILURE_WINDOW` (someone with the code cannot
fill the room with scripted joins from one device)."""
MAX_BODY = 16_384
"""Largest form body accepted (bytes)."""
POLL_PARTICIPANT = 25.0
"""Longest a participant's poll waits for a change (seconds)."""
POLL_FACILITATOR = 10.0
"""Longest the facilitator's poll waits (the roster's "page open" column refreshes)."""
POLL_TICK = 0.05
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
EXPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]", "::1")


class RoomApp:
    """The room's Starlette application and what it serves.

    Args:
        room: The room.
        simulator: Computes the rounds' results.
        questions: The questions the facilitator can pick.
        join_base: Base URL participants use (``http://192.168.1.20:8770``).
        loopback_only: Refuse requests whose ``Host`` is not a loopback name.
        costs_file: Unit costs for package rounds (default: the shipped example).
    """

    def __init__(self, room: Room, simulator: Simulator, questions: list[Question],
                 join_base: str, loopback_only: bool = True, costs_file: Path | None = None):
        self.room = room
        self.sim = simulator
        self.questions = questions
        self.join_base = join_base.rstrip("/")
        self.loopback_only = loopback_only
        self.costs_file = costs_file
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._joins: dict[str, deque[float]] = defaultdict(deque)
        self._custom = 0
        self.app = Starlette(routes=[
            Route("/", self.home),
            Route("/healthz", self.health),
            Route("/join", self.join_form, methods=["GET"]),
            Route("/join", self.join, methods=["POST"]),
            Route("/p", self.participant),
            Route("/p/poll", self.participant_poll),
            Route("/p/answer", self.answer, methods=["POST"]),
            Route("/p/lang", self.participant_lang, methods=["POST"]),
            Route("/f/{secret}", self.facilitator_entry),
            Route(HOST, self.facilitator),
            Route(f"{HOST}/poll", self.facilitator_poll),
            Route(f"{HOST}/export.csv", self.export_csv),
            Route(f"{HOST}/export.html", self.export_html),
            Route(HOST + "/{action}", self.control, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ], lifespan=self._lifespan)
        self.app.add_middleware(_Headers, guard=self)

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app):
        yield
        self.sim.shutdown()  # the server stops: so does the simulation worker

    # -- helpers -------------------------------------------------------------------------
    @property
    def join_url(self) -> str:
        """The link participants open (code included, for the QR code)."""
        return f"{self.join_base}/join?code={quote(self.room.code)}"

    def _client(self, request: Request) -> str:
        return request.client.host if request.client else "?"

    def _blocked(self, request: Request, joins: bool = False) -> bool:
        stamps = (self._joins if joins else self._failures)[self._client(request)]
        now = time.monotonic()
        while stamps and now - stamps[0] > FAILURE_WINDOW:
            stamps.popleft()
        return len(stamps) >= (MAX_JOINS if joins else MAX_FAILURES)

    def _failed(self, request: Request) -> None:
        self._failures[self._client(request)].append(time.monotonic())

    async def _form(self, request: Request) -> dict[str, str]:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return {}
        parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def _me(self, request: Request):
        return self.room.by_token(request.cookies.get(COOKIE))

    def _secret_ok(self, request: Request, given: str | None = None) -> bool:
        import secrets

        if given is None:
            given = request.cookies.get(HOST_COOKIE, "")
        return secrets.compare_digest(given.encode(), self.room.secret.encode())

    @staticmethod
    def _message(request: Request) -> str | None:
        key = request.query_params.get("e")
        return key if key in TEXTS else None

    def _gone(self, request: Request) -> str:
        token = request.cookies.get(COOKIE)
        return "removed" if self.room.was_removed(token) else "not_in_room"

    # -- public ------------------------------------------------------------------------------
    async def home(self, request: Request) -> Response:
        """``/``: to the join page."""
        return RedirectResponse("/join", status_code=303)

    async def health(self, request: Request) -> Response:
        """``/healthz``: the server is up."""
        return PlainTextResponse("ok")

    async def join_form(self, request: Request) -> Response:
        """``GET /join``: the join form (the code prefilled from the link)."""
        lang = request.query_params.get("lang") or best_lang(
            request.headers.get("accept-language"))
        lang = lang if lang in ("en", "nl") else "en"
        code = request.query_params.get("code", "")[:32]
        return HTMLResponse(join_page(lang, code, self._message(request)))

    async def join(self, request: Request) -> Response:
        """``POST /join``: check the code, add the participant, set their cookie."""
        form = await self._form(request)
        lang = form.get("lang") if form.get("lang") in ("en", "nl") else "en"
        if self._blocked(request) or self._blocked(request, joins=True):
            return HTMLResponse(join_page(lang, "", "too_many"), status_code=429)
        if not self.room.check_code(form.get("code", "")):
            self._failed(request)
            return HTMLResponse(join_page(lang, "", "wrong_code"), status_code=403)
        try:
            p = self.room.join(form.get("name", ""), lang)
        except RoomError as exc:
            return HTMLResponse(join_page(lang, "", str(exc)), status_code=403)
        self._joins[self._client(request)].append(time.monotonic())
        response = RedirectResponse("/p", status_code=303)
        response.set_cookie(COOKIE, p.token, httponly=True, samesite="strict", path="/")
        return response

    # -- participant ---------------------------------------------------------------------------
    async def participant(self, request: Request) -> Response:
        """``GET /p``: the participant's page."""
        p = self._me(request)
        if p is None:
            return RedirectResponse(f"/join?e={self._gone(request)}", status_code=303)
        return HTMLResponse(participant_page(self.room, p, self._message(request)))

    async def _wait(self, since: int, timeout: float, counter: str = "version") -> None:
        end = time.monotonic() + timeout
        while getattr(self.room, counter) == since and time.monotonic() < end:
            await asyncio.sleep(POLL_TICK)

    @staticmethod
    def _since(request: Request) -> int:
        try:
            return int(request.query_params.get("since", "-1"))
        except ValueError:
            return -1

    async def participant_poll(self, request: Request) -> Response:
        """``GET /p/poll?since=V``: wait for a change, return the page's parts."""
        p = self._me(request)
        if p is None:
            return JSONResponse({"redirect": f"/join?e={self._gone(request)}"}, status_code=403)
        await self._wait(self._since(request), POLL_PARTICIPANT, "stage")
        p = self._me(request)
        if p is None:
            return JSONResponse({"redirect": f"/join?e={self._gone(request)}"}, status_code=403)
        version = self.room.stage
        parts = participant_parts(self.room, p)
        return JSONResponse({"version": version, "lang": p.lang,
                             "parts": {k: {"key": key, "html": html}
                                       for k, (key, html) in parts.items()}})

    async def answer(self, request: Request) -> Response:
        """``POST /p/answer``: record the participant's answer in the open round."""
        p = self._me(request)
        if p is None:
            return RedirectResponse(f"/join?e={self._gone(request)}", status_code=303)
        form = await self._form(request)
        r = self.room.current
        if r is None or str(r.number) != form.get("round"):
            return RedirectResponse("/p?e=not_open", status_code=303)
        kind = r.question.kind
        try:
            if kind == "number":
                answer = Answer(value=parse_number(form.get("value", "")[:20], p.lang))
            elif kind == "direction":
                answer = Answer(direction=form.get("direction"),
                                confidence=int(form.get("confidence", "0")))
            else:
                package = pkg.parse_form(form, r.prices is not None)
                answer = Answer(package=package)
        except ValueError:
            return RedirectResponse("/p?e=bad_number" if kind == "number" else "/p?e=bad_answer",
                                    status_code=303)
        try:
            self.room.answer(p, answer)
        except RoomError as exc:
            return RedirectResponse(f"/p?e={exc}", status_code=303)
        if kind == "package" and answer.package is not None:
            self._simulate_package(r.question, answer.package)
        return RedirectResponse("/p", status_code=303)

    async def participant_lang(self, request: Request) -> Response:
        """``POST /p/lang``: switch the participant's language."""
        p = self._me(request)
        if p is None:
            return RedirectResponse(f"/join?e={self._gone(request)}", status_code=303)
        self.room.set_lang(p, (await self._form(request)).get("lang", "en"))
        return RedirectResponse("/p", status_code=303)

    # -- facilitator ---------------------------------------------------------------------------
    def _base(self) -> str:
        return HOST

    def _page_args(self):
        return (self.room, self._base(), self.questions, self.join_url,
                qr_svg(self.join_url, "join link"))

    def _denied(self, request: Request, given: str | None = None) -> Response | None:
        if self._blocked(request):
            return PlainTextResponse("too many attempts", status_code=429)
        if not self._secret_ok(request, given):
            self._failed(request)
            return PlainTextResponse("not found", status_code=404)
        return None

    async def facilitator_entry(self, request: Request) -> Response:
        """``GET /f/<secret>``: the facilitator's link; sets their cookie, goes to ``/host``.

        After this the secret is no longer in the address bar (a projected browser does not
        show it) nor in any page; the facilitator's routes need the cookie (HttpOnly,
        SameSite=Strict, path ``/host``).
        """
        denied = self._denied(request, request.path_params.get("secret", ""))
        if denied is not None:
            return denied
        response = RedirectResponse(HOST, status_code=303)
        response.set_cookie(HOST_COOKIE, self.room.secret, httponly=True, samesite="strict",
                            path=HOST)
        return response

    async def facilitator(self, request: Request) -> Response:
        """``GET /host``: the facilitator's page."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        return HTMLResponse(facilitator_page(*self._page_args(), self._message(request)))

    async def facilitator_poll(self, request: Request) -> Response:
        """``GET /host/poll?since=V``: wait for a change, return the parts."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        await self._wait(self._since(request), POLL_FACILITATOR)
        version = self.room.version
        parts = facilitator_parts(*self._page_args())
        return JSONResponse({"version": version, "lang": self.room.facilitator_lang,
                             "parts": {k: {"key": key, "html": html}
                                       for k, (key, html) in parts.items()}})

    async def control(self, request: Request) -> Response:
        """``POST /host/<action>``: start, build, lock, reveal, remove, new-code, lang."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        form = await self._form(request)
        action = request.path_params["action"]
        back = self._base()
        try:
            if action == "start":
                q = next((q for q in self.questions if q.id == form.get("question")), None)
                if q is None:
                    return RedirectResponse(f"{back}?e=bad_answer", status_code=303)
                self.start(q)
            elif action == "build":
                self._custom += 1
                budget = float(form.get("budget") or 3e6)
                self.start(custom_question(form.get("preset", ""), form.get("proxy", ""),
                                           form.get("kind", ""), self._custom, budget))
            elif action in ("lock", "reveal"):
                self.room.set_phase(int(form.get("round", "0")),
                                    "locked" if action == "lock" else "revealed")
            elif action == "remove":
                self.room.remove(form.get("pid", ""))
            elif action == "new-code":
                self.room.new_code()
            elif action == "lang":
                if form.get("lang") in ("en", "nl"):
                    with self.room.lock:
                        self.room.facilitator_lang = form["lang"]
                        self.room.version += 1
            else:
                return PlainTextResponse("not found", status_code=404)
        except (RoomError, ValueError):
            return RedirectResponse(f"{back}?e=bad_answer", status_code=303)
        return RedirectResponse(back, status_code=303)

    async def export_csv(self, request: Request) -> Response:
        """``GET /host/export.csv``: the session as CSV (facilitator only)."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        return Response(csv_text(self.room), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": 'attachment; filename="chainsim-room.csv"'})

    async def export_html(self, request: Request) -> Response:
        """``GET /host/export.html``: a self-contained HTML summary (facilitator only)."""
        denied = self._denied(request)
        if denied is not None:
            return denied
        return HTMLResponse(html_text(self.room, self.room.facilitator_lang), headers={
            "Content-Disposition": 'attachment; filename="chainsim-room.html"',
            "Content-Security-Policy": EXPORT_CSP})

    # -- rounds ---------------------------------------------------------------------------------
    def start(self, question: Question) -> None:
        """Open a round and start its computation (once per question, cached)."""
        r = self.room.start(question)
        number = r.number
        if question.kind == "package":
            def priced(future: Future) -> None:
                error = future.exception()
                self.room.set_prices(number, None if error else future.result(),
                                     None if error is None else str(error))

            self.sim.run(("prices", question.simulation_key()), pkg.price_list, question,
                         self.sim.seed, self.costs_file, done=priced)
            return

        def finished(future: Future) -> None:
            error = future.exception()
            self.room.set_result(number, None if error else future.result(),
                                 None if error is None else f"{type(error).__name__}: {error}")

        self.sim.submit(question, done=finished)

    def _simulate_package(self, question: Question, package: pkg.Package) -> None:
        key = pkg.package_key(package)

        def finished(future: Future) -> None:
            if future.exception() is None:
                self.room.set_package(key, future.result())

        self.sim.run(("package", question.simulation_key(), key), pkg.simulate_package,
                     question, package, self.sim.reps, self.sim.seed, self.costs_file,
                     done=finished)


class _Headers:
    """ASGI middleware: security headers, and the loopback ``Host`` guard."""

    def __init__(self, app, guard: RoomApp):
        self.app = app
        self.guard = guard

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.guard.loopback_only:
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
            if name not in LOOPBACK_NAMES:
                await PlainTextResponse("unknown host", status_code=400)(scope, receive, send)
                return
        static = scope["path"].startswith("/static/")

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = message.setdefault("headers", [])
                names = {k.lower() for k, _ in headers}
                extra = {b"x-content-type-options": b"nosniff",
                         b"referrer-policy": b"no-referrer",
                         b"x-frame-options": b"DENY",
                         b"content-security-policy": CSP.encode()}
                if not static:
                    extra[b"cache-control"] = b"no-store"
                headers.extend((k, v) for k, v in extra.items() if k not in names)
            await send(message)

        await self.app(scope, receive, send_with_headers)


# -- serving ---------------------------------------------------------------------------------
def lan_address() -> str:
    """This machine's address on the local network (no packet is sent)."""
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM)) as s:
        try:
            s.connect(("10.255.255.255", 1))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


WIDE_WARNING = (
    "chainsim: WARNING: the workshop room is bound to {host}, not to this machine only.\n"
    "chainsim: anyone on this network who has the room code can join; traffic is not "
    "encrypted (no TLS). Use it on a trusted network only.")


def build(host: str = "127.0.0.1", port: int = 8770, reps: int = DEFAULT_REPS, seed: int = 1,
          questions_file: Path = QUESTIONS_FILE, costs_file: Path | None = None,
          in_process: bool = False, code: str | None = None,
          secret: str | None = None) -> RoomApp:
    """A room application (not yet serving).

    Args:
        host: The address the server will bind.
        port: Its port.
        reps: Replications per arm of a round's comparison.
        seed: The comparisons' seed.
        questions_file: The questions on offer.
        costs_file: Unit costs for package rounds.
        in_process: Compute in a thread instead of a worker process.
        code: A fixed room code (default random).
        secret: A fixed facilitator secret (default random).

    Raises:
        ValueError: If the questions file is invalid.
        chainsim.chain.errors.InputError: If the unit-costs file is invalid.
    """
    questions = load_questions(questions_file)
    if costs_file is not None:
        from chainsim.chain.costs import load_costs

        load_costs(costs_file)  # a bad file fails now, with its field named, not mid-round
    wide = host in ("0.0.0.0", "::", "")
    shown = lan_address() if wide else host
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    room = Room(code=code, secret=secret)
    return RoomApp(room, Simulator(reps=reps, seed=seed, in_process=in_process), questions,
                   join_base=f"http://{shown}:{port}", loopback_only=is_loopback(host),
                   costs_file=costs_file)


def serve(host: str = "127.0.0.1", port: int = 8770, reps: int = DEFAULT_REPS, seed: int = 1,
          precompute: bool = False, questions_file: Path = QUESTIONS_FILE,
          costs_file: Path | None = None) -> int:
    """Run the workshop room until interrupted (``chainsim workshop``).

    Returns:
        The exit code: 0 after Ctrl-C, 1 if the server could not start.
    """
    import uvicorn

    if not is_loopback(host):
        print(WIDE_WARNING.format(host=host), file=sys.stderr)
    try:
        room_app = build(host, port, reps, seed, questions_file, costs_file)
    except (OSError, ValueError) as exc:
        print(f"chainsim: error: {exc}", file=sys.stderr)
        return 1
    room_app.sim.warm()
    if precompute:
        for q in room_app.questions:
            if q.kind == "package":
                room_app.sim.run(("prices", q.simulation_key()), pkg.price_list, q,
                                 room_app.sim.seed, costs_file)
            else:
                room_app.sim.submit(q)
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    print(f"chainsim: workshop room, code {room_app.room.code}\n"
          f"chainsim: participants join at {room_app.join_url}\n"
          f"chainsim: facilitator (keep this link to yourself): "
          f"http://{local}:{port}/f/{room_app.room.secret}\n"
          "chainsim: Ctrl-C stops the room (answers live in memory: export first)",
          file=sys.stderr, flush=True)
    try:
        # no proxy headers: a client's address (for the rate limits) is the socket's
        uvicorn.run(room_app.app, host=host, port=port, log_level="warning", access_log=False,
                    proxy_headers=False)
    except KeyboardInterrupt:
        return 0
    except (OSError, SystemExit) as exc:
        print(f"chainsim: error: the room could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        room_app.sim.shutdown()
    return 0
