"""The relational tables. Importing this package registers every table on `metadata`."""

from traytic.db.models.accounts import (
    Invitation,
    LoginSession,
    Membership,
    Organisation,
    PendingLogin,
    Plan,
    RecoveryCode,
    Role,
    SignupRequest,
    TwoFactor,
    User,
)
from traytic.db.models.alerts import (
    Alert,
    AlertKind,
    Channel,
    Delivery,
    DeliveryStatus,
    Recipient,
    Report,
    ReportFrequency,
)
from traytic.db.models.base import UtcDateTime, metadata, utcnow
from traytic.db.models.billing import Customer, Invoice, Provider, Subscription, WebhookEvent
from traytic.db.models.mail import OutboxMail
from traytic.db.models.segments import Segment
from traytic.db.models.sites import ApiKey, Funnel, FunnelStep, Goal, GoalKind, Site

__all__ = [
    "Alert",
    "AlertKind",
    "ApiKey",
    "Channel",
    "Customer",
    "Delivery",
    "DeliveryStatus",
    "Funnel",
    "FunnelStep",
    "Goal",
    "GoalKind",
    "Invitation",
    "Invoice",
    "LoginSession",
    "Membership",
    "Organisation",
    "OutboxMail",
    "PendingLogin",
    "Plan",
    "Provider",
    "Recipient",
    "RecoveryCode",
    "Report",
    "ReportFrequency",
    "Role",
    "Segment",
    "SignupRequest",
    "Site",
    "Subscription",
    "TwoFactor",
    "User",
    "UtcDateTime",
    "WebhookEvent",
    "metadata",
    "utcnow",
]
