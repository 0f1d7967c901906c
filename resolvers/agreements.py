"""What a partner's agreement allows: root fields (scopes) and `Type.field` names.

Checked on the parsed document before anything runs, so a refused query costs no SQL. The
same walk notes which personal-data fields a partner asked for, for the audit trail.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    TypeInfo,
    TypeInfoVisitor,
    Visitor,
    get_named_type,
    visit,
)

from resolvers.access import PartnerGrant

# Fields on these types describe the shape of an answer, not data of its own.
STRUCTURAL_SUFFIXES = ("Connection", "Edge", "Payload", "Error")
STRUCTURAL_TYPES = {"PageInfo"}
ALWAYS_ALLOWED_FIELDS = {"id"}

# Reading these through a partner key writes an audit event.
PERSONAL_DATA_TYPES = {"Worker", "InsuranceRecord", "JobIntention", "WorkerSkill"}


def _structural(type_name: str) -> bool:
    return type_name in STRUCTURAL_TYPES or type_name.endswith(STRUCTURAL_SUFFIXES)


def _allowed(grant: PartnerGrant, type_name: str, field: str) -> bool:
    if grant.fields is None or field in ALWAYS_ALLOWED_FIELDS or _structural(type_name):
        return True
    return f"{type_name}.{field}" in grant.fields or f"{type_name}.*" in grant.fields


class _AgreementVisitor(Visitor):
    def __init__(self, schema: GraphQLSchema, type_info: TypeInfo, grant: PartnerGrant) -> None:
        super().__init__()
        self.roots = {t for t in (schema.query_type, schema.mutation_type) if t is not None}
        self.type_info = type_info
        self.grant = grant
        self.errors: list[GraphQLError] = []
        self.personal_fields: set[str] = set()

    def enter_field(self, node: FieldNode, *_args: Any) -> None:
        name = node.name.value
        parent = self.type_info.get_parent_type()
        if name.startswith("__") or parent is None:
            return
        parent_type = get_named_type(parent)
        if parent_type in self.roots:
            if name not in self.grant.scopes:
                self._refuse(node, f"Your API key's agreement does not include '{name}'.")
            return
        if not _allowed(self.grant, parent_type.name, name):
            self._refuse(
                node, f"Your API key's agreement does not include '{parent_type.name}.{name}'."
            )
        if parent_type.name in PERSONAL_DATA_TYPES:
            self.personal_fields.add(f"{parent_type.name}.{name}")

    def _refuse(self, node: FieldNode, message: str) -> None:
        self.errors.append(GraphQLError(message, [node], extensions={"code": "FORBIDDEN"}))


def check_partner_agreement(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    grant: PartnerGrant,
) -> tuple[list[GraphQLError], set[str]]:
    """Refusals for fields outside `grant`, and the personal-data fields the operation reads."""
    type_info = TypeInfo(schema)
    visitor = _AgreementVisitor(schema, type_info, grant)
    fragments = [d for d in document.definitions if isinstance(d, FragmentDefinitionNode)]
    for definition in (operation, *fragments):
        visit(definition, TypeInfoVisitor(type_info, visitor))
    return visitor.errors, visitor.personal_fields


def partner_agreement_check(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: dict[str, Any],
    context: Any,
) -> list[GraphQLError]:
    """The endpoint's document check for partner keys; other viewers pass untouched."""
    viewer = getattr(context, "viewer", None)
    grant = None if viewer is None else viewer.partner
    if grant is None:
        return []
    errors, personal_fields = check_partner_agreement(schema, document, operation, grant)
    context.personal_fields = personal_fields
    return errors
