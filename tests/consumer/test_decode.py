"""Decode and dead-letter: a good message decodes; a bad one is redelivered, then given up
once: copied to the dead-letter subject with why, acked, counted."""

from __future__ import annotations

from tests.consumer.conftest import beacon
from tests.consumer.stand_ins import RecordingNats, message
from traytic.consumer.dead_letter import DeadLetter
from traytic.consumer.decode import Decoder
from traytic.consumer.metrics import ConsumerMetrics
from traytic.core.events import IngestBatch, Pageview

DEAD = "traytic.dead.events"


class _DeadLetterStream:
    def __init__(self, log: list[tuple[str, object]]) -> None:
        self.log = log
        self.headers: list[dict[str, str]] = []

    async def publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        self.log.append(("dead_letter", (subject, data)))
        self.headers.append(headers)


def _decoder() -> tuple[Decoder, RecordingNats, _DeadLetterStream, ConsumerMetrics]:
    client = RecordingNats()
    stream = _DeadLetterStream(client.log)
    metrics = ConsumerMetrics()
    decoder = Decoder(DeadLetter(stream.publish, DEAD, metrics), max_deliveries=3)
    return decoder, client, stream, metrics


async def test_a_batch_decodes_untouched() -> None:
    decoder, client, _, metrics = _decoder()
    batch = IngestBatch("b1", [beacon([Pageview(url="https://example.com/")])])
    assert await decoder.decode(message(client, batch)) == batch
    assert client.log == [] and metrics.dead_lettered == 0  # acked later, by the writer


async def test_bad_bytes_are_redelivered_then_given_up_once() -> None:
    decoder, client, stream, metrics = _decoder()
    for delivered in (1, 2):
        bad = message(client, b"\x93not a batch", delivered=delivered, seq=7)
        assert await decoder.decode(bad) is None
        assert client.replies(bad) == [b'-NAK {"delay": 1000000000}']
    assert metrics.dead_lettered == 0

    client.log.clear()
    last = message(client, b"\x93not a batch", delivered=3, seq=7)
    assert await decoder.decode(last) is None
    # Stored in the dead-letter stream first, then acked: a crash between redelivers it.
    assert client.log == [
        ("dead_letter", (DEAD, b"\x93not a batch")),
        ("publish", (last.reply, b"")),
    ]
    assert stream.headers[0]["Traytic-Stream-Seq"] == "7"
    assert stream.headers[0]["Traytic-Deliveries"] == "3"
    assert stream.headers[0]["Traytic-Reason"].startswith("undecodable: ")
    assert metrics.dead_lettered == 1


async def test_a_long_reason_is_cut() -> None:
    client = RecordingNats()
    stream = _DeadLetterStream(client.log)
    metrics = ConsumerMetrics()
    dead_letter = DeadLetter(stream.publish, DEAD, metrics)
    await dead_letter.give_up(message(client, b"x"), "why " * 1000)
    assert len(stream.headers[0]["Traytic-Reason"]) == 500
    assert metrics.dead_lettered == 1
