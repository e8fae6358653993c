"""What each image of `deploy/docker/Dockerfile` holds, worked out from the Dockerfile without Docker.

A small model of a BuildKit build, enough for our Dockerfile: stages (`FROM ... AS`), `WORKDIR`,
`ENV`, `COPY` from the build context (tracked files minus `.dockerignore`) or from another stage,
and the two `RUN`s that create files we serve: `npm run build` (writes `dist/` of the Node project
in the working directory, as `sdk/js` and `web/` do) and `uv sync --no-editable --package X` (puts
the member's package into the virtualenv's site-packages). Every file carries where it came from
(`context:<path>` or `build:<project>/dist/<path>`), so a test can ask "does the query image hold
the dashboard that `npm run build` in web/ produced?". A directory whose content is only known
after a build is one entry ending in `/`: anything under it is there, with the matching origin.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
import shlex
import subprocess
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

SITE_PACKAGES = "site-packages"
"""Stands for `lib/pythonX.Y/site-packages` inside a virtualenv."""


class BuildError(Exception):
    """The build as modelled would fail (a COPY source that does not exist)."""


@dataclass
class Stage:
    name: str
    files: dict[str, str] = field(default_factory=dict)
    """absolute path (or `dir/` for a built directory) -> origin"""
    cwd: str = "/"
    env: dict[str, str] = field(default_factory=dict)
    external: bool = False
    """Built on a published image, whose own files are not modelled."""

    def origin(self, path: str) -> str | None:
        """Where the file at `path` came from, or None when the image does not hold it."""
        if path in self.files:
            return self.files[path]
        for key, origin in self.files.items():
            if key.endswith("/") and path.startswith(key):
                return origin + path[len(key) :]
        return None

    def under(self, directory: str) -> dict[str, str]:
        """The entries below `directory`, keyed by their path relative to it (`""` when the
        directory itself was built)."""
        prefix = directory.rstrip("/") + "/"
        return {key[len(prefix) :]: o for key, o in self.files.items() if key.startswith(prefix)}


def logical_lines(text: str) -> list[str]:
    """Instructions with their continuation lines joined and comments dropped."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append(pending + stripped)
        pending = ""
    return lines


def dockerignore_matcher(text: str) -> re.Pattern[str]:
    """One regex matching a context path that `.dockerignore` leaves out (or a parent of it)."""
    alternatives = []
    for line in text.splitlines():
        pattern = line.strip().strip("/")
        if not pattern or pattern.startswith("#"):
            continue
        if pattern.startswith("!"):
            raise NotImplementedError("exceptions in .dockerignore are not modelled")
        parts = []
        for piece in re.split(r"(\*\*/|\*|\?)", pattern):
            parts.append(
                {"**/": "(?:.*/)?", "*": "[^/]*", "?": "[^/]"}.get(piece, re.escape(piece))
            )
        alternatives.append("".join(parts))
    return re.compile("^(?:" + "|".join(alternatives) + ")(?:/.*)?$")


