"""Organisation B can neither read, change nor learn of organisation A's things: every
endpoint answers B exactly as it answers for something that does not exist."""

from __future__ import annotations

from typing import Any

from tests.query.conftest import Api, random_uuid


async def test_every_org_endpoint_hides_other_organisations(api: Api) -> None:
    a, b = await api.signup(), await api.signup()
    site = await api.create_site(a)
    key = await api.create_key(a)
    b_key = (await api.create_key(b))["key"]

    def calls(org: str, site_id: str, key_id: str, user_id: str) -> list[tuple[str, str, Any]]:
        base = f"/api/orgs/{org}"
        return [
            ("GET", base, None),
            ("PATCH", base, {"name": "Mine now"}),
            ("GET", f"{base}/members", None),
            ("PATCH", f"{base}/members/{user_id}", {"role": "viewer"}),
            ("DELETE", f"{base}/members/{user_id}", None),
            ("GET", f"{base}/invitations", None),
            ("POST", f"{base}/invitations", {"email": "x@example.com"}),
            ("GET", f"{base}/sites", None),
            ("POST", f"{base}/sites", {"domain": "evil.com"}),
            ("GET", f"{base}/sites/{site_id}", None),
            ("PATCH", f"{base}/sites/{site_id}", {"name": "x"}),
            ("DELETE", f"{base}/sites/{site_id}", None),
            ("GET", f"{base}/keys", None),
            ("POST", f"{base}/keys", {"name": "k"}),
            ("DELETE", f"{base}/keys/{key_id}", None),
        ]

    nowhere = calls(random_uuid(), "st_nonexistent0000", random_uuid(), random_uuid())
    for (method, url, body), (_, missing_url, _) in zip(
        calls(a.org_id, site["id"], key["id"], a.user_id), nowhere, strict=True
    ):
        theirs = await api.call(method, url, b, json=body)
        missing = await api.call(method, missing_url, b, json=body)
        assert theirs.status_code == missing.status_code == 404, (method, url)
        assert theirs.json() == missing.json(), (method, url)
        if method == "GET" and "/sites" in url:
            by_key = await api.call(method, url, key=b_key)
            assert by_key.status_code == 404 and by_key.json() == theirs.json()

    # Inside B's own organisation, A's site, key and member ids are as unknown as random ones.
    for (method, url, body), (_, missing_url, _) in zip(
        calls(b.org_id, site["id"], key["id"], a.user_id),
        calls(b.org_id, "st_nonexistent0000", random_uuid(), random_uuid()),
        strict=True,
    ):
        if not any(part in url for part in ("/sites/", "/keys/", "/members/")):
            continue
        theirs = await api.call(method, url, b, json=body)
        missing = await api.call(method, missing_url, b, json=body)
        assert theirs.status_code == missing.status_code == 404, (method, url)
        assert theirs.json() == missing.json(), (method, url)

    # Nothing of A's changed, and B's lists never mention it.
    assert (await api.call("GET", f"/api/orgs/{a.org_id}/sites/{site['id']}", a)).json() == site
    assert [k["id"] for k in (await api.call("GET", f"/api/orgs/{a.org_id}/keys", a)).json()] == [
        key["id"]
    ]
    assert [
        m["userId"] for m in (await api.call("GET", f"/api/orgs/{a.org_id}/members", a)).json()
    ] == [a.user_id]
    assert [o["id"] for o in (await api.call("GET", "/api/orgs", b)).json()] == [b.org_id]
    assert (await api.call("GET", f"/api/orgs/{b.org_id}/sites", b)).json() == []
