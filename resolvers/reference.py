"""Reference lists: regions by parent, occupations by major group, industries by section."""

from __future__ import annotations

from sqlalchemy.engine import RowMapping

from db.models import Industry, Occupation, Region, Skill
from db.models.base import table_of
from resolvers.errors import BadArgument
from resolvers.loaders import Loaders

REGIONS = table_of(Region)
OCCUPATIONS = table_of(Occupation)
INDUSTRIES = table_of(Industry)
SKILLS = table_of(Skill)


async def regions_under(loaders: Loaders, parent_code: str | None) -> list[RowMapping]:
    """Provinces when `parent_code` is None, else the divisions directly under it."""
    if parent_code is None:
        return await loaders.visible_rows(
            REGIONS, REGIONS.c.parent_code.is_(None), order_by=[REGIONS.c.code]
        )
    if await loaders.row_by_key(REGIONS, "code").load(parent_code) is None:
        raise BadArgument("parentCode", f"unknown region code '{parent_code[:32]}'")
    return await loaders.visible_rows(
        REGIONS, REGIONS.c.parent_code == parent_code, order_by=[REGIONS.c.code]
    )


async def occupations_of(loaders: Loaders, major_group: int | None) -> list[RowMapping]:
    where = [] if major_group is None else [OCCUPATIONS.c.major_group == major_group]
    return await loaders.visible_rows(OCCUPATIONS, *where, order_by=[OCCUPATIONS.c.code])


async def industries_of(loaders: Loaders, section: str | None) -> list[RowMapping]:
    """Sections A–T when `section` is None, else the divisions directly under it."""
    parent = INDUSTRIES.c.parent_code
    where = parent.is_(None) if section is None else parent == section
    return await loaders.visible_rows(INDUSTRIES, where, order_by=[INDUSTRIES.c.code])


async def all_skills(loaders: Loaders) -> list[RowMapping]:
    return await loaders.visible_rows(SKILLS, order_by=[SKILLS.c.code])
