"""The one laborhub GraphQL schema: each domain's types, root fields and mutations."""

from __future__ import annotations

import strawberry

from resolvers.catalog import CATALOG
from schema.audit import AuditQuery
from schema.employers import EmployerQuery
from schema.extensions import AuditReads
from schema.insurance import InsuranceQuery
from schema.job_reports import JobReportQuery
from schema.jobs import JobQuery
from schema.live import Subscription
from schema.matching import MatchingQuery
from schema.mutations import mutation_type
from schema.node import RECORD_TYPES
from schema.prepared import UsePreparedDocument
from schema.privacy import PrivacyMutations
from schema.query import NodeQuery
from schema.reference import ReferenceQuery
from schema.scalars import SCALAR_OVERRIDES
from schema.trainings import TrainingQuery
from schema.workers import WorkerQuery

_declared = {entity.name for entity in CATALOG}
_typed = set(RECORD_TYPES) - {"Node"}
assert _declared == _typed, f"entities and their types differ: {_declared ^ _typed}"


# Fields appear in the SDL from the last base to the first.
@strawberry.type
class Query(
    MatchingQuery, ReferenceQuery, AuditQuery, InsuranceQuery, TrainingQuery, JobReportQuery,
    JobQuery,
    EmployerQuery,
    WorkerQuery, NodeQuery,
):
    pass


# Every declared write (resolvers.writes.WRITES), after the privacy operations.
Mutation = mutation_type(PrivacyMutations)


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    # Documents are parsed and validated, with every limit (depth, aliases, tokens...), by the
    # HTTP endpoint before they get here (server/graphql_http/preparation.py); execution uses
    # that document as it is.
    extensions=[UsePreparedDocument, AuditReads],
    scalar_overrides=SCALAR_OVERRIDES,
)

__all__ = ["schema"]
