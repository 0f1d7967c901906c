"""Every viewer sees exactly the rows the oracle says, on both read paths.

The oracle (tests/visibility.py) says which rows of each entity each viewer must see, from the
README's access table alone. For every viewer of the cast (tests/visibility_cast.py) and each
read path, the root lists (paged to the end, `totalCount` on every page), `node`/`nodes`
over rows it may and may not see, and every relation over the parents it sees (pages, counts,
small lists, to-one targets) must show exactly those rows (tests/visibility_probes.py). Every
viewer runs the same documents, so a compiled plan kept for one viewer and answering for
another with other rights (another division, other regions) is caught.

Then, so that no check passes for want of rows: each role sees some and misses some rows of
each personal-data type the README lets it see, and each declared policy selects the oracle's
rows itself (which also holds a policy to its rows where no read reaches them yet).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from resolvers.access import PartnerGrant, Role
from resolvers.access import Viewer as PolicyViewer
from resolvers.catalog import CATALOG, personal_data_types, public_types, visible
from server.settings import Settings
from tests.conftest import GraphQLClient
from tests.visibility import PERSONAL_TYPES, PUBLIC_TYPES, RULES, Viewer, seen_rows
from tests.visibility_cast import VIEWER_NAMES, Cast, casting
from tests.visibility_probes import (
    KEYLESS,
    Asker,
    Sight,
    check_list,
    check_nodes,
    check_relation,
    links,
    node_types,
    relations,
    root_lists,
    sight_of,
)

RELATIONS = [r for r in relations() if not RULES[r.target].is_public]

# Per role, the personal-data types it sees some rows of (README, "Who may see what"); it
# sees none of the others, and every role but admin misses some rows of each.
SEES_SOME = {
    "anonymous": set(),
    "worker": PERSONAL_TYPES - {"AuditEvent"},
    "employer": PERSONAL_TYPES - {"Consent", "SkillSurvey", "AuditEvent"},
    "staff": PERSONAL_TYPES - {"AuditEvent"},
    "partner": PERSONAL_TYPES - {"Consent", "AuditEvent"},
    "admin": PERSONAL_TYPES,
}


@pytest.fixture(scope="module")
async def cast(engine: AsyncEngine, settings: Settings) -> AsyncIterator[Cast]:
    async with casting(engine, settings) as found:
        yield found


async def sight(engine: AsyncEngine, viewer: Viewer) -> Sight:
    async with engine.connect() as connection:
        return await sight_of(connection, viewer)


def test_the_oracle_has_a_rule_for_every_declared_entity() -> None:
    """A new entity enters the oracle when it is declared, or this fails."""
    assert set(RULES) == {entity.name for entity in CATALOG}
    assert personal_data_types() == PERSONAL_TYPES
    assert public_types() == PUBLIC_TYPES == {n for n, rows in RULES.items() if rows.is_public}
    for entity in CATALOG:
        assert RULES[entity.name].table == entity.table.name, entity.name
        assert entity.is_node or entity.name in KEYLESS, f"say how {entity.name} is named"


@pytest.mark.parametrize("name", VIEWER_NAMES)
async def test_each_viewer_sees_what_the_oracle_says(
    name: str, read_path: str, cast: Cast, engine: AsyncEngine, http: httpx.AsyncClient,
    http_resolvers: httpx.AsyncClient,
) -> None:
    viewer = cast.viewers[name]
    app = http if read_path == "compiled" else http_resolvers
    asker = Asker(GraphQLClient(app, cast.headers[name]))
    seen = await sight(engine, viewer)
    shown = [await check_list(asker, seen, root) for root in root_lists()]
    shown += [await check_nodes(asker, seen, type_name) for type_name in node_types()]
    async with engine.connect() as connection:
        linked = {relation: await links(connection, relation) for relation in RELATIONS}
    for relation in RELATIONS:
        shown.append(len(await check_relation(asker, seen, relation, linked[relation])))
    assert sum(shown) > 0 and len(asker.paths) > len(RELATIONS), "the probes were answered"
    assert set(asker.paths) == {read_path}, "every probe was answered on the path it tests"


async def test_each_role_sees_some_and_misses_some_personal_rows(
    cast: Cast, engine: AsyncEngine
) -> None:
    """The cast's rows make every check count: no role's check passes on an empty set."""
    sights = [await sight(engine, viewer) for viewer in cast.viewers.values()]
    for role, types in SEES_SOME.items():
        of_role = [s for s in sights if s.viewer.role == role]
        assert of_role, f"no {role} in the cast"
        for type_name in PERSONAL_TYPES:
            seen = set().union(*(s.through_node(type_name) for s in of_role))
            every = of_role[0].every[type_name]
            assert len(every) > 1, f"the fixtures have too few {type_name} rows"
            if type_name in types:
                assert seen, f"no {role} sees any {type_name}"
            else:
                assert not seen, f"a {role} sees {type_name}"
            for one in of_role if role != "admin" else []:
                assert one.through_node(type_name) < every, (one.viewer.name, type_name)


async def test_consent_and_regions_make_the_difference(cast: Cast, engine: AsyncEngine) -> None:
    """Partners that differ only in consent see the same jobs and trainings, and only the
    consented one sees personal data; staff of two divisions of a level see different rows."""
    consented, unconsented = [
        await sight(engine, cast.viewers[name])
        for name in ("partner-consented-a", "partner-unconsented")
    ]
    for type_name in ("Job", "Training"):
        assert consented.rows[type_name] == unconsented.rows[type_name] != set()
    for type_name in SEES_SOME["partner"]:
        assert consented.rows[type_name], f"the consented partner sees no {type_name}"
        assert not unconsented.rows[type_name], f"the unconsented partner sees {type_name}"
    for level in ("province", "prefecture", "county"):
        one, other = [
            await sight(engine, cast.viewers[name]) for name in VIEWER_NAMES
            if name.startswith(f"staff-{level}")
        ]
        assert one.rows["Worker"] and other.rows["Worker"]
        assert one.rows["Worker"] != other.rows["Worker"], level
    one, other = [await sight(engine, cast.viewers[f"partner-consented-{n}"]) for n in "ab"]
    assert one.rows["Worker"] and other.rows["Worker"]
    assert one.rows["Worker"].isdisjoint(other.rows["Worker"])


def _policy_viewer(viewer: Viewer) -> PolicyViewer:
    """The app's viewer for an oracle's viewer (as its credentials make it)."""
    agreement = viewer.agreement
    kind, _, name = (viewer.principal or "").partition(":")
    grant = None if agreement is None else PartnerGrant(
        key_id=int(name), partner=viewer.name, scopes=agreement.scopes,
        regions=agreement.regions, fields=agreement.fields, purpose=agreement.purpose,
        types=agreement.types,
    )
    return PolicyViewer(
        Role(viewer.role), subject=name if kind == viewer.role else None,
        region_code=viewer.division, worker_id=viewer.worker_id,
        employer_id=viewer.employer_id, partner=grant,
    )


@pytest.mark.parametrize("type_name", sorted(RULES))
async def test_each_policy_selects_the_rows_the_oracle_expects(
    type_name: str, cast: Cast, engine: AsyncEngine
) -> None:
    """Each declared row policy, run as SQL, selects the oracle's rows for every viewer;
    this holds a policy to its rows also where no read reaches them (a worker's skills are
    read only through a worker the viewer sees)."""
    entity = CATALOG.entity(type_name)
    key = [entity.table.c[column] for column in RULES[type_name].key]
    for viewer in cast.viewers.values():
        async with engine.connect() as connection:
            expected = await seen_rows(connection, type_name, viewer)
            statement = select(*key).where(visible(_policy_viewer(viewer), entity.table))
            selected = {tuple(row) for row in await connection.execute(statement)}
        assert selected == expected, (
            f"{viewer.name}: the {type_name} policy selects {sorted(selected - expected)[:5]} "
            f"beyond the oracle and misses {sorted(expected - selected)[:5]}"
        )
