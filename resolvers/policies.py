"""The words row policies are written in: conditions every domain's policies share.

Each entity declares its own policy (`resolvers.declarations.Entity.policy`); `public`, the
policy of data every viewer sees, is the one `resolvers.catalog.shows_every_row` recognises.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import ColumnElement, Table, and_, exists, false, or_, select, true

from db.models import Consent
from db.models.base import table_of
from resolvers.access import PartnerGrant, Role, Viewer
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


def worker_records_under(
    worker_id: ColumnElement[int],
    parent_id: ColumnElement[int],
    parents: Table,
    parents_in_care: Callable[[Viewer], Condition | None],
) -> Policy:
    """Rows of a worker that hang off a parent row (an application off a job, an enrollment
    off a training): the worker sees their own; another viewer those under the parents in its
    care (`parents_in_care`: a condition on `parents`, None for none), a partner only with the
    worker's live consent to its purpose."""

    def policy(viewer: Viewer) -> Condition:
        if viewer.role is Role.WORKER:
            return worker_id == viewer.worker_id
        in_care = parents_in_care(viewer)
        if in_care is None:
            return false()
        under = parent_id.in_(select(parents.c.id).where(in_care))
        if viewer.partner is not None:
            return and_(under, has_live_consent(worker_id, viewer.partner.purpose))
        return under

    return policy
