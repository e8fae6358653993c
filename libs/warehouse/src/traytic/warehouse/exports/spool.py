"""A write-only file that hands back what was written since the last look: lets `zipfile` and
`pyarrow` write into a response that is being streamed, a piece at a time."""

from __future__ import annotations

import io


class Spool(io.RawIOBase):
    """Unseekable; `take()` returns and forgets the bytes written so far."""

    def __init__(self) -> None:
        super().__init__()
        self._parts: list[bytes] = []
        self._position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = bytes(data)
        self._parts.append(chunk)
        self._position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self._position

    def take(self) -> bytes:
        found = b"".join(self._parts)
        self._parts.clear()
        return found
