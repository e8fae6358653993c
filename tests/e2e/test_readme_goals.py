"""The README's goal, funnel and goal-alert curl examples, run as written against a real
`traytic dev` (only the address and the placeholders of the first line are the test's), with
every call required to succeed: the examples are the API as it is, not as it once was."""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import DevProcess, start_dev

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
BASE = "http://localhost:3001"


def _section(title: str) -> str:
    start = README.index(f"### {title}\n")
    return README[start : README.index("\n### ", start + 1)]


def _bash_blocks(text: str) -> list[str]:
    """Every ```bash block, indented ones (inside a list item) dedented."""
    found = re.findall(r"^( *)```bash\n(.*?)^\1```", text, flags=re.S | re.M)
    return [textwrap.dedent(body) for _, body in found]


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevProcess, dict[str, str]]]:
    data_dir = tmp_path_factory.mktemp("readme") / "data"
    running = start_dev(data_dir)
    try:
        yield running, json.loads((data_dir / "dev.json").read_text())
    finally:
        running.stop()


def test_the_goal_examples_run_as_written(
    dev: tuple[DevProcess, dict[str, str]], tmp_path: Path
) -> None:
    process, info = dev
    goals = _bash_blocks(_section("Goals, funnels and revenue"))
    alerts = [b for b in _bash_blocks(_section("Alerts and reports")) if '\\"goal\\"' in b]
    assert len(goals) == 1 and len(alerts) == 1
    first, *rest = goals[0].splitlines()
    assert first.startswith("SITE=st_...; ORG=...; KEY=")  # the placeholders this test fills
    examples = "\n".join([*rest, alerts[0]]).replace(BASE, process.url)
    login = json.dumps({"email": info["email"], "password": info["password"]})
    script = f"""set -euo pipefail
curl() {{ command curl --fail-with-body "$@"; echo; }}
command curl -s -c jar -H 'content-type: application/json' {process.url}/api/auth/login \\
  -d '{login}' > /dev/null
CSRF=$(awk '$6=="traytic_csrf"{{print $7}}' jar)
ORG=$(command curl -s -b jar {process.url}/api/orgs \\
  | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
SITE={info["site_id"]}; KEY={info["api_key"]}
{examples}
"""
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,  # the assertion shows what the examples printed
    )
    assert done.returncode == 0, done.stdout + done.stderr
    answers = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    site, goal_list, report, sources, pages, overview, funnel, alert = answers
    assert site["currency"] == "EUR"
    assert [g["name"] for g in goal_list] == ["Pricing", "Purchase"]
    assert report["money"]["currency"] == "EUR" and len(report["goals"]) == 2
    assert "sources" in sources and "pages" in pages
    assert "visitors" in overview
    assert [s["name"] for s in funnel["steps"]] == ["Pricing", "Purchase"]
    assert funnel["breakdown"] == "source"
    assert alert["kind"] == "goal" and alert["below"] is True and alert["windowMinutes"] == 1440
