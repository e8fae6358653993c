"""Whatever a client sends, the gateway answers 2xx or 4xx, never 5xx (hypothesis)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import AsyncTestClient

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)

event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["pageview", "event", "vital", "error", "other"])},
    optional={
        "url": st.one_of(st.text(max_size=40), json_values),
        "name": st.one_of(st.sampled_from(["LCP", "CLS", "signup"]), json_values),
        "value": st.one_of(st.floats(), st.integers(), json_values),
        "props": st.one_of(
            st.dictionaries(st.text(max_size=10), json_values, max_size=5), json_values
        ),
        "referrer": json_values,
        "message": json_values,
    },
)


def beacon_like(site_id: str) -> st.SearchStrategy[Any]:
    return st.fixed_dictionaries(
        {},
        optional={
            "siteId": st.one_of(st.just(site_id), json_values),
            "events": st.one_of(st.lists(event_like, max_size=5), json_values),
            "screen": json_values,
        },
    )


FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FUZZ
@given(data=st.data())
async def test_structured_garbage_never_gives_5xx(
    client: AsyncTestClient, site_id: str, data: st.DataObject
) -> None:  # type: ignore[type-arg]
    body = json.dumps(data.draw(beacon_like(site_id)))
    response = await client.post("/collect", content=body)
    assert response.status_code in (204, 400), response.text
    if response.status_code == 400:
        assert response.json()["field"].startswith("$")


@FUZZ
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(["", "application/json", "text/plain", "x/y"]),
)
async def test_random_bytes_never_give_5xx(
    client: AsyncTestClient, body: bytes, content_type: str
) -> None:  # type: ignore[type-arg]
    headers = {"content-type": content_type} if content_type else {}
    response = await client.post("/collect", content=body, headers=headers)
    assert 200 <= response.status_code < 500, response.text
