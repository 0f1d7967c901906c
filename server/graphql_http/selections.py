"""Bounding a document's selections before validation, in time linear in the selections.

Validation is quadratic in one place: the rule that fields can be merged (GraphQL's
OverlappingFieldsCanBeMerged) compares every pair of fields that share a response name where
they are selected together, i.e. where execution would merge them: at the same response path,
fragments included. 300 copies of `jobs { ... }` in one selection set made it do 500 000 units
of work (graphql-core's own budget, then "Validation aborted.") in 0.8 s of the event loop.

So before validation one walk, with fragments expanded where they are spread (each fragment
once per place), refuses a document that

- makes more than `max_selections` selections in all (fields, fragment spreads and inline
  fragments; a fragment counts each time it is spread), or
- selects one response name more than `max_repeats` times at one response path.

The merging rule then compares at most `max_repeats` fields per field it visits. A document
with fragment cycles is walked without following a fragment into itself (validation reports
the cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)


@dataclass(frozen=True)
class _Place:
    """The selection sets merged at one response path (from an operation, or from a fragment
    definition: `fragment`), each with the fragments it is inside of."""

    fragment: str | None
    path: tuple[str, ...]
    sets: tuple[tuple[SelectionSetNode, frozenset[str]], ...]


def selection_limit_error(
    document: DocumentNode, *, max_selections: int, max_repeats: int
) -> GraphQLError | None:
    """The error refusing `document` by the limits of the module docstring, or None."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    budget = max_selections
    pending = [
        _Place(
            definition.name.value if isinstance(definition, FragmentDefinitionNode) else None,
            (),
            ((definition.selection_set, frozenset()),),
        )
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode)
    ]
    while pending:
        place = pending.pop()
        fields: dict[str, list[tuple[FieldNode, frozenset[str]]]] = {}
        sets = list(place.sets)
        spread_here: set[str] = set()
        while sets:
            selection_set, inside = sets.pop()
            budget -= len(selection_set.selections)
            if budget < 0:
                return _too_many_selections(max_selections)
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    name = (selection.alias or selection.name).value
                    fields.setdefault(name, []).append((selection, inside))
                elif isinstance(selection, InlineFragmentNode):
                    sets.append((selection.selection_set, inside))
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = fragments.get(name)
                    if fragment is None or name in inside or name in spread_here:
                        continue
                    spread_here.add(name)
                    sets.append((fragment.selection_set, inside | {name}))
        for name, found in fields.items():
            path = (*place.path, name)
            if len(found) > max_repeats:
                return _repeated(place.fragment, path, len(found), max_repeats, found[0][0])
            merged = tuple(
                (field.selection_set, inside)
                for field, inside in found
                if field.selection_set is not None
            )
            if merged:
                pending.append(_Place(place.fragment, path, merged))
    return None


def _too_many_selections(limit: int) -> GraphQLError:
    return GraphQLError(
        f"The document makes more than {limit} selections (fields and fragment spreads, a "
        "fragment counted each time it is spread), the limit (max selections): select less, "
        "or split it into several requests.",
        extensions={"code": "QUERY_TOO_COMPLEX", "maxSelections": limit},
    )


def _repeated(
    fragment: str | None, path: tuple[str, ...], count: int, limit: int, first: FieldNode
) -> GraphQLError:
    where = f" in fragment '{fragment}'" if fragment is not None else ""
    # Located by source and position, not by node: a node would keep the whole document alive.
    return GraphQLError(
        f"Field '{'.'.join(path)}'{where} is selected {count} times at the same place, over "
        f"the limit of {limit} (max repeated fields): select it once.",
        source=first.loc.source if first.loc else None,
        positions=[first.loc.start] if first.loc else None,
        extensions={"code": "QUERY_TOO_COMPLEX", "maxRepeatedFields": limit},
    )


__all__ = ["selection_limit_error"]
