"""`traytic.core` is what every service shares, the consumer too, which serves no HTTP: none of
its modules may pull in Litestar or Granian (HTTP pieces live in `traytic.http`)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import traytic.core


def test_traytic_core_imports_no_http_framework() -> None:
    modules = [f"traytic.core.{m.name}" for m in pkgutil.iter_modules(traytic.core.__path__)]
    assert "traytic.core.errors" in modules
    script = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'litestar', 'granian'}))\n"
    )
    found = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
