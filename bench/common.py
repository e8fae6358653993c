"""Shared by the benchmarks: peak RSS of a process tree, and process start/stop."""

from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path

import httpx
import psutil


def peak_rss_mb(pid: int) -> float:
    """Largest peak RSS (VmHWM) among the process and its children, in MB."""
    peak = 0
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            status = Path(f"/proc/{process.pid}/status").read_text()
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
    except (psutil.Error, FileNotFoundError):
        pass
    return peak / 1024


def cpu_seconds(pid: int) -> float:
    """User + system CPU time used so far by the process and its children (live or reaped by
    it), from /proc/<pid>/stat: utime, stime, cutime, cstime in clock ticks."""
    total = 0
    try:
        root = psutil.Process(pid)
        for process in [root, *root.children(recursive=True)]:
            stat = Path(f"/proc/{process.pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            total += sum(int(value) for value in fields[11:15])
    except (psutil.Error, FileNotFoundError):
        pass
    return total / os.sysconf("SC_CLK_TCK")


def self_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def start(
    cmd: list[str], env: dict[str, str], cpu: str | None, log: Path
) -> subprocess.Popen[bytes]:
    if cpu is not None:
        cmd = ["taskset", "-c", cpu, *cmd]
    with log.open("wb") as out:
        return subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT
        )


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(log.read_text())
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} not up: {log.read_text()}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
