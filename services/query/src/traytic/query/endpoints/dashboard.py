"""The dashboard's files: `index.html` for the SPA's routes, hashed `/assets/*` cached a year.

The files come from the package (`traytic/query/static/dashboard/`, where `make` copies the build)
or, in a source checkout that has not copied them, from `<repo>/web/dist`. The directory is looked
up per request (two `stat` calls), so a build made while the service runs is picked up.
"""

from __future__ import annotations

import mimetypes
from importlib import resources
from pathlib import Path

from litestar import Response, get
from litestar.params import FromPath

from traytic.core.errors import TrayticError

PACKAGE_DIR = Path(str(resources.files("traytic.query"))) / "static" / "dashboard"
"""Where the built dashboard is in the package (`make dashboard` and the image put it there)."""
_CHECKOUT_DIR = Path(__file__).resolve().parents[6] / "web" / "dist"

_NOT_BUILT = """<!doctype html><meta charset="utf-8"><title>Traytic</title>
<body style="font-family:system-ui;max-width:36rem;margin:4rem auto;line-height:1.5">
<h1>The dashboard is not built</h1>
<p>Run <code>make</code> (it needs <code>npm</code>) to build it, then reload this page.
The API works without it: see <a href="/docs">/docs</a>.</p></body>"""

_SPA_CACHE = "no-cache"
_ASSET_CACHE = "public, max-age=31536000, immutable"


class DashboardFileNotFound(TrayticError):
    status = 404
    code = "not_found"

    def __init__(self) -> None:
        super().__init__("no such dashboard file")


def dashboard_dir() -> Path | None:
    """Where the built dashboard is, or None when it is not built."""
    for candidate in (PACKAGE_DIR, _CHECKOUT_DIR):
        if (candidate / "index.html").is_file():
            return candidate
    return None


@get(
    [
        "/",
        "/login",
        "/signup",
        "/signup/confirm",
        "/invite",
        "/sites/{rest:path}",
        "/settings",
        "/settings/{rest:path}",
        "/share/{rest:path}",
    ],
    include_in_schema=False,
    sync_to_thread=False,
)
def dashboard_page() -> Response[bytes]:
    """The single page; the client routes by its URL."""
    root = dashboard_dir()
    if root is None:
        return Response(
            _NOT_BUILT.encode(), media_type="text/html", headers={"Cache-Control": _SPA_CACHE}
        )
    return Response(
        (root / "index.html").read_bytes(),
        media_type="text/html",
        headers={"Cache-Control": _SPA_CACHE},
    )


@get("/assets/{name:str}", include_in_schema=False, sync_to_thread=False)
def dashboard_asset(name: FromPath[str]) -> Response[bytes]:
    """A hashed build file: its name changes whenever its content does."""
    root = dashboard_dir()
    if root is None or "/" in name or name.startswith("."):
        raise DashboardFileNotFound()
    file = root / "assets" / name
    if not file.is_file():
        raise DashboardFileNotFound()
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return Response(
        file.read_bytes(), media_type=media_type, headers={"Cache-Control": _ASSET_CACHE}
    )


DASHBOARD_HANDLERS = [dashboard_page, dashboard_asset]
