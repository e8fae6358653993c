"""Admins list and withdraw invitations (a withdrawn link joins nothing); keys created by a
member who has been removed are marked for review in the key list and revoked at once."""

from __future__ import annotations

from tests.query.conftest import Api


async def test_invitations_are_listed_and_withdrawn_by_admins(api: Api) -> None:
    owner = await api.signup()
    invitee = await api.signup()
    viewer = await api.signup()
    await api.add_member(owner, viewer, "viewer")
    invited = await api.call(
        "POST",
        f"/api/orgs/{owner.org_id}/invitations",
        owner,
        json={"email": invitee.email, "role": "admin"},
    )
    assert invited.status_code == 201
    token = api.last_invitation_token()
    listed = await api.call("GET", f"/api/orgs/{owner.org_id}/invitations", owner)
    assert [i["email"] for i in listed.json()] == [invitee.email]
    invitation_id = listed.json()[0]["id"]
    path = f"/api/orgs/{owner.org_id}/invitations/{invitation_id}"

    assert (await api.call("DELETE", path, viewer)).status_code == 403
    stranger = await api.signup()
    elsewhere = f"/api/orgs/{stranger.org_id}/invitations/{invitation_id}"
    assert (await api.call("DELETE", elsewhere, stranger)).status_code == 404
    assert (await api.call("DELETE", path, owner)).status_code == 204
    assert (await api.call("GET", f"/api/orgs/{owner.org_id}/invitations", owner)).json() == []
    assert (await api.call("DELETE", path, owner)).status_code == 404

    accepted = await api.call("POST", "/api/invitations/accept", invitee, json={"token": token})
    assert accepted.status_code == 404
    orgs = (await api.call("GET", "/api/orgs", invitee)).json()
    assert owner.org_id not in [org["id"] for org in orgs]


async def test_accepting_takes_a_post_with_json_and_known_fields_only(api: Api) -> None:
    owner = await api.signup()
    invitee = await api.signup()
    await api.call(
        "POST",
        f"/api/orgs/{owner.org_id}/invitations",
        owner,
        json={"email": invitee.email, "role": "viewer"},
    )
    token = api.last_invitation_token()
    assert (
        await api.call("GET", f"/api/invitations/accept?token={token}", invitee)
    ).status_code in (
        404,
        405,
    )
    extra = await api.call(
        "POST", "/api/invitations/accept", invitee, json={"token": token, "role": "owner"}
    )
    assert extra.status_code == 400
    joined = await api.call("POST", "/api/invitations/accept", invitee, json={"token": token})
    assert joined.status_code == 201
    assert joined.json()["role"] == "viewer"


async def test_keys_of_a_removed_member_are_marked_for_review(api: Api) -> None:
    owner = await api.signup()
    admin = await api.signup()
    await api.add_member(owner, admin, "admin")
    theirs = await api.create_key(admin, owner.org_id)
    ours = await api.create_key(owner)
    keys = (await api.call("GET", f"/api/orgs/{owner.org_id}/keys", owner)).json()
    assert {k["id"]: k["needsReview"] for k in keys} == {theirs["id"]: False, ours["id"]: False}

    removed = await api.call("DELETE", f"/api/orgs/{owner.org_id}/members/{admin.user_id}", owner)
    assert removed.status_code == 204
    keys = (await api.call("GET", f"/api/orgs/{owner.org_id}/keys", owner)).json()
    assert {k["id"]: k["needsReview"] for k in keys} == {theirs["id"]: True, ours["id"]: False}
    assert next(k for k in keys if k["id"] == theirs["id"])["createdById"] == admin.user_id
    # The key still works until someone decides: review, then revoke.
    assert (await api.call("GET", "/api/auth/me", key=theirs["key"])).status_code == 200
    revoked = await api.call("DELETE", f"/api/orgs/{owner.org_id}/keys/{theirs['id']}", owner)
    assert revoked.status_code == 204
    assert (await api.call("GET", "/api/auth/me", key=theirs["key"])).status_code == 401
    keys = (await api.call("GET", f"/api/orgs/{owner.org_id}/keys", owner)).json()
    assert [k["id"] for k in keys] == [ours["id"]]