def build_context(root: Path) -> dict[str, str]:
    """The context a clean clone sends: tracked files that `.dockerignore` does not leave out."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True, text=True
    ).stdout.split("\0")
    ignored = dockerignore_matcher((root / ".dockerignore").read_text())
    return {f"/{p}": f"context:{p}" for p in tracked if p and not ignored.match(p)}


def workspace_members(root: Path) -> dict[str, tuple[str, str]]:
    """Distribution name -> (member folder, package folder inside it) for each workspace member."""
    members: dict[str, tuple[str, str]] = {}
    for pyproject in sorted(root.glob("*/*/pyproject.toml")):
        project = tomllib.loads(pyproject.read_text())
        module = project.get("tool", {}).get("uv", {}).get("build-backend", {}).get("module-name")
        if module:
            folder = str(pyproject.parent.relative_to(root))
            members[project["project"]["name"]] = (folder, "src/" + module.replace(".", "/"))
    return members


def _copy_arguments(rest: str) -> tuple[dict[str, str], list[str]]:
    if rest.lstrip().startswith("["):
        words: list[str] = json.loads(rest)
    else:
        words = shlex.split(rest)
    flags = {}
    while words and words[0].startswith("--"):
        name, _, value = words.pop(0)[2:].partition("=")
        flags[name] = value
    return flags, words


def _copy(stage: Stage, source: Stage, sources: list[str], dest: str) -> None:
    into_dir = dest.endswith("/") or len(sources) > 1
    dest = posixpath.normpath(posixpath.join(stage.cwd, dest))
    for src in sources:
        path = posixpath.normpath(posixpath.join("/", src))
        if any(c in path for c in "*?["):
            matches = [k for k in source.files if not k.endswith("/") and fnmatch.fnmatch(k, path)]
            if not matches:
                raise BuildError(f"COPY {src}: nothing matches in {source.name}")
            for match in matches:
                stage.files[dest + "/" + posixpath.basename(match)] = source.files[match]
            continue
        content = source.under(path)
        origin = source.origin(path)
        if content:  # a directory: its content goes into dest
            for relative, entry in content.items():
                stage.files[dest + "/" + relative] = entry
        elif origin is not None and src.endswith(("/", "/.")):  # a folder inside a build
            stage.files[dest + "/"] = origin + "/"
        elif origin is not None or source.external:
            # not modelled in a stage built on a published image: a file of that image
            origin = origin or f"image:{source.name}:{path}"
            stage.files[dest + "/" + posixpath.basename(path) if into_dir else dest] = origin
        else:
            raise BuildError(f"COPY {src}: not found in {source.name}")


def _run(stage: Stage, command: str, members: dict[str, tuple[str, str]]) -> None:
    if "npm run build" in command:
        project = None
        for relative, origin in stage.under(stage.cwd).items():
            if origin.startswith("context:") and origin.endswith("/" + relative):
                project = origin[len("context:") : -len(relative) - 1]
                break
        if project is None:
            raise BuildError(f"`npm run build` in {stage.cwd}, which holds no project")
        stage.files[stage.cwd.rstrip("/") + "/dist/"] = f"build:{project}/dist/"
    package = re.search(r"--package[ =](\S+)", command)
    if "uv sync" in command and "--no-editable" in command and package:
        folder, package_dir = members[package.group(1)]
        venv = stage.env.get("UV_PROJECT_ENVIRONMENT", stage.cwd.rstrip("/") + "/.venv")
        installed = f"{venv}/{SITE_PACKAGES}/{package_dir.removeprefix('src/')}"
        for relative, origin in stage.under(f"{stage.cwd}/{folder}/{package_dir}").items():
            stage.files[f"{installed}/{relative}"] = origin


def build_stages(root: Path, dockerfile: str) -> dict[str, Stage]:
    """Every stage of the Dockerfile, in order, with the files it holds once built."""
    context = Stage("the build context", build_context(root))
    members = workspace_members(root)
    stages: dict[str, Stage] = {}
    stage: Stage | None = None
    for line in logical_lines(dockerfile):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else str(len(stages))
            parent = stages.get(words[0])
            stage = Stage(name, external=parent is None or parent.external)
            if parent is not None:
                stage.files, stage.cwd, stage.env = dict(parent.files), parent.cwd, dict(parent.env)
            stages[name] = stage
        elif stage is None:
            continue  # ARG before the first FROM
        elif keyword == "WORKDIR":
            stage.cwd = posixpath.normpath(posixpath.join(stage.cwd, rest.strip()))
        elif keyword == "ENV":
            for word in shlex.split(rest):
                key, _, value = word.partition("=")
                stage.env[key] = value
        elif keyword in {"COPY", "ADD"}:
            flags, words = _copy_arguments(rest)
            source = stages[flags["from"]] if "from" in flags else context
            _copy(stage, source, words[:-1], words[-1])
        elif keyword == "RUN":
            _run(stage, rest, members)
    return stages
