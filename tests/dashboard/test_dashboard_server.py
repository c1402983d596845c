"""Starting the server (chainsim.dashboard.server) and its assets (chainsim.dashboard.assets)."""

from __future__ import annotations

import pytest

from chainsim.dashboard import assets, server


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("192.168.1.5", False), ("::", False), ("example.org", False),
])
def test_is_loopback(host, loopback):
    assert server.is_loopback(host) is loopback


@pytest.fixture
def fake_uvicorn(monkeypatch):
    calls = []
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    monkeypatch.setattr(assets, "ensure_assets", lambda: [])
    monkeypatch.setattr("chainsim.dashboard.state.warm_up", lambda: None)
    return calls


def test_serve_binds_loopback_quietly(fake_uvicorn, capsys):
    assert server.serve("127.0.0.1", 8799) == 0
    app, kw = fake_uvicorn[0]
    assert app == "solara.server.starlette:app"
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8799
    assert "WARNING" not in capsys.readouterr().err


def test_serve_warns_when_bound_wider(fake_uvicorn, capsys):
    assert server.serve("0.0.0.0", 8799) == 0
    err = capsys.readouterr().err
    assert "WARNING" in err and "0.0.0.0" in err and "no login" in err


def test_missing_assets_are_listed(tmp_path):
    missing = assets.missing_assets(tmp_path)
    assert ("requirejs", "2.3.6") in missing and len(missing) == len(assets.ASSET_PACKAGES)
    for name, version, probe in assets.ASSET_PACKAGES:
        path = tmp_path / f"{name}@{version}" / probe
        path.parent.mkdir(parents=True)
        path.write_text("x")
    assert assets.missing_assets(tmp_path) == []


def test_asset_versions_match_solaras_page_template():
    from pathlib import Path

    import solara.server
    from solara.server import settings

    template = (Path(solara.server.__file__).parent / "templates" / "solara.html.j2").read_text()
    template += settings.assets.fontawesome_path
    for name, version, _ in assets.ASSET_PACKAGES:
        assert f"{name}@{version}" in template


def test_cli_dashboard_defaults_to_loopback():
    from chainsim.cli import build_parser

    args = build_parser().parse_args(["dashboard"])
    assert args.host == "127.0.0.1"
