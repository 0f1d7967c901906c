"""Regions from the reference CSV, as the generators need them."""

from __future__ import annotations

import random
from dataclasses import dataclass

from db.models import Base
from db.models.enums import RegionLevel
from db.reference_data import read_reference_rows
from db.seed.vocabularies import DESTINATION_PROVINCES, ORIGIN_PROVINCES


@dataclass(frozen=True)
class Places:
    """Regions from the reference CSV: where workers come from and where employers are."""

    names: dict[str, str]
    parents: dict[str, str | None]
    levels: dict[str, RegionLevel]
    origins: list[str]
    counties: list[str]
    destinations: dict[str, list[str]]

    @classmethod
    def load(cls) -> Places:
        rows = read_reference_rows(Base.metadata.tables["regions"])
        names = {str(r["code"]): str(r["name"]) for r in rows}
        parents = {str(r["code"]): str(r["parent_code"] or "") or None for r in rows}
        levels = {str(r["code"]): RegionLevel(r["level"]) for r in rows}
        has_children = {parent for parent in parents.values() if parent}
        leaves = [
            c for c in names if levels[c] is not RegionLevel.PROVINCE and c not in has_children
        ]
        counties = [c for c in leaves if levels[c] is RegionLevel.COUNTY]
        return cls(
            names=names,
            parents=parents,
            levels=levels,
            origins=[c for c in counties if _province(c) in ORIGIN_PROVINCES],
            counties=counties,
            destinations={
                province: [c for c in leaves if _province(c) == province]
                for province in DESTINATION_PROVINCES.items
            },
        )

    def pick_origin(self, rng: random.Random) -> str:
        """A county of household registration, mostly in the big origin provinces."""
        return rng.choice(self.origins if rng.random() < 0.75 else self.counties)

    def pick_destination(self, rng: random.Random) -> str:
        return rng.choice(self.destinations[DESTINATION_PROVINCES.pick(rng)])

    def prefecture(self, code: str) -> str:
        """The pooling area (prefecture level) a region belongs to."""
        parent = self.parents[code]
        return parent if self.levels[code] is RegionLevel.COUNTY and parent else code

    def city_name(self, code: str) -> str:
        """The name a company registered in `code` carries: 深圳市, 北京市, 济源市."""
        prefecture = self.prefecture(code)
        if self.names[prefecture].endswith(("市", "州")):
            return self.names[prefecture]
        if self.names[code].endswith("市"):
            return self.names[code]
        return self.names[self.parents[prefecture] or prefecture]

    def address(self, code: str) -> str:
        """深圳市宝安区, 东莞市, 北京市海淀区."""
        city, name = self.city_name(code), self.names[code]
        return city if name == city else city + name


def _province(code: str) -> str:
    return code[:2] + "0000"
