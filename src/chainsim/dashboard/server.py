"""Start the dashboard's Solara server (``chainsim dashboard``).

Binds 127.0.0.1 unless told otherwise; any other address prints a warning,
because the dashboard has no login and anyone who reaches the port can use it.
The page reads only the shipped scenarios and calibration, and the scenario files of the
folder the facilitator names with ``--scenarios DIR`` (read confined to that folder): no
visitor's file is uploaded, executed or unpickled.
"""

from __future__ import annotations

import ipaddress
import os
import sys
from pathlib import Path

APP_MODULE = "chainsim.dashboard.app"

WIDE_WARNING = (
    "chainsim: WARNING: the dashboard is bound to {host}, not to this machine only "
    "(127.0.0.1).\n"
    "chainsim: anyone who can reach port {port} on this network can use it; it has no "
    "login. Use --host 127.0.0.1 unless the room needs it."
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(host: str = "127.0.0.1", port: int = 8765, scenarios: Path | None = None) -> int:
    """Run the dashboard until interrupted.

    Args:
        host: Address to bind (default: this machine only).
        port: TCP port.
        scenarios: A folder of the user's own scenarios, offered as presets beside the
            shipped ones (each is loaded once before the server starts: a bad file is an
            input error, exit 2).

    Returns:
        The exit code: 0 after Ctrl-C, 1 if the server could not start.
    """
    if scenarios is not None:
        from chainsim.dashboard.levers import USER_SCENARIOS_ENV, check_user_scenarios

        names = check_user_scenarios(Path(scenarios))  # InputError: the CLI says what, exit 2
        os.environ[USER_SCENARIOS_ENV] = str(Path(scenarios).resolve())
        print(f"chainsim: your scenarios as presets: {', '.join(names)}", file=sys.stderr)
    if not is_loopback(host):
        print(WIDE_WARNING.format(host=host, port=port), file=sys.stderr)
    os.environ["SOLARA_APP"] = APP_MODULE
    os.environ.setdefault("SOLARA_MODE", "production")
    # no "This website runs on Solara" banner over the page's corner (it covered tables)
    os.environ.setdefault("SOLARA_THEME_SHOW_BANNER", "False")
    from chainsim.dashboard.assets import ensure_assets

    still = ensure_assets()
    if still:
        print("chainsim: note: Solara will fetch its browser assets from its CDN on first load "
              f"(not cached: {', '.join(still)})", file=sys.stderr)
    import uvicorn
    from solara.server import settings

    settings.theme.show_banner = os.environ["SOLARA_THEME_SHOW_BANNER"].lower() in ("1", "true")

    from chainsim.dashboard.state import warm_baseline, warm_up

    warm_up()
    # the default comparison's baseline arm (a few seconds, before the first visitor:
    # in a background thread it would slow the first pages): a first Compare then runs
    # only the levers' arm
    print("chainsim: preparing the dashboard (a few seconds)…", file=sys.stderr)
    warm_baseline()

    print(f"chainsim: dashboard at http://{host}:{port}/ (Ctrl-C stops it)", file=sys.stderr)
    try:
        uvicorn.run("solara.server.starlette:app", host=host, port=port, log_level="warning",
                    access_log=False)
    except KeyboardInterrupt:
        return 0
    except (OSError, SystemExit) as exc:
        print(f"chainsim: error: the dashboard could not start: {exc}", file=sys.stderr)
        return 1
    return 0
