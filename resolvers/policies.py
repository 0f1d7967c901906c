"""The words row policies are written in: conditions every domain's policies share.

What they read of the viewer (own ids, a division, a partner's regions and purpose) they read
through `resolvers.viewer_parameters`, so it is a parameter one compiled plan sets per viewer.

Each entity declares its own policy (`resolvers.declarations.Entity.policy`); `public`, the
policy of data every viewer sees, is the one `resolvers.catalog.shows_every_row` recognises.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, ColumnElement, Table, and_, exists, false, select, true

from db.models import Consent
from db.models.base import table_of
from resolvers.access import PartnerGrant, Role, Viewer
from resolvers.declarations import Condition, Policy
from resolvers.viewer_parameters import (
    in_partner_regions,
    in_staff_division,
    partner_purpose,
    viewer_id,
)

CONSENTS = table_of(Consent)


def public(_viewer: Viewer) -> Condition:
    """The row policy of data every viewer sees (reference data, registered employers)."""
    return true()


def nobody(_viewer: Viewer) -> Condition:
    """The row policy of data only admins see (admins see every row of every table)."""
    return false()


def has_live_consent(worker_id: ColumnElement[int], grant: PartnerGrant) -> Condition:
    """The worker has a live consent to the partner's purpose."""
    return exists().where(
        CONSENTS.c.worker_id == worker_id,
        CONSENTS.c.purpose == partner_purpose(grant),
        CONSENTS.c.withdrawn_at.is_(None),
    )


def owned_by_visible(owner_key: ColumnElement[int], owners: Table, owner_policy: Policy) -> Policy:
    """Rows that hang off an owner (a worker's skills) are visible with that owner."""

    def policy(viewer: Viewer) -> Condition:
        return owner_key.in_(select(owners.c.id).where(owner_policy(viewer)))

    return policy


def worker_records_under(
    worker_id: ColumnElement[int],
    parent_id: ColumnElement[int],
    parent_employer_id: Column[Any],
    parent_region_code: Column[Any],
) -> Policy:
    """Rows of a worker that hang off a parent row (an application off a job, an enrollment
    off a training): the worker sees their own; an employer those under its parents (through
    `parent_employer_id`), staff those under parents in their division and a partner those
    under parents in its regions (through `parent_region_code`), a partner only with the
    worker's live consent to its purpose."""
    parents = parent_employer_id.table

    def in_care(viewer: Viewer) -> Condition | None:
        if viewer.role is Role.EMPLOYER:
            return parent_employer_id == viewer_id(viewer, "employer_id")
        if viewer.role is Role.STAFF and viewer.region_code:
            return in_staff_division(parent_region_code, viewer)
        if viewer.partner is not None:
            return in_partner_regions(parent_region_code, viewer.partner)
        return None

    def policy(viewer: Viewer) -> Condition:
        if viewer.role is Role.WORKER:
            return worker_id == viewer_id(viewer, "worker_id")
        parents_in_care = in_care(viewer)
        if parents_in_care is None:
            return false()
        under = parent_id.in_(select(parents.c.id).where(parents_in_care))
        if viewer.partner is not None:
            return and_(under, has_live_consent(worker_id, viewer.partner))
        return under

    return policy


__all__ = [
    "CONSENTS",
    "has_live_consent",
    "in_partner_regions",
    "in_staff_division",
    "nobody",
    "owned_by_visible",
    "public",
    "worker_records_under",
]
