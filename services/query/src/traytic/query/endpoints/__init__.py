"""HTTP controllers, one module per noun; `CONTROLLERS` is what the app mounts."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from traytic.query.endpoints.api_keys import ApiKeyController
from traytic.query.endpoints.auth import AuthController
from traytic.query.endpoints.dashboard import DASHBOARD_HANDLERS
from traytic.query.endpoints.invitations import InvitationController, accept_invitation
from traytic.query.endpoints.members import MemberController
from traytic.query.endpoints.organisations import OrganisationController
from traytic.query.endpoints.sites import SiteController
from traytic.query.endpoints.stats import StatsController
from traytic.query.endpoints.stream import stream_live

CONTROLLERS: list[ControllerRouterHandler] = [
    AuthController,
    OrganisationController,
    MemberController,
    InvitationController,
    accept_invitation,
    SiteController,
    ApiKeyController,
    StatsController,
    stream_live,
    *DASHBOARD_HANDLERS,
]
