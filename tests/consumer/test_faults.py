"""Faults end with exactly the events that were accepted: none missing, none counted twice."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import pytest
from nats.js.api import ConsumerConfig

from tests.consumer.conftest import TEST_SETTINGS, Harness, beacon
from traytic.core import bus
from traytic.core.events import CustomEvent, decode_batch


def _events(batch_no: int, count: int = 20) -> list[CustomEvent]:
    return [
        CustomEvent(name="e", url="https://example.com/", props={"n": batch_no * 1000 + i})
        for i in range(count)
    ]


async def _assert_exact(harness: Harness, expected: int, timeout: float = 30.0) -> None:
    await harness.wait_for_rows(expected, timeout=timeout, settle=1.0)
    total, unique = await harness.count()
    assert (total, unique) == (expected, expected)
    [row] = await harness.warehouse.query("SELECT uniqExact(props.value[1]) AS n FROM events")
    assert int(row["n"]) == expected
    # Each visit's row holds each of its events once, whatever was retried or redelivered.
    [visits] = await harness.warehouse.query(
        "SELECT count() AS visits, sum(version) AS stored, sum(events) AS custom"
        " FROM sessions FINAL"
    )
    [distinct] = await harness.warehouse.query(
        "SELECT uniqExact(session_id) AS n FROM events WHERE type IN ('pageview', 'event')"
    )
    assert int(visits["visits"]) == int(distinct["n"]) > 0
    assert int(visits["stored"]) == int(visits["custom"]) == expected


async def test_consumer_killed_mid_batch_and_restarted(harness: Harness) -> None:
    rng = random.Random(7)
    consumer = await harness.start_consumer()
    for round_no in range(3):
        for batch_no in range(15):
            # Several beacons per message, like coalesced requests.
            await harness.publisher.publish(
                [beacon(_events(round_no * 100 + batch_no * 3 + k, 10)) for k in range(3)]
            )
            if batch_no == 7:
                await asyncio.sleep(rng.uniform(0.05, 0.4))  # kill it somewhere inside a batch
                await harness.kill(consumer)
                consumer = await harness.start_consumer()
    await _assert_exact(harness, harness.publisher.event_count)


async def test_duplicated_delivery_is_stored_once(
    harness: Harness, bus_settings: bus.BusSettings
) -> None:
    """A message whose rows were inserted but whose ack never arrived comes back (a real
    JetStream redelivery); the consumer must notice the rows are there."""
    for n in range(4):
        await harness.publisher.publish([beacon(_events(n))])
    names = bus.names(bus_settings.namespace)
    js = harness.nc.jetstream()
    await bus.ensure_stream(js, bus_settings)
    subscription = await js.pull_subscribe(
        names.events_filter,
        durable=TEST_SETTINGS.consumer_name,
        stream=names.stream,
        config=ConsumerConfig(
            ack_wait=TEST_SETTINGS.ack_wait_s,
            max_deliver=-1,
            max_ack_pending=TEST_SETTINGS.max_ack_pending,
        ),
    )
    messages = await subscription.fetch(2, timeout=5)
    probe = await harness.start_consumer()
    await harness.halt(probe)  # only to reuse its enrichment; the real run starts below
    job = await probe.prepare([(m, decode_batch(m.data)) for m in messages])
    await harness.warehouse.insert_events(job.rows)  # stored ...
    for message in messages:
        await message.nak()  # ... but not acked: JetStream delivers them again
    await harness.stop_all()

    consumer = await harness.start_consumer()
    await _assert_exact(harness, harness.publisher.event_count)
    assert consumer.metrics.duplicates_skipped == len(job.rows)


async def test_clickhouse_down_for_a_while(
    harness: Harness, warehouse_settings, request: pytest.FixtureRequest
) -> None:  # type: ignore[no-untyped-def]
    if warehouse_settings.clickhouse_url is None:
        pytest.skip("chDB runs in-process: it cannot be down while we are up")
    server = request.getfixturevalue("clickhouse_server")
    if not getattr(server, "controllable", False):
        pytest.skip("an external ClickHouse server is not ours to stop")
    consumer = await harness.start_consumer()
    await harness.publisher.publish([beacon(_events(0))])
    await harness.wait_for_rows(20)

    server.stop()
    try:
        for n in range(1, 6):
            await harness.publisher.publish([beacon(_events(n))])
        for _ in range(100):  # the consumer is failing and retrying, not dropping
            if consumer.metrics.insert_retries >= 2:
                break
            await asyncio.sleep(0.1)
        assert consumer.metrics.insert_retries >= 2
    finally:
        server.start()
    await _assert_exact(harness, harness.publisher.event_count)


async def test_consumer_process_sigkilled_and_restarted(
    harness: Harness,
    warehouse_settings,
    bus_settings: bus.BusSettings,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """The real thing: `traytic consumer` as a process, killed with SIGKILL mid-stream."""
    import os
    import signal
    import subprocess
    import sys

    if warehouse_settings.clickhouse_url is None:
        pytest.skip("chDB holds its data directory in this test process; covered in-process above")
    env = {
        **os.environ,
        "TRAYTIC_NATS_URL": bus_settings.nats_url,
        "TRAYTIC_NAMESPACE": bus_settings.namespace,
        "TRAYTIC_CLICKHOUSE_URL": warehouse_settings.clickhouse_url,
        "TRAYTIC_CLICKHOUSE_DATABASE": warehouse_settings.clickhouse_database,
        "TRAYTIC_BATCH_MAX_WAIT_S": "0.2",
        "TRAYTIC_BATCH_MAX_EVENTS": "200",
        "TRAYTIC_ACK_WAIT_S": "2",
        "TRAYTIC_LOG_FORMAT": "json",
    }

    def spawn(name: str) -> subprocess.Popen[bytes]:
        with (tmp_path / f"{name}.log").open("wb") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "traytic.cli.main", "consumer"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    first = spawn("first")
    for n in range(40):
        await harness.publisher.publish([beacon(_events(n * 2 + k, 10)) for k in range(2)])
        if n == 25:
            total, _ = await harness.count()
            deadline = time.monotonic() + 90
            while total == 0:  # let it get going, then kill it wherever it is
                assert first.poll() is None, _log_tails(tmp_path, "first")
                assert time.monotonic() < deadline, _log_tails(tmp_path, "first")
                await asyncio.sleep(0.05)
                total, _ = await harness.count()
            first.send_signal(signal.SIGKILL)
            first.wait()
    second = spawn("second")
    try:
        # A fresh process under a loaded CI runner takes seconds to import and connect, and
        # what the first one held comes back only after the ack wait: more than the default.
        await _assert_exact(harness, harness.publisher.event_count, timeout=90)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n{_log_tails(tmp_path, 'first', 'second')}") from None
    finally:
        second.terminate()
        code = second.wait(timeout=30)
    assert code == 0, _log_tails(tmp_path, "second")


def _log_tails(folder: Path, *names: str) -> str:
    """The last lines each consumer process logged: what a failure on CI needs to be read."""
    parts = []
    for name in names:
        lines = (folder / f"{name}.log").read_text(errors="replace").splitlines()
        parts.append(f"--- {name}.log (last 15 lines)\n" + "\n".join(lines[-15:]))
    return "\n".join(parts)
