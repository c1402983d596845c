"""The browser assets Solara's page loads, available without a CDN.

Solara's page loads its front end (the Vuetify app, RequireJS, Font Awesome) from
a CDN through its own server, which caches the files in
``solara.server.settings.assets.proxy_cache_dir``. Where the machine reaches the npm
registry but not the CDN (workshop rooms behind a firewall, CI), the same files
come from the npm registry with the ordinary client (``npm pack``) and are
unpacked into that cache, so the server never needs the CDN. Nothing is executed:
the tarballs are unpacked with the ``data`` filter (no links, no paths outside
the target).
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ASSET_PACKAGES: tuple[tuple[str, str, str], ...] = (
    ("@widgetti/solara-vuetify3-app", "5.2.0", "dist/solara-vuetify-app8.min.js"),
    ("requirejs", "2.3.6", "require.js"),
    ("font-awesome", "4.5.0", "css/font-awesome.min.css"),
)
"""(npm package, version, a file that must exist) the Solara page template refers to."""


def cache_dir() -> Path:
    """Solara's CDN cache directory (``SOLARA_ASSETS_PROXY_CACHE_DIR`` overrides it)."""
    from solara.server import settings

    return Path(settings.assets.proxy_cache_dir)


def missing_assets(directory: Path | None = None) -> list[tuple[str, str]]:
    """The (package, version) pairs not yet in the cache."""
    root = directory or cache_dir()
    return [(name, version) for name, version, probe in ASSET_PACKAGES
            if not (root / f"{name}@{version}" / probe).is_file()]


def ensure_assets(directory: Path | None = None, timeout: float = 180.0) -> list[str]:
    """Put the missing assets into the cache from the npm registry, if npm is there.

    Args:
        directory: The cache directory (default :func:`cache_dir`).
        timeout: Seconds allowed for each ``npm pack``.

    Returns:
        ``package@version`` of the assets still missing (empty when all are there).
    """
    root = directory or cache_dir()
    missing = missing_assets(root)
    npm = shutil.which("npm")
    if not missing or npm is None:
        return [f"{n}@{v}" for n, v in missing]
    still = []
    for name, version in missing:
        try:
            _fetch(npm, name, version, root / f"{name}@{version}", timeout)
        except (OSError, subprocess.SubprocessError, tarfile.TarError) as exc:
            still.append(f"{name}@{version} ({exc})")
    return still


def _fetch(npm: str, name: str, version: str, target: Path, timeout: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([npm, "pack", f"{name}@{version}", "--silent", "--pack-destination", tmp],
                       check=True, capture_output=True, timeout=timeout)
        tarball = next(Path(tmp).glob("*.tgz"))
        unpacked = Path(tmp) / "unpacked"
        with tarfile.open(tarball) as tar:
            tar.extractall(unpacked, filter="data")
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(target.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.move(str(unpacked / "package"), staging)
        shutil.rmtree(target, ignore_errors=True)
        staging.rename(target)
