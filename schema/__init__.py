"""The one laborhub GraphQL schema."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from schema.extensions import AuditPartnerReads
from schema.privacy import PrivacyMutations
from schema.query import Query

MAX_DEPTH = 16
MAX_ALIASES = 30
MAX_TOKENS = 5_000
CACHED_DOCUMENTS = 1_024



@strawberry.type
class Mutation(PrivacyMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        lambda: QueryDepthLimiter(max_depth=MAX_DEPTH),
        lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        AuditPartnerReads,
    ],
)

__all__ = ["schema"]
