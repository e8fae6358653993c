"""Every file a service serves in `make dev` is built inside that service's image.

The tracker (`/script.js`, `/script.vitals.js`) and the dashboard (`/`, `/assets/*`) are build
output, git-ignored and left out of the Docker context, so an image holds them only if the
Dockerfile builds them. Three sources must agree: the serving code (which package path each
service reads), the Makefile (what `make dev` builds and copies there) and the Dockerfile (what
each image holds, worked out by `image_contents` without a Docker daemon).
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import zipfile
from importlib import resources
from pathlib import Path

import pytest

from tests.deploy.image_contents import SITE_PACKAGES, Stage, build_stages
from traytic.gateway.endpoints import TRACKER_DIR, TRACKER_FILES
from traytic.query.endpoints.dashboard import PACKAGE_DIR

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
VENV = "/app/.venv"


def served_files() -> list[tuple[str, str]]:
    """(service, path inside its package) of each file the serving code reads from a build."""
    dashboard = PACKAGE_DIR.relative_to(Path(str(resources.files("traytic.query"))))
    return [("gateway", f"{TRACKER_DIR}/{name}") for name in TRACKER_FILES] + [
        ("query", f"{dashboard}/index.html"),
        ("query", f"{dashboard}/assets/main-0A1B2C3D.js"),  # any hashed name the build writes
        ("query", f"{dashboard}/assets/main-0A1B2C3D.css"),
    ]


def repo_path(service: str, path: str) -> str:
    return f"/services/{service}/src/traytic/{service}/{path}"


def make_recipes(text: str) -> dict[str, list[str]]:
    """Each Makefile target's recipe, as commands, with `$(VAR)` expanded."""
    variables = dict(re.findall(r"^([A-Z_]+) :?= (.+)$", text, re.MULTILINE))
    expanded = re.sub(r"\$\(([A-Z_]+)\)", lambda m: variables.get(m[1], m[0]), text)
    recipes: dict[str, list[str]] = {}
    target = None
    for line in expanded.splitlines():
        header = re.match(r"^([a-z-]+):", line)
        if header:
            target = header[1]
            recipes[target] = []
        elif target and line.startswith("\t"):
            recipes[target] += [command.strip() for command in line.split("&&")]
    return recipes


def make_dev_outputs() -> Stage:
    """The build output that `make dev` copies into the services' packages, with its origin."""
    recipes = make_recipes((ROOT / "Makefile").read_text())
    called = re.search(r"\$\(MAKE\)((?: [a-z-]+)+);", " ".join(recipes["dev"]))
    assert called, "`make dev` no longer calls the build targets"
    outputs = Stage("make dev")
    for target in [word for word in called[1].split() if not word.startswith("-")]:
        commands = recipes[target]
        built = [c.split()[1] for c in commands if c.startswith("cd ")]
        for command in commands:
            words = shlex.split(command)
            if words[:1] != ["cp"]:
                continue
            *sources, dest = [w for w in words[1:] if not w.startswith("-")]
            for source in sources:
                project = next((p for p in built if source.startswith(f"{p}/dist")), None)
                assert project and "npm run build" in commands, f"{source} is not build output"
                if source.endswith("/."):
                    outputs.files[f"/{dest.rstrip('/')}/"] = f"build:{source[:-2]}/"
                else:
                    outputs.files[f"/{dest.rstrip('/')}/{Path(source).name}"] = f"build:{source}"
    return outputs


def missing_from_images(dockerfile: str) -> list[str]:
    """Each served file that its service's image does not hold as `make dev` builds it."""
    stages = build_stages(ROOT, dockerfile)
    make_dev = make_dev_outputs()
    problems = []
    for service, path in served_files():
        expected = make_dev.origin(repo_path(service, path))
        found = stages[service].origin(f"{VENV}/{SITE_PACKAGES}/traytic/{service}/{path}")
        if found != expected:
            problems.append(f"{service} image: {path} is {found}, `make dev` has {expected}")
    return problems


def test_make_dev_builds_every_file_the_services_serve() -> None:
    make_dev = make_dev_outputs()
    for service, path in served_files():
        origin = make_dev.origin(repo_path(service, path))
        assert origin and origin.startswith("build:"), f"make dev does not build {service} {path}"


def test_each_image_holds_the_files_its_service_serves() -> None:
    assert missing_from_images(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize(
    ("broken", "missing"),
    [
        pytest.param(
            lambda d: re.sub(r"COPY --from=dashboard .*\n", "", d),
            "query image: static/dashboard/index.html",
            id="dashboard-not-copied",
        ),
        pytest.param(
            lambda d: d.replace(" /src/sdk/js/dist/script.vitals.js", ""),
            "gateway image: static/script.vitals.js",
            id="vitals-not-copied",
        ),
        pytest.param(
            lambda d: d.replace(
                "COPY web/ ./\nRUN npm run build", "COPY sdk/js/ ./\nRUN npm run build"
            ),
            "query image: static/dashboard/index.html is build:sdk/js/dist/index.html",
            id="wrong-project-built",
        ),
    ],
)
def test_the_guard_catches_an_image_without_its_files(broken: object, missing: str) -> None:
    assert callable(broken)
    problems = missing_from_images(broken(DOCKERFILE.read_text()))
    assert any(problem.startswith(missing) for problem in problems), problems


@pytest.mark.parametrize("service", sorted({service for service, _ in served_files()}))
def test_the_service_wheel_carries_its_built_files(service: str, tmp_path: Path) -> None:
    """The image installs each service as a wheel (`uv sync --no-editable`): the build backend
    must not leave git-ignored build output out of it."""
    uv = shutil.which("uv") or os.environ.get("UV")
    if uv is None:
        pytest.skip("uv not on PATH")
    member = tmp_path / service
    shutil.copytree(ROOT / "services" / service, member, ignore=shutil.ignore_patterns("static"))
    paths = [path for owner, path in served_files() if owner == service]
    for path in paths:
        file = member / "src" / "traytic" / service / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text("built")
    subprocess.run(
        [
            uv,
            "build",
            "--wheel",
            "--offline",
            "--no-config",
            "-q",
            "-o",
            str(tmp_path / "out"),
            str(member),
        ],
        check=True,
    )
    [wheel] = (tmp_path / "out").glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {f"traytic/{service}/{path}" for path in paths} <= names


def _installed(package: str) -> set[str]:
    """The distributions `uv sync --package <package>` installs from the committed lock."""
    uv = shutil.which("uv") or os.environ.get("UV")
    if uv is None:
        pytest.skip("uv not on PATH")
    exported = subprocess.run(
        [uv, "export", "--frozen", "--no-dev", "--no-hashes", "--package", package],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {line.split("==")[0].lower() for line in exported.splitlines() if "==" in line}


def test_the_service_images_leave_chdb_out() -> None:
    """chDB (with pyarrow and pandas, ~800 MB) is the embedded mode's: the images, which talk to
    a ClickHouse server, install each service without extras."""
    for service in ("gateway", "consumer", "query", "billing"):
        installed = _installed(f"traytic-{service}")
        assert not {"chdb", "pandas"} & installed, service
        # pyarrow writes the query service's Parquet exports; no other service carries it
        assert ("pyarrow" in installed) == (service == "query"), service
    assert "chdb" in _installed("traytic")  # `traytic dev` has it
    syncs = [line for line in DOCKERFILE.read_text().splitlines() if "uv sync" in line]
    assert syncs and not [line for line in syncs if "--extra" in line or "--all-extras" in line]
