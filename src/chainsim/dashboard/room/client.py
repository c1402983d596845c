"""Scripted room clients over HTTP: a participant and the facilitator.

What the tests and ``benchmarks/bench_room.py`` use to play a room without a browser
(also handy to rehearse a session: ``python -c`` a few participants). Standard library
only; each client keeps its own cookies, like a separate device.
"""

from __future__ import annotations

import http.cookiejar
import json
import urllib.error
import urllib.parse
import urllib.request


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """An HTTP client with its own cookie jar.

    Args:
        base: The server's base URL (``http://127.0.0.1:8770``).
        follow: Follow redirects (as a browser does).
    """

    def __init__(self, base: str, follow: bool = True):
        self.base = base.rstrip("/")
        self.cookies = http.cookiejar.CookieJar()
        handlers: list = [urllib.request.HTTPCookieProcessor(self.cookies)]
        if not follow:
            handlers.append(_NoRedirect())
        self._opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, form: dict | None = None,
                timeout: float = 60.0) -> tuple[int, str, str]:
        """GET (or POST ``form``) ``path``; returns (status, final URL, body)."""
        data = None if form is None else urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(self.base + path, data=data)
        try:
            with self._opener.open(req, timeout=timeout) as response:
                return response.status, response.url, response.read().decode("utf-8")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.url, exc.read().decode("utf-8", "replace")


class Participant(Client):
    """A participant's device."""

    def join(self, code: str, name: str = "", lang: str = "en") -> int:
        """Join the room; returns the final status (200 in, 403 refused, 429 blocked)."""
        return self.request("/join", {"code": code, "name": name, "lang": lang})[0]

    def page(self) -> tuple[int, str, str]:
        """The participant page."""
        return self.request("/p")

    def poll(self, since: int, timeout: float = 60.0) -> tuple[int, dict]:
        """One long poll: (status, JSON)."""
        status, _url, body = self.request(f"/p/poll?since={since}", timeout=timeout)
        return status, json.loads(body)

    def answer(self, round_number: int, **fields: object) -> tuple[int, str, str]:
        """Answer the open round (``value=...`` or ``direction=..., confidence=...``)."""
        return self.request("/p/answer", {"round": round_number, **fields})


class Facilitator(Client):
    """The facilitator's browser: opens the facilitator link once (its cookie), then ``/host``.

    Args:
        base: The server's base URL.
        secret: The facilitator's secret.
    """

    def __init__(self, base: str, secret: str):
        super().__init__(base)
        self.entry = self.request(f"/f/{secret}")[0]
        self.path = "/host"

    def page(self) -> tuple[int, str, str]:
        """The facilitator page."""
        return self.request(self.path)

    def act(self, action: str, **form: object) -> tuple[int, str, str]:
        """Post a control: ``start`` (question=ID), ``lock``/``reveal`` (round=N), ..."""
        return self.request(f"{self.path}/{action}", dict(form))

    def poll(self, since: int, timeout: float = 60.0) -> tuple[int, dict]:
        """One long poll: (status, JSON)."""
        status, _url, body = self.request(f"{self.path}/poll?since={since}", timeout=timeout)
        return status, json.loads(body)

    def export(self, kind: str = "csv") -> tuple[int, str, str]:
        """The session export (``csv`` or ``html``)."""
        return self.request(f"{self.path}/export.{kind}")
