"""Reference data: regions (GB/T 2260), occupations (职业分类大典 2022), industries, skills."""

from __future__ import annotations

from datetime import date

import strawberry

from db.models.enums import RegionLevel
from resolvers.reference import (
    INDUSTRY_CHILDREN,
    INDUSTRY_PARENT,
    REGION,
    REGION_CHILDREN,
    REGION_PARENT,
    SKILL_OCCUPATION,
    all_skills,
    division_code,
    industries_of,
    occupations_of,
    regions_under,
)
from schema.context import Info
from schema.fields import to_many, to_one
from schema.node import Node

strawberry.enum(RegionLevel, description="Administrative level of a division.")


@strawberry.type(description="An administrative division, by its GB/T 2260 code.")
class Region(Node):
    code: str = strawberry.field(description="Six-digit division code, e.g. 110108.")
    name: str
    level: RegionLevel
    parent_code: strawberry.Private[str | None]
    valid_from: date | None
    valid_to: date | None
    parent = to_one(REGION_PARENT, "The division this one belongs to; null for provinces.")
    children = to_many(REGION_CHILDREN, "Divisions directly under this one, by code.")


@strawberry.type(description="An occupation of the national occupation classification.")
class Occupation(Node):
    code: str = strawberry.field(description="`D-DD-DD-DD`, e.g. 4-02-07-10.")
    name: str
    major_group: int = strawberry.field(description="Major group 1–8 (first digit of the code).")


@strawberry.type(description="A GB/T 4754-2017 industry: a section letter or a division.")
class Industry(Node):
    code: str = strawberry.field(description="Section letter, optionally with 2–4 digits.")
    name: str
    section: str
    parent_code: strawberry.Private[str | None]
    parent = to_one(INDUSTRY_PARENT)
    children = to_many(INDUSTRY_CHILDREN)


@strawberry.type(description="A skill a worker can have, optionally tied to an occupation.")
class Skill(Node):
    code: str
    name: str
    occupation_code: strawberry.Private[str | None]
    occupation = to_one(SKILL_OCCUPATION)


@strawberry.type
class ReferenceQuery:
    @strawberry.field(description="Divisions under `parentCode`; provinces when it is null.")
    async def regions(self, info: Info, parent_code: str | None = None) -> list[Region]:
        rows = await regions_under(info.context.reads, parent_code)
        return [Region.from_row(row) for row in rows]

    @strawberry.field(description="One division by its code; null when there is none.")
    async def region(self, info: Info, code: str) -> Region | None:
        row = await info.context.reads.node(REGION, division_code(code, "code"))
        return None if row is None else Region.from_row(row)

    @strawberry.field(description="Occupations, optionally of one major group (1–8).")
    async def occupations(self, info: Info, major_group: int | None = None) -> list[Occupation]:
        rows = await occupations_of(info.context.reads, major_group)
        return [Occupation.from_row(row) for row in rows]

    @strawberry.field(description="Industry sections A–T, or the divisions of `section`.")
    async def industries(self, info: Info, section: str | None = None) -> list[Industry]:
        rows = await industries_of(info.context.reads, section)
        return [Industry.from_row(row) for row in rows]

    @strawberry.field(description="The skills vocabulary.")
    async def skills(self, info: Info) -> list[Skill]:
        return [Skill.from_row(row) for row in await all_skills(info.context.reads)]
