"""Who is asking: the viewer every request carries, whatever authenticated it."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Role(enum.Enum):
    ANONYMOUS = "anonymous"
    WORKER = "worker"
    EMPLOYER = "employer"
    STAFF = "staff"
    PARTNER = "partner"
    ADMIN = "admin"


SIGNED_IN = frozenset(Role) - {Role.ANONYMOUS}
"""Every role but the anonymous visitor's."""


@dataclass(frozen=True)
class PartnerGrant:
    """What a partner agency's API key allows, per its agreement."""

    key_id: int
    partner: str
    scopes: frozenset[str]  # root Query/Mutation field names the key may use
    regions: tuple[str, ...]  # division codes; rows outside them are invisible
    fields: frozenset[str] | None  # `Type.field` names (or `Type.*`); None means every field
    purpose: str  # the consent purpose its reads of personal data rely on
    # GraphQL object types it reaches beyond its scopes' own (see resolvers.agreements).
    types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Viewer:
    role: Role
    subject: str | None = None  # JWT `sub`, or `partner:<name>` for API keys
    region_code: str | None = None  # staff: the division they serve
    worker_id: int | None = None
    employer_id: int | None = None
    partner: PartnerGrant | None = None
    client_address: str | None = field(default=None, compare=False)

    @property
    def principal(self) -> str:
        """The key rate limits and audit events are kept under."""
        if self.partner is not None:
            return f"key:{self.partner.key_id}"
        if self.subject is not None:
            return f"{self.role.value}:{self.subject}"
        return f"anonymous:{self.client_address or 'unknown'}"


ANONYMOUS = Viewer(Role.ANONYMOUS)
