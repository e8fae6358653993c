"""`dev.json`: scripts and tests poll for it and read it the moment it exists, so it appears whole
or not at all, and it holds the demo password and API key, so only its owner can ever read it."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

from traytic.cli.dev_info import read_info, write_info


def test_a_reader_never_sees_a_partial_or_readable_file(tmp_path: Path) -> None:
    info_file = tmp_path / "dev.json"
    info = {"url": "http://localhost:3000", "password": "p" * 4000, "api_key": "tk_" + "k" * 4000}
    seen: list[tuple[int, str]] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                fd = os.open(info_file, os.O_RDONLY)
            except FileNotFoundError:
                continue
            with os.fdopen(fd) as file:
                seen.append((stat.S_IMODE(os.fstat(file.fileno()).st_mode), file.read()))

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for round_ in range(200):
            write_info(info_file, {**info, "round": round_})
    finally:
        stop.set()
        watcher.join()

    assert seen, "the watcher never saw the file"
    for mode, text in seen:
        assert mode == 0o600
        assert json.loads(text)["password"] == info["password"]
    assert read_info(info_file)["round"] == 199
    assert [p.name for p in tmp_path.iterdir()] == ["dev.json"]  # no partial file left behind
