"""The words row policies are written in: conditions every domain's policies share.

Each entity declares its own policy (`resolvers.declarations.Entity.policy`); `public`, the
policy of data every viewer sees, is the one `resolvers.catalog.shows_every_row` recognises.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Table, exists, false, or_, select, true

from db.models import Consent
from db.models.base import table_of
from resolvers.access import PartnerGrant, Viewer
from resolvers.declarations import Condition, Policy
from resolvers.divisions import within_division

CONSENTS = table_of(Consent)


def public(_viewer: Viewer) -> Condition:
    """The row policy of data every viewer sees (reference data, registered employers)."""
    return true()


def nobody(_viewer: Viewer) -> Condition:
    """The row policy of data only admins see (admins see every row of every table)."""
    return false()


def in_partner_regions(column: ColumnElement[str], grant: PartnerGrant) -> Condition:
    if not grant.regions:
        return false()
    return or_(*(within_division(column, code) for code in grant.regions))


def has_live_consent(worker_id: ColumnElement[int], purpose: str) -> Condition:
    return exists().where(
        CONSENTS.c.worker_id == worker_id,
        CONSENTS.c.purpose == purpose,
        CONSENTS.c.withdrawn_at.is_(None),
    )


def owned_by_visible(owner_key: ColumnElement[int], owners: Table, owner_policy: Policy) -> Policy:
    """Rows that hang off an owner (a worker's skills) are visible with that owner."""

    def policy(viewer: Viewer) -> Condition:
        return owner_key.in_(select(owners.c.id).where(owner_policy(viewer)))

    return policy
