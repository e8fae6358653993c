"""What goes over the wire: msgspec Structs, camelCase in JSON, snake_case in Python.

Input types are loose (`str`, not constrained types) on purpose: the repositories validate and
raise `InvalidInput` naming the field, one set of rules for the API, the CLI and the tests.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import msgspec
from msgspec import UNSET, UnsetType

from traytic.db.models import ApiKey, Invitation, Membership, Organisation, Site, User


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

    @classmethod
    def of(cls, organisation: Organisation, role: str) -> OrganisationOut:
        return cls(
            id=organisation.id,
            name=organisation.name,
            slug=organisation.slug,
            plan=organisation.plan,
            role=role,
            created_at=organisation.created_at,
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


class OrganisationIn(Wire):
    name: str
    slug: str | None = None
    """Defaults to one made from the name."""


class OrganisationPatch(Wire):
    name: str


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


class SitePatch(Wire):
    """Only the fields present change."""

    domain: str | UnsetType = UNSET
    name: str | UnsetType = UNSET
    time_zone: str | UnsetType = UNSET
    public: bool | UnsetType = UNSET
    allowed_hostnames: list[str] | UnsetType = UNSET
    allow_localhost: bool | UnsetType = UNSET
    filter_datacenter: bool | UnsetType = UNSET


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
            created_at=site.created_at,
        )
