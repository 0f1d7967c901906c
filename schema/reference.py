"""Reference data: regions (GB/T 2260), occupations (职业分类大典 2022), industries, skills."""

from __future__ import annotations

from datetime import date

import strawberry

from db.models.enums import RegionLevel
from resolvers.relations import INDUSTRY_CHILDREN, REGION_CHILDREN
from schema.context import Info
from schema.node import Node, load_node

strawberry.enum(RegionLevel, description="Administrative level of a division.")


@strawberry.type(description="An administrative division, by its GB/T 2260 code.")
class Region(Node):
    key_column = "code"

    code: str = strawberry.field(description="Six-digit division code, e.g. 110108.")
    name: str
    level: RegionLevel
    parent_code: strawberry.Private[str | None]
    valid_from: date | None
    valid_to: date | None

    @strawberry.field(description="The division this one belongs to; null for provinces.")
    async def parent(self, info: Info) -> Region | None:
        code = self.parent_code
        return None if code is None else await load_node(info, Region, code)

    @strawberry.field(description="Divisions directly under this one, by code.")
    async def children(self, info: Info) -> list[Region]:
        rows = await info.context.loaders.rows_by_parent(REGION_CHILDREN).load(self.code)
        return [Region.from_row(row) for row in rows]


@strawberry.type(description="An occupation of the national occupation classification.")
class Occupation(Node):
    key_column = "code"

    code: str = strawberry.field(description="`D-DD-DD-DD`, e.g. 4-02-07-10.")
    name: str
    major_group: int = strawberry.field(description="Major group 1–8 (first digit of the code).")


@strawberry.type(description="A GB/T 4754-2017 industry: a section letter or a division.")
class Industry(Node):
    key_column = "code"

    code: str = strawberry.field(description="Section letter, optionally with 2–4 digits.")
    name: str
    section: str
    parent_code: strawberry.Private[str | None]

    @strawberry.field
    async def parent(self, info: Info) -> Industry | None:
        code = self.parent_code
        return None if code is None else await load_node(info, Industry, code)

    @strawberry.field
    async def children(self, info: Info) -> list[Industry]:
        rows = await info.context.loaders.rows_by_parent(INDUSTRY_CHILDREN).load(self.code)
        return [Industry.from_row(row) for row in rows]


@strawberry.type(description="A skill a worker can have, optionally tied to an occupation.")
class Skill(Node):
    key_column = "code"

    code: str
    name: str
    occupation_code: strawberry.Private[str | None]

    @strawberry.field
    async def occupation(self, info: Info) -> Occupation | None:
        if self.occupation_code is None:
            return None
        return await load_node(info, Occupation, self.occupation_code)
