"""What goes over the wire: msgspec Structs, camelCase in JSON, snake_case in Python.

Input types are loose (`str`, not constrained types) on purpose: the repositories validate and
raise `InvalidInput` naming the field, one set of rules for the API, the CLI and the tests.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from traytic.db.models import (
    ApiKey,
    Funnel,
    Goal,
    Invitation,
    Membership,
    Organisation,
    Site,
    User,
)


class Wire(msgspec.Struct, rename="camel", kw_only=True):
    """Base of every request and response body."""


class StrictWire(Wire, forbid_unknown_fields=True):
    """Bodies of the sign-in routes: an unknown field is a 400, not silently dropped."""


class SignupIn(StrictWire):
    email: str
    password: str
    name: str | None = None


class LoginIn(StrictWire):
    email: str
    password: str


class UserOut(Wire):
    id: uuid.UUID
    email: str
    name: str | None
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, email=user.email, name=user.name, created_at=user.created_at)


class OrganisationOut(Wire):
    id: uuid.UUID
    name: str
    slug: str
    plan: str
    role: str
    """The caller's role in it."""
    created_at: datetime
    require_two_factor: bool = False
    """Members must sign in with a second factor to use it (an owner's choice)."""

    @classmethod
    def of(cls, organisation: Organisation, role: str) -> OrganisationOut:
        return cls(
            id=organisation.id,
            name=organisation.name,
            slug=organisation.slug,
            plan=organisation.plan,
            role=role,
            created_at=organisation.created_at,
            require_two_factor=organisation.require_two_factor,
        )


class ApiKeyOut(Wire):
    id: uuid.UUID
    name: str
    prefix: str
    """The visible start of the key (`tk_live_ab12cd34`); the secret is never shown again."""
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    created_by_id: uuid.UUID | None
    needs_review: bool
    """Its creator is no longer a member (and may still hold it): revoke it unless wanted."""

    @classmethod
    def of(cls, key: ApiKey, *, needs_review: bool = False) -> ApiKeyOut:
        return cls(
            id=key.id,
            name=key.name,
            prefix=key.prefix,
            created_at=key.created_at,
            last_used_at=key.last_used_at,
            revoked_at=key.revoked_at,
            created_by_id=key.created_by_id,
            needs_review=needs_review,
        )


class ApiKeyCreated(ApiKeyOut):
    key: str
    """The whole key, shown this once: store it now."""


class ApiKeyIn(Wire):
    name: str


class MeOut(Wire):
    """Who is calling: a signed-in user with their organisations, or an API key's organisation."""

    kind: str
    """`user` or `api_key`."""
    organisations: list[OrganisationOut]
    user: UserOut | None = None
    api_key: ApiKeyOut | None = None
    two_factor: bool = False
    """The signed-in user signs in with a second factor."""


class OrganisationIn(Wire):
    name: str
    slug: str | None = None
    """Defaults to one made from the name."""


class OrganisationPatch(Wire):
    name: str | None = None
    require_two_factor: bool | None = None
    """Owners only, and only once they use two-factor sign-in themselves."""


class MemberOut(Wire):
    user_id: uuid.UUID
    email: str
    name: str | None
    role: str
    joined_at: datetime

    @classmethod
    def of(cls, user: User, membership: Membership) -> MemberOut:
        return cls(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=membership.role,
            joined_at=membership.created_at,
        )


class RoleIn(Wire):
    role: str


class InvitationIn(Wire):
    email: str
    role: str = "viewer"


class InvitationOut(Wire):
    id: uuid.UUID
    email: str
    role: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationOut:
        return cls(
            id=invitation.id,
            email=invitation.email,
            role=invitation.role,
            created_at=invitation.created_at,
            expires_at=invitation.expires_at,
        )


class AcceptInvitationIn(StrictWire):
    token: str


class SiteIn(Wire):
    domain: str
    name: str | None = None
    time_zone: str = "UTC"
    public: bool = False
    allowed_hostnames: list[str] = msgspec.field(default_factory=list)
    """Page hostnames the gateway accepts besides the domain and its subdomains
    (`*.example.com`: every subdomain of example.com)."""
    allow_localhost: bool = False
    """Accept beacons from pages on localhost and loopback addresses (development)."""
    filter_datacenter: bool = True
    """Drop beacons sent from hosting and cloud networks (servers, not visitors)."""
    currency: str = "USD"
    """ISO 4217 code revenue is reported in."""


class SitePatch(Wire):
    """Only the fields present change."""

    domain: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    time_zone: str | UnsetType = UNSET
    public: bool | UnsetType = UNSET
    allowed_hostnames: list[str] | UnsetType = UNSET
    allow_localhost: bool | UnsetType = UNSET
    filter_datacenter: bool | UnsetType = UNSET
    currency: str | UnsetType = UNSET


class SiteOut(Wire):
    id: str
    organisation_id: uuid.UUID
    domain: str
    name: str
    time_zone: str
    public: bool
    allowed_hostnames: list[str]
    allow_localhost: bool
    filter_datacenter: bool
    currency: str
    created_at: datetime

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            organisation_id=site.organisation_id,
            domain=site.domain,
            name=site.name,
            time_zone=site.time_zone,
            public=site.public,
            allowed_hostnames=list(site.allowed_hostnames),
            allow_localhost=site.allow_localhost,
            filter_datacenter=site.filter_datacenter,
            currency=site.currency,
            created_at=site.created_at,
        )


class GoalIn(Wire):
    name: str
    kind: str
    """`pageview`, `event` or `revenue`."""
    match: str
    """A path pattern (`/signup`, `/blog/*`, `/docs/**`) or a custom event's name."""
    prop_key: str | None = None
    prop_value: str | None = None
    """Custom event goals only: the event must carry this prop with this value."""


class GoalPatch(Wire):
    """Only the fields present change."""

    name: str | UnsetType = UNSET
    kind: str | UnsetType = UNSET
    match: str | UnsetType = UNSET
    prop_key: str | UnsetType | None = UNSET
    prop_value: str | UnsetType | None = UNSET


class GoalOut(Wire):
    id: uuid.UUID
    name: str
    kind: str
    match: str
    prop_key: str | None
    prop_value: str | None
    created_at: datetime

    @classmethod
    def of(cls, goal: Goal) -> GoalOut:
        return cls(
            id=goal.id,
            name=goal.name,
            kind=goal.kind,
            match=goal.match,
            prop_key=goal.prop_key,
            prop_value=goal.prop_value,
            created_at=goal.created_at,
        )


class FunnelIn(Wire):
    name: str
    steps: list[str]
    """2 to 8 goal ids of the site, in order."""
    window_minutes: int | None = 30
    """Minutes from the first step within which the others must follow; null: one visit."""


class FunnelPatch(Wire):
    name: str | UnsetType = UNSET
    steps: list[str] | UnsetType = UNSET
    window_minutes: int | UnsetType | None = UNSET


class FunnelOut(Wire):
    id: uuid.UUID
    name: str
    steps: list[GoalOut]
    window_minutes: int | None
    created_at: datetime

    @classmethod
    def of(cls, funnel: Funnel, steps: Sequence[Goal]) -> FunnelOut:
        return cls(
            id=funnel.id,
            name=funnel.name,
            steps=[GoalOut.of(goal) for goal in steps],
            window_minutes=funnel.window_minutes,
            created_at=funnel.created_at,
        )
