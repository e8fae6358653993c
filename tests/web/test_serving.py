"""The query service serves the built dashboard: the SPA's routes, hashed assets, a hint if unbuilt."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from traytic.http.errors import EXCEPTION_HANDLERS
from traytic.query.endpoints import dashboard


@get("/api/ping", sync_to_thread=False)
def ping() -> str:
    return "pong"


def client(monkeypatch: pytest.MonkeyPatch, package: Path, checkout: Path) -> TestClient[Litestar]:
    monkeypatch.setattr(dashboard, "PACKAGE_DIR", package)
    monkeypatch.setattr(dashboard, "_CHECKOUT_DIR", checkout)
    app = Litestar(
        route_handlers=[*dashboard.DASHBOARD_HANDLERS, ping],
        exception_handlers=dict(EXCEPTION_HANDLERS),  # type: ignore[arg-type]
    )
    return TestClient(app)


def build(root: Path) -> Path:
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><div id=app></div>")
    (root / "assets" / "main-ABC123.js").write_text("console.log(1)")
    return root


def test_unbuilt_says_to_run_make(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with client(monkeypatch, tmp_path / "package", tmp_path / "dist") as http:
        response = http.get("/")
        assert response.status_code == 200
        assert "make" in response.text
        assert http.get("/assets/main-ABC123.js").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/login",
        "/signup",
        "/signup/confirm",
        "/invite",
        "/settings",
        "/sites/st_1",
        "/sites/st_1/x",
        "/share/st_1",
    ],
)
def test_spa_routes_answer_the_page(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, path: str
) -> None:
    with client(monkeypatch, tmp_path / "package", build(tmp_path / "dist")) as http:
        response = http.get(path)
        assert response.status_code == 200
        assert "id=app" in response.text
        assert response.headers["cache-control"] == "no-cache"


def test_the_package_copy_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    package = build(tmp_path / "package")
    (package / "index.html").write_text("packaged")
    with client(monkeypatch, package, build(tmp_path / "dist")) as http:
        assert http.get("/").text == "packaged"


def test_assets_are_immutable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with client(monkeypatch, tmp_path / "package", build(tmp_path / "dist")) as http:
        response = http.get("/assets/main-ABC123.js")
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "javascript" in response.headers["content-type"]
        assert http.get("/assets/missing.js").status_code == 404
        assert http.get("/assets/..%2Findex.html").status_code == 404
        assert http.get("/api/ping").text == "pong"
