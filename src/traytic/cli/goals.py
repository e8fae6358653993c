"""`traytic goal ...` and `traytic funnel ...`: a site's goals and funnels from a shell, against
the same database (and through the same validating repositories) as the API."""

from __future__ import annotations

import argparse

from sqlmodel.ext.asyncio.session import AsyncSession

from traytic.cli.sites import live_site, migrated_database
from traytic.core.errors import InvalidInput
from traytic.db.models import Goal, Site
from traytic.db.repositories import goals


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    goal = commands.add_parser("goal", help="a site's goals (pages, custom events, revenue)")
    actions = goal.add_subparsers(dest="goal_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a goal and print its id")
    create.add_argument("--site", required=True, help="the site id (st_...)")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", required=True, choices=["pageview", "event", "revenue"])
    create.add_argument(
        "--match", required=True, help="a path pattern (/blog/**, /p/*) or a custom event name"
    )
    create.add_argument("--prop", help="custom events: a prop it must carry, as key=value")
    listing = actions.add_parser("list", help="list a site's goals")
    listing.add_argument("--site", required=True)
    remove = actions.add_parser("delete", help="delete a goal no funnel uses")
    remove.add_argument("--site", required=True)
    remove.add_argument("id")

    funnel = commands.add_parser("funnel", help="a site's funnels of ordered goals")
    actions = funnel.add_subparsers(dest="funnel_command", required=True, metavar="ACTION")
    create = actions.add_parser("create", help="create a funnel and print its id")
    create.add_argument("--site", required=True)
    create.add_argument("--name", required=True)
    create.add_argument(
        "--step", action="append", default=[], required=True, help="a goal id (2 to 8, in order)"
    )
    create.add_argument(
        "--window-minutes", type=int, default=30, help="minutes from the first step (1-1440)"
    )
    create.add_argument("--within-visit", action="store_true", help="all steps in one visit")
    listing = actions.add_parser("list", help="list a site's funnels")
    listing.add_argument("--site", required=True)
    remove = actions.add_parser("delete", help="delete a funnel")
    remove.add_argument("--site", required=True)
    remove.add_argument("id")


def _describe(goal: Goal) -> str:
    prop = f" [{goal.prop_key}={goal.prop_value}]" if goal.prop_key is not None else ""
    return f"{goal.id}  {goal.kind:8} {goal.match}{prop}  {goal.name}"


def _prop(value: str | None) -> tuple[str | None, str | None]:
    if value is None:
        return None, None
    key, sep, prop_value = value.partition("=")
    if not sep:
        raise InvalidInput("--prop must be key=value", field="--prop")
    return key, prop_value


async def run_goal_command(args: argparse.Namespace) -> int:
    db = await migrated_database()
    try:
        async with db.session() as session:
            site = await live_site(session, args.site)
            if args.command == "goal":
                await _goal(session, site, args)
            else:
                await _funnel(session, site, args)
    finally:
        await db.dispose()
    return 0


async def _goal(session: AsyncSession, site: Site, args: argparse.Namespace) -> None:
    if args.goal_command == "create":
        key, value = _prop(args.prop)
        made = await goals.create_goal(
            session,
            site.id,
            name=args.name,
            kind=args.kind,
            match=args.match,
            prop_key=key,
            prop_value=value,
        )
        print(made.id)
    elif args.goal_command == "list":
        for goal in await goals.list_goals(session, site.id):
            print(_describe(goal))
    else:
        await goals.delete_goal(session, site.id, args.id)


async def _funnel(session: AsyncSession, site: Site, args: argparse.Namespace) -> None:
    if args.funnel_command == "create":
        made, _ = await goals.create_funnel(
            session,
            site.id,
            name=args.name,
            steps=args.step,
            window_minutes=None if args.within_visit else args.window_minutes,
        )
        print(made.id)
    elif args.funnel_command == "list":
        for funnel, steps in await goals.list_funnels(session, site.id):
            within = (
                "one visit" if funnel.window_minutes is None else f"{funnel.window_minutes} min"
            )
            print(f"{funnel.id}  {funnel.name}  ({within})")
            for position, goal in enumerate(steps, start=1):
                print(f"    {position}. {goal.name}")
    else:
        await goals.delete_funnel(session, site.id, args.id)
