"""The one laborhub GraphQL schema."""

from __future__ import annotations

import strawberry

from schema.extensions import AuditPartnerReads
from schema.job_mutations import JobMutations
from schema.prepared import UsePreparedDocument
from schema.privacy import PrivacyMutations
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES


@strawberry.type
class Mutation(JobMutations, PrivacyMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    # Documents are parsed and validated, with every limit (depth, aliases, tokens...), by the
    # HTTP endpoint before they get here (server/graphql_http/preparation.py); execution uses
    # that document as it is.
    extensions=[UsePreparedDocument, AuditPartnerReads],
    scalar_overrides=SCALAR_OVERRIDES,
)

__all__ = ["schema"]
