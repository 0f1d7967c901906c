"""The one laborhub GraphQL schema."""

from __future__ import annotations

import strawberry
from graphql import ASTValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as max_aliases_rule
from strawberry.extensions.query_depth_limiter import create_validator as max_depth_rule

from schema.extensions import AuditPartnerReads
from schema.job_mutations import JobMutations
from schema.privacy import PrivacyMutations
from schema.query import Query
from schema.scalars import SCALAR_OVERRIDES

MAX_DEPTH = 16
MAX_ALIASES = 30
MAX_TOKENS = 5_000
CACHED_DOCUMENTS = 1_024

# The limit rules are made once: ValidationCache keys on the rule classes, and the stock
# QueryDepthLimiter/MaxAliasesLimiter make new ones per request, so nothing would be cached.
LIMIT_RULES: list[type[ASTValidationRule]] = [
    max_depth_rule(MAX_DEPTH, None),
    max_aliases_rule(MAX_ALIASES),
]



@strawberry.type
class Mutation(JobMutations, PrivacyMutations):
    pass


schema = strawberry.Schema(
    query=Query,
    mutation=Mutation,
    extensions=[
        lambda: ParserCache(maxsize=CACHED_DOCUMENTS),
        lambda: ValidationCache(maxsize=CACHED_DOCUMENTS),
        lambda: AddValidationRules(LIMIT_RULES),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        AuditPartnerReads,
    ],
    scalar_overrides=SCALAR_OVERRIDES,
)

__all__ = ["schema"]
