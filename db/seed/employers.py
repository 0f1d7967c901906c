"""Employers: one sector and one region each, which their jobs and trainings follow."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

from db.codes import generate_credit_code
from db.models import Employer
from db.models.enums import EmployerSize
from db.seed.tables import Load
from db.seed.vocabularies import BRAND_CHARS, EMPLOYER_SIZES, SECTORS
from db.seed.world import Row, World, unique


def employer_rows(world: World) -> Iterator[Row]:
    rng, seen = world.rng, set[str]()
    for employer_id in range(1, world.scale.employers + 1):
        sector, region = SECTORS.pick(rng), world.places.pick_destination(rng)
        size = EMPLOYER_SIZES.pick(rng)
        brand = "".join(rng.sample(BRAND_CHARS, 2))
        form = "股份有限公司" if size is EmployerSize.LARGE and rng.random() < 0.5 else "有限公司"
        name = f"{world.places.city_name(region)}{brand}{rng.choice(sector.trades)}{form}"
        credit_code = unique(
            seen, (generate_credit_code(region, rng.randrange(31**9)) for _ in itertools.count())
        )
        world.employer_regions.append(region)
        world.employer_sectors.append(sector)
        world.employer_names.append(name)
        verified = world.ago(365) if rng.random() < 0.85 else None
        created = world.ago(8 * 365, 200)
        yield (
            employer_id, name, credit_code, sector.industry, region, size.value, verified, created
        )  # fmt: skip


LOADS = (
    Load.of(
        Employer, employer_rows, lambda s: s.employers, defaulted=("version", "is_platform")
    ),
)
