"""Organisations, members and invitations; the role matrix for every write."""

from __future__ import annotations

import pytest

from tests.query.conftest import Account, Api


async def test_create_list_rename_organisation(api: Api) -> None:
    ann = await api.signup()
    created = await api.call("POST", "/api/orgs", ann, json={"name": "Acme Inc"})
    assert created.status_code == 201
    org = created.json()
    assert org["role"] == "owner" and org["slug"].startswith("acme-inc-")
    taken = await api.call("POST", "/api/orgs", ann, json={"name": "X", "slug": org["slug"]})
    assert taken.status_code == 409 and taken.json()["field"] == "slug"
    bad = await api.call("POST", "/api/orgs", ann, json={"name": "X", "slug": "Not A Slug"})
    assert bad.status_code == 400 and bad.json()["field"] == "slug"
    empty = await api.call("POST", "/api/orgs", ann, json={"name": "  "})
    assert empty.status_code == 400 and empty.json()["field"] == "name"

    listed = await api.call("GET", "/api/orgs", ann)
    assert {o["id"] for o in listed.json()} == {ann.org_id, org["id"]}
    renamed = await api.call("PATCH", f"/api/orgs/{org['id']}", ann, json={"name": "Acme"})
    assert renamed.json()["name"] == "Acme"


async def test_invitation_flow(api: Api) -> None:
    owner, ben = await api.signup(), await api.signup()
    invited = await api.call(
        "POST",
        f"/api/orgs/{owner.org_id}/invitations",
        owner,
        json={"email": ben.email.upper(), "role": "admin"},
    )
    assert invited.status_code == 201
    assert "token" not in invited.json()
    token = api.last_invitation_token()
    listed = await api.call("GET", f"/api/orgs/{owner.org_id}/invitations", owner)
    assert [i["email"] for i in listed.json()] == [ben.email]

    stranger = await api.signup()
    wrong_person = await api.call(
        "POST", "/api/invitations/accept", stranger, json={"token": token}
    )
    assert wrong_person.status_code == 403
    accepted = await api.call("POST", "/api/invitations/accept", ben, json={"token": token})
    assert accepted.status_code == 201
    assert accepted.json() == {**accepted.json(), "id": owner.org_id, "role": "admin"}
    again = await api.call("POST", "/api/invitations/accept", ben, json={"token": token})
    assert again.status_code == 404 and again.json()["field"] == "token"
    members = await api.call("GET", f"/api/orgs/{owner.org_id}/members", ben)
    assert {(m["email"], m["role"]) for m in members.json()} == {
        (owner.email, "owner"),
        (ben.email, "admin"),
    }


async def test_last_owner_cannot_be_removed_or_demoted(api: Api) -> None:
    owner, admin = await api.signup(), await api.signup()
    await api.add_member(owner, admin, "admin")
    base = f"/api/orgs/{owner.org_id}/members/{owner.user_id}"
    demote = await api.call("PATCH", base, owner, json={"role": "admin"})
    assert demote.status_code == 403 and demote.json()["field"] == "role"
    assert (await api.call("DELETE", base, owner)).status_code == 403
    # An admin cannot touch the owner at all, nor make themself owner.
    assert (await api.call("DELETE", base, admin)).status_code == 403
    admin_url = f"/api/orgs/{owner.org_id}/members/{admin.user_id}"
    assert (await api.call("PATCH", admin_url, admin, json={"role": "owner"})).status_code == 403
    # With a second owner, the first may step down.
    promoted = await api.call("PATCH", admin_url, owner, json={"role": "owner"})
    assert promoted.status_code == 200 and promoted.json()["role"] == "owner"
    assert (await api.call("PATCH", base, owner, json={"role": "viewer"})).status_code == 200
    bad_role = await api.call("PATCH", base, admin, json={"role": "king"})
    assert bad_role.status_code == 400 and bad_role.json()["field"] == "role"


async def test_a_viewer_may_leave(api: Api) -> None:
    owner, viewer = await api.signup(), await api.signup()
    await api.add_member(owner, viewer, "viewer")
    url = f"/api/orgs/{owner.org_id}/members/{viewer.user_id}"
    assert (await api.call("DELETE", url, viewer)).status_code == 204
    assert (await api.call("GET", f"/api/orgs/{owner.org_id}", viewer)).status_code == 404


WRITES = [
    "rename_org",
    "invite",
    "list_invitations",
    "change_role",
    "remove_member",
    "create_site",
    "update_site",
    "delete_site",
    "list_keys",
    "create_key",
    "revoke_key",
]


async def _attempt(api: Api, action: str, owner: Account, actor: Account, other: Account) -> int:
    org = f"/api/orgs/{owner.org_id}"
    if action == "rename_org":
        response = await api.call("PATCH", org, actor, json={"name": "Renamed"})
    elif action == "invite":
        response = await api.call(
            "POST", f"{org}/invitations", actor, json={"email": "new@example.com"}
        )
    elif action == "list_invitations":
        response = await api.call("GET", f"{org}/invitations", actor)
    elif action == "change_role":
        response = await api.call(
            "PATCH", f"{org}/members/{other.user_id}", actor, json={"role": "admin"}
        )
    elif action == "remove_member":
        response = await api.call("DELETE", f"{org}/members/{other.user_id}", actor)
    elif action == "create_site":
        response = await api.call("POST", f"{org}/sites", actor, json={"domain": "new.com"})
    elif action in ("update_site", "delete_site"):
        site = await api.create_site(owner)
        method, body = ("PATCH", {"name": "N"}) if action == "update_site" else ("DELETE", None)
        response = await api.call(method, f"{org}/sites/{site['id']}", actor, json=body)
    elif action == "list_keys":
        response = await api.call("GET", f"{org}/keys", actor)
    elif action == "create_key":
        response = await api.call("POST", f"{org}/keys", actor, json={"name": "k"})
    else:
        key = await api.create_key(owner)
        response = await api.call("DELETE", f"{org}/keys/{key['id']}", actor)
    return response.status_code


@pytest.mark.parametrize("action", WRITES)
@pytest.mark.parametrize("role", ["owner", "admin", "viewer"])
async def test_role_matrix(api: Api, role: str, action: str) -> None:
    owner, actor, other = await api.signup(), await api.signup(), await api.signup()
    await api.add_member(owner, actor, role)
    await api.add_member(owner, other, "viewer")
    status = await _attempt(api, action, owner, actor, other)
    if role == "viewer":
        assert status == 403, action
    else:
        assert status in (200, 201, 204), action
