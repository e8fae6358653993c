"""HTTP controllers, one module per noun; `CONTROLLERS` is what the app mounts."""

from __future__ import annotations

from litestar.types import ControllerRouterHandler

from traytic.query.endpoints.alerts import AlertController, ReportController, list_deliveries
from traytic.query.endpoints.api_keys import ApiKeyController
from traytic.query.endpoints.auth import AuthController
from traytic.query.endpoints.dashboard import DASHBOARD_HANDLERS
from traytic.query.endpoints.exports import ExportController
from traytic.query.endpoints.goal_stats import GoalStatsController
from traytic.query.endpoints.goals import FunnelController, GoalController
from traytic.query.endpoints.imports import ImportController
from traytic.query.endpoints.invitations import InvitationController, accept_invitation
from traytic.query.endpoints.members import MemberController
from traytic.query.endpoints.oidc import OidcController
from traytic.query.endpoints.organisations import OrganisationController
from traytic.query.endpoints.segments import SegmentController
from traytic.query.endpoints.sites import SiteController
from traytic.query.endpoints.stats import StatsController
from traytic.query.endpoints.stream import stream_live
from traytic.query.endpoints.two_factor import TwoFactorController
from traytic.query.endpoints.unsubscribe import unsubscribe, unsubscribe_page
from traytic.query.endpoints.v2_query import readable_sites, v2_query
from traytic.query.mcp.mount import mcp_endpoint

CONTROLLERS: list[ControllerRouterHandler] = [
    AuthController,
    TwoFactorController,
    OidcController,
    OrganisationController,
    MemberController,
    InvitationController,
    accept_invitation,
    SiteController,
    ApiKeyController,
    StatsController,
    ExportController,
    SegmentController,
    ImportController,
    v2_query,
    readable_sites,
    mcp_endpoint,
    GoalStatsController,
    GoalController,
    FunnelController,
    AlertController,
    ReportController,
    list_deliveries,
    unsubscribe_page,
    unsubscribe,
    stream_live,
    *DASHBOARD_HANDLERS,
]
