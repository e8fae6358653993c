"""The gateway's ordinary routes: health, readiness and the tracker script."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

from litestar import MediaType, Request, Response, get, route
from litestar.datastructures import State
from litestar.enums import HttpMethod

from traytic.core.errors import TrayticError
from traytic.http.health import NotReady

SCRIPT_CACHE_SECONDS = 3600


@get("/healthz", media_type=MediaType.JSON, include_in_schema=False, sync_to_thread=False)
def healthz() -> dict[str, str]:
    """Alive: the process answers."""
    return {"status": "ok"}


@get("/readyz", media_type=MediaType.JSON, include_in_schema=False)
async def readyz(state: State) -> dict[str, str | int]:
    """Ready: NATS connected, the stream present, the site registry loaded."""
    gateway = state.gateway
    problem = await gateway.readiness_problem()
    if problem:
        raise NotReady(problem, retry_after=2)
    return {"status": "ready", "sites": len(gateway.registry)}


TRACKER_DIR = "static"
"""Where the tracker's files are in the package (`make tracker` and the image put them there)."""
TRACKER_FILES = ("script.js", "script.vitals.js", "script.extras.js")
"""The plain builds of `sdk/js`: the tracker, and the Web Vitals and engagement it loads when
they are on."""


@cache
def _tracker_file(name: str) -> tuple[bytes, str] | None:
    script = resources.files("traytic.gateway").joinpath(f"{TRACKER_DIR}/{name}")
    if not script.is_file():
        return None
    body = script.read_bytes()
    return body, '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@route(
    [f"/{name}" for name in TRACKER_FILES],
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    include_in_schema=False,
    sync_to_thread=False,
)
def tracker_script(request: Request[object, object, State]) -> Response[bytes]:
    """The plain tracker build of `sdk/js`, cacheable, revalidated by ETag."""
    found = _tracker_file(request.url.path.lstrip("/"))
    if found is None:
        raise TrayticError("the tracker is not built: run `make tracker` (needs npm)", 404)
    body, etag = found
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={SCRIPT_CACHE_SECONDS}",
        "Access-Control-Allow-Origin": "*",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(b"", status_code=304, headers=headers)
    if request.method == HttpMethod.HEAD:
        headers["Content-Length"] = str(len(body))
        return Response(b"", media_type="application/javascript; charset=utf-8", headers=headers)
    return Response(body, media_type="application/javascript; charset=utf-8", headers=headers)
