"""Reference lists: regions by parent, occupations by major group, industries by section."""

from __future__ import annotations

from sqlalchemy.engine import RowMapping

from db.codes import is_division_code_format, is_industry_code_format
from db.models import Industry, Occupation, Region, Skill
from db.models.base import table_of
from resolvers.errors import BadArgument
from resolvers.loaders import Loaders

REGIONS = table_of(Region)
OCCUPATIONS = table_of(Occupation)
INDUSTRIES = table_of(Industry)
SKILLS = table_of(Skill)
MAJOR_GROUPS = range(1, 9)


def division_code(code: str, argument: str) -> str:
    if not is_division_code_format(code):
        raise BadArgument(argument, f"'{code[:32]}' is not a 6-digit division code")
    return code


async def regions_under(loaders: Loaders, parent_code: str | None) -> list[RowMapping]:
    """Provinces when `parent_code` is None, else the divisions directly under it."""
    if parent_code is None:
        return await loaders.visible_rows(
            REGIONS, REGIONS.c.parent_code.is_(None), order_by=[REGIONS.c.code]
        )
    division_code(parent_code, "parentCode")
    if await loaders.row_by_key(REGIONS, "code").load(parent_code) is None:
        raise BadArgument("parentCode", f"unknown region code '{parent_code[:32]}'")
    return await loaders.visible_rows(
        REGIONS, REGIONS.c.parent_code == parent_code, order_by=[REGIONS.c.code]
    )


async def occupations_of(loaders: Loaders, major_group: int | None) -> list[RowMapping]:
    if major_group is not None and major_group not in MAJOR_GROUPS:
        raise BadArgument("majorGroup", f"must be a major group from 1 to 8, got {major_group}")
    where = [] if major_group is None else [OCCUPATIONS.c.major_group == major_group]
    return await loaders.visible_rows(OCCUPATIONS, *where, order_by=[OCCUPATIONS.c.code])


async def industries_of(loaders: Loaders, section: str | None) -> list[RowMapping]:
    """Sections A–T when `section` is None, else the divisions directly under it."""
    if section is not None and not is_industry_code_format(section):
        raise BadArgument("section", f"'{section[:32]}' is not a GB/T 4754 industry code")
    parent = INDUSTRIES.c.parent_code
    where = parent.is_(None) if section is None else parent == section
    return await loaders.visible_rows(INDUSTRIES, where, order_by=[INDUSTRIES.c.code])


async def all_skills(loaders: Loaders) -> list[RowMapping]:
    return await loaders.visible_rows(SKILLS, order_by=[SKILLS.c.code])
