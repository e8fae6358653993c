"""Goals and funnels of a site: validation names the field, another site's ids are not found,
a goal a funnel uses cannot go, a site's deletion takes both with it (both dialects)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel.ext.asyncio.session import AsyncSession

from tests.db.factories import make_organisation
from traytic.core.errors import InvalidInput
from traytic.core.goals import pattern_regex
from traytic.db import NotFound
from traytic.db.errors import DuplicateError, InUse
from traytic.db.models import Site
from traytic.db.repositories import goals, sites


async def _site(session: AsyncSession, domain: str = "a.com") -> Site:
    organisation = await make_organisation(session)
    return await sites.create_site(session, organisation.id, domain=domain, currency="eur")


async def test_goals_of_every_kind(session: AsyncSession) -> None:
    site = await _site(session)
    assert site.currency == "EUR"
    page = await goals.create_goal(session, site.id, name="Docs", kind="pageview", match="/docs/**")
    pro = await goals.create_goal(
        session,
        site.id,
        name="Pro",
        kind="event",
        match="signup",
        prop_key="plan",
        prop_value="pro",
    )
    paid = await goals.create_goal(session, site.id, name="Paid", kind="revenue", match="purchase")
    assert [g.name for g in await goals.list_goals(session, site.id)] == ["Docs", "Paid", "Pro"]
    assert (pro.prop_key, pro.prop_value, paid.kind, page.match) == (
        "plan",
        "pro",
        "revenue",
        "/docs/**",
    )
    await goals.update_goal(session, site.id, pro.id, prop_key=None, prop_value=None)
    assert (pro.prop_key, pro.prop_value) == (None, None)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": "pageview", "match": "docs"}, "match"),
        ({"kind": "pageview", "match": "/docs/"}, "match"),
        ({"kind": "pageview", "match": "/docs?x=1"}, "match"),
        ({"kind": "pageview", "match": "/a//b"}, "match"),
        ({"kind": "pageview", "match": "/a/***"}, "match"),
        ({"kind": "pageview", "match": ""}, "match"),
        ({"kind": "pageview", "match": "/" + "a" * 300}, "match"),
        ({"kind": "pageview", "match": "/x", "prop_key": "a", "prop_value": "b"}, "propKey"),
        ({"kind": "event", "match": ""}, "match"),
        ({"kind": "event", "match": "e" * 129}, "match"),
        ({"kind": "event", "match": "e", "prop_key": "plan"}, "propValue"),
        ({"kind": "event", "match": "e", "prop_key": "", "prop_value": "x"}, "propKey"),
        ({"kind": "click", "match": "e"}, "kind"),
    ],
)
async def test_goals_that_cannot_match_are_refused(
    session: AsyncSession, fields: dict[str, str], field: str
) -> None:
    site = await _site(session)
    with pytest.raises(InvalidInput) as caught:
        await goals.create_goal(session, site.id, name="G", **fields)
    assert caught.value.field == field
    assert caught.value.message


async def test_names_are_unique_per_site(session: AsyncSession) -> None:
    site, other = await _site(session), await _site(session, "b.com")
    await goals.create_goal(session, site.id, name="Signup", kind="event", match="signup")
    await goals.create_goal(session, other.id, name="Signup", kind="event", match="signup")
    with pytest.raises(DuplicateError):
        await goals.create_goal(session, site.id, name="Signup", kind="pageview", match="/s")


async def test_funnels_validate_their_steps_and_window(session: AsyncSession) -> None:
    site, other = await _site(session), await _site(session, "b.com")
    made = [
        await goals.create_goal(session, site.id, name=f"G{n}", kind="pageview", match=f"/p{n}")
        for n in range(9)
    ]
    foreign = await goals.create_goal(session, other.id, name="X", kind="event", match="x")
    ids = [str(goal.id) for goal in made]
    cases = [
        ({"steps": ids[:1]}, "steps"),
        ({"steps": ids}, "steps"),
        ({"steps": [ids[0], str(foreign.id)]}, "steps[1]"),
        ({"steps": [ids[0], "not-a-uuid"]}, "steps[1]"),
        ({"steps": [ids[0], str(uuid.uuid4())]}, "steps[1]"),
        ({"steps": [ids[0], ids[0]]}, "steps[1]"),
        ({"steps": ids[:2], "window_minutes": 0}, "windowMinutes"),
        ({"steps": ids[:2], "window_minutes": 1441}, "windowMinutes"),
        ({"steps": ids[:2], "window_minutes": True}, "windowMinutes"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidInput) as caught:
            await goals.create_funnel(session, site.id, name="F", **fields)  # type: ignore[arg-type]
        assert caught.value.field == field, fields
    funnel, steps = await goals.create_funnel(session, site.id, name="F", steps=ids[:8])
    assert funnel.window_minutes == 30 and [g.id for g in steps] == [g.id for g in made[:8]]
    visit, _ = await goals.create_funnel(
        session, site.id, name="V", steps=[ids[1], ids[0], ids[1]], window_minutes=None
    )
    assert visit.window_minutes is None
    _, changed = await goals.update_funnel(session, site.id, funnel.id, steps=ids[3:5])
    assert [g.id for g in changed] == [made[3].id, made[4].id]
    assert [g.id for g in (await goals.get_funnel(session, site.id, funnel.id))[1]] == [
        made[3].id,
        made[4].id,
    ]


async def test_another_sites_ids_are_not_found(session: AsyncSession) -> None:
    site, other = await _site(session), await _site(session, "b.com")
    goal = await goals.create_goal(session, other.id, name="X", kind="event", match="x")
    second = await goals.create_goal(session, other.id, name="Y", kind="event", match="y")
    funnel, _ = await goals.create_funnel(session, other.id, name="F", steps=[goal.id, second.id])
    for call in (
        goals.get_goal(session, site.id, goal.id),
        goals.delete_goal(session, site.id, goal.id),
        goals.update_goal(session, site.id, goal.id, name="Z"),
        goals.get_goal(session, site.id, "nonsense"),
        goals.get_funnel(session, site.id, funnel.id),
        goals.delete_funnel(session, site.id, funnel.id),
    ):
        with pytest.raises(NotFound):
            await call


async def test_a_goal_in_a_funnel_stays_until_the_funnel_lets_go(session: AsyncSession) -> None:
    site = await _site(session)
    one = await goals.create_goal(session, site.id, name="One", kind="event", match="a")
    two = await goals.create_goal(session, site.id, name="Two", kind="event", match="b")
    funnel, _ = await goals.create_funnel(session, site.id, name="F", steps=[one.id, two.id])
    with pytest.raises(InUse) as caught:
        await goals.delete_goal(session, site.id, one.id)
    assert caught.value.status == 409 and "'F'" in caught.value.message
    await goals.delete_funnel(session, site.id, funnel.id)
    await goals.delete_goal(session, site.id, one.id)
    assert [g.name for g in await goals.list_goals(session, site.id)] == ["Two"]


async def test_purging_a_site_takes_its_goals_and_funnels(session: AsyncSession) -> None:
    site = await _site(session)
    one = await goals.create_goal(session, site.id, name="One", kind="event", match="a")
    two = await goals.create_goal(session, site.id, name="Two", kind="event", match="b")
    await goals.create_funnel(session, site.id, name="F", steps=[one.id, two.id])
    await sites.soft_delete_site(session, site.organisation_id, site.id)
    await sites.purge_site(session, site.organisation_id, site.id)
    assert await goals.list_goals(session, site.id) == []
    assert await goals.list_funnels(session, site.id) == []


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pattern=st.text(alphabet="/ab*?#. \x00-", max_size=12))
def test_an_accepted_pattern_matches_some_stored_path(pattern: str) -> None:
    """Whatever check_pattern lets through compiles and matches a path the consumer stores."""
    import re

    from traytic.core.goals import check_pattern

    try:
        check_pattern(pattern)
    except InvalidInput as exc:
        refused = exc
    else:
        refused = None
    if refused is not None:
        assert refused.field == "match"
        assert refused.message
        return
    example = pattern.replace("**", "x").replace("*", "x")
    assert re.match(pattern_regex(pattern), example), (pattern, example)
    assert example.startswith("/") and "//" not in example
    assert example == "/" or not example.endswith("/")
