"""Typed settings read from `TRAYTIC_*` environment variables, in one place.

Each service declares one frozen msgspec Struct of its settings; `load_settings()` fills it from
the environment (field `nats_url` ← `TRAYTIC_NATS_URL`). Defaults work for the embedded mode, so a
newcomer needs no configuration at all. Nothing else in Traytic reads `os.environ`.
"""

from __future__ import annotations

import os
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from traytic.core.errors import ConfigurationError

ENV_PREFIX = "TRAYTIC_"

S = TypeVar("S", bound=msgspec.Struct)


def _is_sequence_type(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, frozenset, set):
        return True
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        return any(_is_sequence_type(arg) for arg in typing.get_args(annotation))
    return False


def env_name(field: str) -> str:
    """The environment variable that sets `field`."""
    return ENV_PREFIX + field.upper()


def load_settings(
    cls: type[S], /, *, environ: Mapping[str, str] | None = None, **overrides: Any
) -> S:
    """Build `cls` from `TRAYTIC_*` variables; `overrides` win (tests and the dev mode use them).

    Lists are comma-separated (`TRAYTIC_TRUSTED_PROXIES=10.0.0.0/8,127.0.0.1`). A value of the
    wrong type fails start-up with the variable's name, never later at request time.
    """
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    raw: dict[str, Any] = {}
    for field in msgspec.structs.fields(cls):
        name = env_name(field.name)
        if name in env:
            value: Any = env[name]
            if _is_sequence_type(hints[field.name]):
                value = [part.strip() for part in value.split(",") if part.strip()]
            raw[field.name] = value
    raw.update(overrides)
    try:
        return msgspec.convert(raw, cls, strict=False)
    except msgspec.ValidationError as exc:
        raise ConfigurationError(_name_variable(str(exc))) from exc


def _name_variable(message: str) -> str:
    # msgspec says "... - at `$.nats_url`"; a user sets TRAYTIC_NATS_URL, so name that.
    if "`$." in message:
        head, _, path = message.partition("`$.")
        field = path.split("`", 1)[0].split("[", 1)[0]
        return f"{head.removesuffix(' - at ').strip()}: {env_name(field)}"
    return message


def describe(cls: type[msgspec.Struct]) -> list[tuple[str, str]]:
    """`(variable, default)` pairs of a settings class, for `traytic settings` and the README."""
    rows = []
    for field in msgspec.structs.fields(cls):
        default = field.default
        if default is msgspec.NODEFAULT and field.default_factory is not msgspec.NODEFAULT:
            default = field.default_factory()
        if isinstance(default, (list, tuple)):
            shown = ",".join(str(item) for item in default)
        elif default is None or default is msgspec.NODEFAULT:
            shown = ""
        elif isinstance(default, bool):
            shown = str(default).lower()
        else:
            shown = str(default)
        rows.append((env_name(field.name), shown))
    return rows
