"""Every body that is not valid JSON in valid UTF-8 (or holds a value the bus cannot carry) gets
a 400, never a 500, and never costs the good beacons sent beside it: they are stored once.

Hypothesis fuzzes the decoder twice: over raw bytes (a good beacon with bytes spliced into its
strings) and over JSON values (strings with NUL and lone surrogates, integers of any size).
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient
from tests.gateway.conftest import StreamReader

from traytic.core.events import CustomEvent

SITE = "__SITE__"


def body_with(site_id: str, template: bytes) -> bytes:
    return template.replace(SITE.encode(), site_id.encode())


def prop_body(raw_value: bytes) -> bytes:
    return (
        b'{"siteId":"__SITE__","events":[{"type":"event","name":"n",'
        b'"url":"https://example.com/","props":{"p":' + raw_value + b"}}]}"
    )


def url_body(raw_url: bytes) -> bytes:
    return b'{"siteId":"__SITE__","events":[{"type":"pageview","url":"' + raw_url + b'"}]}'


DEEP_ARRAYS = b"[" * 20_000 + b"]" * 20_000
DEEP_OBJECTS = b'{"a":' * 5_000 + b"1" + b"}" * 5_000

BAD_BODIES = {
    "byte 0xff in a string": url_body(b"https://example.com/\xff"),
    "byte 0xff in a key": b'{"siteId":"__SITE__","\xff":1,"events":[]}',
    "truncated sequence": url_body(b"https://example.com/\xe2\x82"),
    "overlong slash (C0 AF)": url_body(b"https://example.com/\xc0\xaf"),
    "overlong 3-byte (E0 80 AF)": url_body(b"https://example.com/\xe0\x80\xaf"),
    "encoded surrogate (ED A0 80)": url_body(b"https://example.com/\xed\xa0\x80"),
    "escaped lone high surrogate": url_body(b"https://example.com/\\ud800"),
    "escaped lone low surrogate": url_body(b"https://example.com/\\udc00"),
    "code point past U+10FFFF (F4 90 80 80)": url_body(b"https://example.com/\xf4\x90\x80\x80"),
    "byte-order mark": b"\xef\xbb\xbf" + url_body(b"https://example.com/"),
    "raw NUL": url_body(b"https://example.com/\x00"),
    "NUL escape in url": url_body(b"https://example.com/\\u0000"),
    "NUL escape in siteId": b'{"siteId":"st\\u0000","events":[{"type":"pageview","url":"u"}]}',
    "NUL escape in a prop key": (
        b'{"siteId":"__SITE__","events":[{"type":"event","name":"n",'
        b'"url":"https://example.com/","props":{"a\\u0000":1}}]}'
    ),
    "NUL escape in a prop value": prop_body(b'"x\\u0000"'),
    "NUL escape in an event name": (
        b'{"siteId":"__SITE__","events":[{"type":"event","name":"\\u0000",'
        b'"url":"https://example.com/"}]}'
    ),
    "deep arrays in an unknown field": (
        b'{"siteId":"__SITE__","x":' + DEEP_ARRAYS + b',"events":[{"type":"pageview","url":"u"}]}'
    ),
    "deep objects in an unknown field": (
        b'{"siteId":"__SITE__","x":' + DEEP_OBJECTS + b',"events":[{"type":"pageview","url":"u"}]}'
    ),
    "deep arrays in props": prop_body(DEEP_ARRAYS),
    "integer past 2**64": prop_body(b"18446744073709551616"),
    "integer past 2**63": prop_body(b"9223372036854775808"),
    "integer below -2**63": prop_body(b"-9223372036854775809"),
    "integer of 5000 digits": prop_body(b"9" * 5000),
    "float past double": prop_body(b"1e400"),
    "vital past double": (
        b'{"siteId":"__SITE__","events":[{"type":"vital","name":"LCP","value":1e999,"url":"u"}]}'
    ),
    "NaN literal": prop_body(b"NaN"),
    "screen past double": b'{"siteId":"__SITE__","screen":-1e400,"events":[]}',
    "NUL escape in an error source": (
        b'{"siteId":"__SITE__","events":[{"type":"error","message":"m","url":"u",'
        b'"source":"a.js\\u0000:1:1"}]}'
    ),
    "error source past the url limit": (
        b'{"siteId":"__SITE__","events":[{"type":"error","message":"m","url":"u","source":"'
        + b"s" * 20_000
        + b'"}]}'
    ),
    "engaged time past a day": (
        b'{"siteId":"__SITE__","events":[{"type":"engagement","url":"u",'
        b'"engagedMs":86400001,"scrollDepth":0}]}'
    ),
    "scroll depth past 100": (
        b'{"siteId":"__SITE__","events":[{"type":"engagement","url":"u",'
        b'"engagedMs":1,"scrollDepth":101}]}'
    ),
}


def good_body(site_id: str, i: int) -> bytes:
    return json.dumps(
        {
            "siteId": site_id,
            "events": [
                {"type": "event", "name": "n", "url": "https://example.com/", "props": {"i": i}}
            ],
        }
    ).encode()


def stored_ids(beacons: list[Any]) -> list[int]:
    ids = []
    for beacon in beacons:
        for event in beacon.events:
            assert isinstance(event, CustomEvent)
            ids.append(event.props["i"])
    return sorted(ids)


@pytest.mark.parametrize("name", list(BAD_BODIES))
async def test_bad_body_is_400_and_good_neighbours_are_stored_once(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
    name: str,
) -> None:
    bad = body_with(site_id, BAD_BODIES[name])
    # The bad body races ten good ones through the same coalesced batch.
    sends = [client.post("/collect", content=good_body(site_id, i)) for i in range(5)]
    sends.append(client.post("/collect", content=bad))
    sends += [client.post("/collect", content=good_body(site_id, i)) for i in range(5, 10)]
    responses = await asyncio.gather(*sends)
    refused = responses.pop(5)
    assert refused.status_code == 400, refused.text
    error = refused.json()
    assert error["error"] == "invalid_input"
    assert error["field"].startswith("$")
    assert [r.status_code for r in responses] == [204] * 10
    assert stored_ids(await reader.beacons(expect=10)) == list(range(10))
    assert await reader.beacons(timeout=0.2) == []
    assert client.app.state.gateway.metrics.rejected_by_reason["invalid"] == 1


FUZZ = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def utf8_or_not(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@FUZZ
@given(
    spliced=st.binary(min_size=1, max_size=12),
    where=st.sampled_from(["url", "name", "key", "value"]),
)
async def test_raw_bytes_spliced_into_strings_are_204_or_400_and_neighbours_land(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
    spliced: bytes,
    where: str,
) -> None:
    # Quotes and backslashes would end or escape the string: keep the splice inside it.
    spliced = spliced.replace(b'"', b"'").replace(b"\\", b"/")
    parts = {"url": b"https://example.com/", "name": b"n", "key": b"k", "value": b"v"}
    parts[where] += spliced
    bad = (
        b'{"siteId":"'
        + site_id.encode()
        + b'","events":[{"type":"event","name":"'
        + parts["name"]
        + b'","url":"'
        + parts["url"]
        + b'","props":{"'
        + parts["key"]
        + b'":"'
        + parts["value"]
        + b'"}}]}'
    )
    responses = await asyncio.gather(
        client.post("/collect", content=bad),
        *(client.post("/collect", content=good_body(site_id, i)) for i in range(3)),
    )
    verdict = responses[0].status_code
    control = any(byte < 0x20 for byte in spliced)  # JSON refuses raw control characters
    assert verdict == (204 if utf8_or_not(spliced) and not control else 400), responses[0].text
    assert [r.status_code for r in responses[1:]] == [204] * 3
    landed = await reader.beacons(expect=3 + (verdict == 204))
    assert stored_ids([b for b in landed if "i" in b.events[0].props]) == [0, 1, 2]  # type: ignore[union-attr]


any_text = st.text(
    alphabet=st.characters(codec=None, exclude_categories=()), max_size=8
)  # lone surrogates and NUL included


@FUZZ
@given(
    key=any_text,
    value=st.one_of(any_text, st.integers(), st.floats()),
    ensure_ascii=st.booleans(),
)
async def test_json_values_of_any_text_and_size_are_204_or_400(
    client: AsyncTestClient,  # type: ignore[type-arg]
    reader: StreamReader,
    site_id: str,
    key: str,
    value: object,
    ensure_ascii: bool,
) -> None:
    document = {
        "siteId": site_id,
        "events": [
            {"type": "event", "name": "n", "url": "https://example.com/", "props": {key: value}}
        ],
    }
    # Without ensure_ascii a lone surrogate becomes the bytes UTF-8 forbids (ED A0 80...).
    body = json.dumps(document, ensure_ascii=ensure_ascii).encode("utf-8", "surrogatepass")
    response = await client.post("/collect", content=body)
    texts = [key, value] if isinstance(value, str) else [key]
    surrogate = any(0xD800 <= ord(c) <= 0xDFFF for text in texts for c in text)
    nul = any("\x00" in text for text in texts)
    too_big = isinstance(value, int) and not -(2**63) <= value < 2**63
    not_json = isinstance(value, float) and not math.isfinite(value)  # json.dumps: `Infinity`
    empty_key = key == ""
    too_long = len(key) > 64
    refused = surrogate or nul or too_big or not_json or empty_key or too_long
    expected = 400 if refused else 204
    assert response.status_code == expected, (response.text, document)
    if expected == 204:
        [landed] = await reader.beacons(expect=1)
        assert landed.events[0].props == {key: value}  # type: ignore[union-attr]
