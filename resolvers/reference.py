"""Reference data, declared: regions (GB/T 2260), occupations, industries (GB/T 4754), skills;
and the reference lists (regions by parent, occupations by major group, industries by section).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.engine import RowMapping

from db.codes import (
    is_division_code_format,
    is_industry_code_format,
    is_occupation_code_format,
    is_skill_code_format,
)
from db.models import Industry, Occupation, Region, Skill
from db.models.base import table_of
from resolvers.catalog import declare
from resolvers.declarations import Entity, ToMany, ToOne
from resolvers.errors import BadArgument
from resolvers.policies import public

if TYPE_CHECKING:
    from resolvers.reads import Reads

REGIONS = table_of(Region)
OCCUPATIONS = table_of(Occupation)
INDUSTRIES = table_of(Industry)
SKILLS = table_of(Skill)
MAJOR_GROUPS = range(1, 9)

REGION_PARENT = ToOne("Region", REGIONS.c.parent_code)
REGION_CHILDREN = ToMany("Region", REGIONS.c.parent_code)
INDUSTRY_PARENT = ToOne("Industry", INDUSTRIES.c.parent_code)
INDUSTRY_CHILDREN = ToMany("Industry", INDUSTRIES.c.parent_code)
SKILL_OCCUPATION = ToOne("Occupation", SKILLS.c.occupation_code)

REGION = declare(Entity(
    "Region", REGIONS, public, key=REGIONS.c.code, key_format=is_division_code_format,
    relations=(REGION_PARENT, REGION_CHILDREN),
))
OCCUPATION = declare(Entity(
    "Occupation", OCCUPATIONS, public, key=OCCUPATIONS.c.code,
    key_format=is_occupation_code_format,
))
INDUSTRY = declare(Entity(
    "Industry", INDUSTRIES, public, key=INDUSTRIES.c.code, key_format=is_industry_code_format,
    relations=(INDUSTRY_PARENT, INDUSTRY_CHILDREN),
))
SKILL = declare(Entity(
    "Skill", SKILLS, public, key=SKILLS.c.code, key_format=is_skill_code_format,
    relations=(SKILL_OCCUPATION,),
))


def division_code(code: str, argument: str) -> str:
    if not is_division_code_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not a 6-digit division code")
    return code


async def regions_under(reads: Reads, parent_code: str | None) -> list[RowMapping]:
    """Provinces when `parent_code` is None, else the divisions directly under it."""
    if parent_code is None:
        return await reads.listing(
            REGION, REGIONS.c.parent_code.is_(None), order_by=[REGIONS.c.code]
        )
    division_code(parent_code, "parentCode")
    if await reads.node(REGION, parent_code) is None:
        raise BadArgument("parentCode", f"unknown region code '{parent_code[:32]}'")
    return await reads.children(REGION_CHILDREN, parent_code)


async def occupations_of(reads: Reads, major_group: int | None) -> list[RowMapping]:
    if major_group is not None and major_group not in MAJOR_GROUPS:
        raise BadArgument("majorGroup", f"must be a major group from 1 to 8, got {major_group}")
    where = [] if major_group is None else [OCCUPATIONS.c.major_group == major_group]
    return await reads.listing(OCCUPATION, *where, order_by=[OCCUPATIONS.c.code])


async def industries_of(reads: Reads, section: str | None) -> list[RowMapping]:
    """Sections A–T when `section` is None, else the divisions directly under it."""
    if section is not None and not is_industry_code_format(section):
        raise BadArgument("section", f"'{section[:32]}' is not a GB/T 4754 industry code")
    parent = INDUSTRIES.c.parent_code
    where = parent.is_(None) if section is None else parent == section
    return await reads.listing(INDUSTRY, where, order_by=[INDUSTRIES.c.code])


async def all_skills(reads: Reads) -> list[RowMapping]:
    return await reads.listing(SKILL, order_by=[SKILLS.c.code])
