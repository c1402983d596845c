"""The workshop room (``chainsim workshop``): participants on their own devices.

A facilitator runs one server on a laptop; participants join from a laptop or phone with a
short room code, predict what a scenario does to a proxy (a number, or a direction with a
confidence) or assemble a policy package within a budget; the facilitator sees who has
answered, locks the round and reveals the room's predictions beside the simulated result
and its band, on every screen at once.

Why not the Solara dashboard? Solara keeps a live Python session (widgets, reactive
state, a WebSocket and a page of JavaScript) per browser tab: right for one projected
dashboard, heavy for thirty phones, and its state is per session while a room's state is
shared. The room instead is a small Starlette application (Starlette and uvicorn already
come with Solara) that renders plain HTML on the server, with one local script of ~60 lines
that long-polls for changes. Its state is one in-process :class:`~.state.Room` under a
lock; a round's simulation is computed once, in one worker process, and cached
(:mod:`~.compute`, reusing the dashboard's comparison in :mod:`chainsim.dashboard.bands`
and its lever model in :mod:`chainsim.dashboard.levers`). A page is usable as soon as its
HTML arrives; the whole room is a few megabytes beyond the worker's model.

Modules, one job each:

- :mod:`~.questions` (and ``questions.toml``): the questions a round can ask;
- :mod:`~.state`: participants, rounds, answers (thread-safe, versioned);
- :mod:`~.compute`: a round's simulated result, once per round, in a worker;
- :mod:`~.package`: package rounds (lever positions, prices, ranking);
- :mod:`~.catalogue`: English and Dutch texts;
- :mod:`~.chart` (SVG), :mod:`~.qr` (segno), :mod:`~.pages` (HTML);
- :mod:`~.export`: CSV and a self-contained HTML summary (facilitator only);
- :mod:`~.server`: routes, access control, ``serve``.
"""
