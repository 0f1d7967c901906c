"""Generated, realistic data sets loaded by COPY: `tiny` (tests), `demo`, `large` (benchmarks).

Everything comes from one `random.Random(seed)`, so a scale and a seed always give the same
rows (ciphertexts differ: every encryption draws a fresh nonce). Ids are assigned here so that
rows can reference each other without round trips; the identity sequences are moved past them
at the end. Rows are generated lazily and copied in chunks, so memory stays bounded.
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal
from typing import Generic, TypeVar

import asyncpg

from db.codes import generate_credit_code, generate_id_number
from db.models import Base
from db.models.enums import (
    ApplicationStatus,
    ContributionStatus,
    EducationLevel,
    EmployerSize,
    EmploymentType,
    EnrollmentStatus,
    InsuranceType,
    JobStatus,
    RegionLevel,
    SalaryUnit,
    TrainingKind,
    TrainingMode,
)
from db.pii import PersonalDataVault
from db.reference_data import read_reference_rows, sync_reference_data
from db.session import create_engine, sync_url

T = TypeVar("T")
Row = tuple[object, ...]

CHUNK_ROWS = 20_000


class SeedError(RuntimeError):
    """The database is not in a state the seeding can work on."""


@dataclass(frozen=True)
class Scale:
    workers: int
    employers: int
    jobs: int
    applications: int
    trainings: int
    enrollments: int
    insurance_records: int


SCALES = {
    "tiny": Scale(150, 20, 80, 300, 8, 60, 1_500),
    "demo": Scale(2_000, 200, 3_000, 5_000, 100, 2_000, 50_000),
    "large": Scale(100_000, 10_000, 50_000, 200_000, 2_000, 50_000, 1_000_000),
}


class Weighted(Generic[T]):
    """A fixed distribution to draw from."""

    def __init__(self, *pairs: tuple[T, float]) -> None:
        items, weights = zip(*pairs, strict=True)
        self.items: tuple[T, ...] = items
        self._cumulative = list(itertools.accumulate(weights))

    def pick(self, rng: random.Random) -> T:
        return rng.choices(self.items, cum_weights=self._cumulative)[0]


# --- vocabularies ---------------------------------------------------------------------------

SURNAMES = Weighted(
    *(
        (surname, 1 / (rank + 4))
        for rank, surname in enumerate(
            "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶"
            "程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾"
        )
    )
)
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林洋峰建国志海东文兵亮成新春永"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲婷雪慧莹琳倩晶颖洁梅兰萍红英秀凤琴云丹欣月佳玉桂"
BRAND_CHARS = "华宏鑫恒富金盛隆永佳创信德昌泰达兴源丰利嘉联新海瑞天中明威博诚安远顺凯益腾"
PROVIDER_KINDS = ("技师学院", "高级技工学校", "职业技能培训学校", "就业训练中心", "公共实训基地")
TITLE_SUFFIXES = ("", "", "", "（急招）", "（长白班）", "（两班倒）", "（可招学徒）")

EDUCATION = Weighted(
    (EducationLevel.NONE, 1),
    (EducationLevel.PRIMARY, 13),
    (EducationLevel.JUNIOR_SECONDARY, 52),
    (EducationLevel.SENIOR_SECONDARY, 13),
    (EducationLevel.VOCATIONAL, 8),
    (EducationLevel.JUNIOR_COLLEGE, 9),
    (EducationLevel.BACHELOR, 4),
)
EMPLOYER_SIZES = Weighted(
    (EmployerSize.MICRO, 30),
    (EmployerSize.SMALL, 40),
    (EmployerSize.MEDIUM, 22),
    (EmployerSize.LARGE, 8),
)
JOB_STATUSES = Weighted(
    (JobStatus.PUBLISHED, 70),
    (JobStatus.CLOSED, 12),
    (JobStatus.EXPIRED, 12),
    (JobStatus.DRAFT, 6),
)
APPLICATION_STATUSES = Weighted(
    (ApplicationStatus.SUBMITTED, 40),
    (ApplicationStatus.SHORTLISTED, 15),
    (ApplicationStatus.REJECTED, 20),
    (ApplicationStatus.HIRED, 15),
    (ApplicationStatus.WITHDRAWN, 10),
)
TRAINING_KINDS = Weighted(
    (TrainingKind.EMPLOYMENT_SKILLS, 50),
    (TrainingKind.JOB_SKILLS_IMPROVEMENT, 40),
    (TrainingKind.ENTREPRENEURSHIP, 10),
)
TRAINING_MODES = Weighted(
    (TrainingMode.ORDER_BASED, 35), (TrainingMode.TARGETED, 30), (TrainingMode.PROJECT_BASED, 35)
)
KIND_LABELS = {
    TrainingKind.EMPLOYMENT_SKILLS: "就业技能培训班",
    TrainingKind.JOB_SKILLS_IMPROVEMENT: "岗位技能提升培训班",
}
CONTRIBUTION_STATUSES = Weighted(
    (ContributionStatus.PAID, 93),
    (ContributionStatus.BACK_PAID, 4),
    (ContributionStatus.ARREARS, 3),
)
SKILL_COUNTS = Weighted((0, 25), (1, 40), (2, 25), (3, 10))
INTENTION_COUNTS = Weighted((0, 30), (1, 50), (2, 20))

# Employer and personal shares of the contribution base, in basis points.
EMPLOYEE_RATES = {
    InsuranceType.PENSION: (1600, 800),
    InsuranceType.MEDICAL: (800, 200),
    InsuranceType.UNEMPLOYMENT: (50, 50),
    InsuranceType.WORK_INJURY: (40, 0),
    InsuranceType.MATERNITY: (80, 0),
}
# Flexible employment (no employer): the worker pays pension and medical insurance alone.
FLEXIBLE_RATES = {InsuranceType.PENSION: (0, 2000), InsuranceType.MEDICAL: (0, 700)}
BASIC_COVERAGE = (InsuranceType.PENSION, InsuranceType.MEDICAL, InsuranceType.WORK_INJURY)
INSURANCE_MONTHS = 24

# Salary bounds per unit, in cents: lowest minimum, highest minimum, step, widest spread.
SALARY_BOUNDS = {
    SalaryUnit.MONTH: (350_000, 900_000, 10_000, 300_000),
    SalaryUnit.DAY: (15_000, 35_000, 1_000, 10_000),
    SalaryUnit.HOUR: (1_800, 3_500, 100, 1_000),
    SalaryUnit.PIECE: (400, 900, 50, 400),
}
MONTHLY_CAP = 1_200_000


FACTORY = Weighted(
    (EmploymentType.FULL_TIME, 88), (EmploymentType.PART_TIME, 4), (EmploymentType.SEASONAL, 8)
)
CONSTRUCTION = Weighted((EmploymentType.FULL_TIME, 40), (EmploymentType.SEASONAL, 60))
PLATFORM = Weighted(
    (EmploymentType.GIG, 80), (EmploymentType.PART_TIME, 10), (EmploymentType.FULL_TIME, 10)
)
SERVICE = Weighted((EmploymentType.FULL_TIME, 70), (EmploymentType.PART_TIME, 30))
FARM = Weighted((EmploymentType.SEASONAL, 70), (EmploymentType.FULL_TIME, 30))


@dataclass(frozen=True)
class Sector:
    """A kind of employer: its industry, name words, the occupations it hires, how it hires."""

    industry: str
    trades: tuple[str, ...]
    employment: Weighted[EmploymentType]
    lodging: float
    occupations: tuple[str, ...]


# fmt: off
SECTORS = Weighted(
    (Sector("C39", ("电子科技", "电子", "智能科技"), FACTORY, 0.8,
            ("6-25-04-01", "6-25-04-02", "6-31-01-10", "4-02-06-01", "2-02-07-02")), 14),
    (Sector("C38", ("电器", "新能源科技"), FACTORY, 0.8,
            ("6-28-01-01", "6-25-04-01", "6-31-01-03")), 8),
    (Sector("C36", ("汽车零部件", "汽车科技"), FACTORY, 0.7,
            ("6-22-02-01", "6-18-02-04", "6-18-01-07", "6-20-01-01")), 6),
    (Sector("C33", ("五金制品", "金属制品"), FACTORY, 0.7,
            ("6-18-02-04", "6-18-01-01", "6-18-01-02", "6-18-01-04")), 6),
    (Sector("C34", ("机械设备", "智能装备"), FACTORY, 0.6,
            ("6-20-01-01", "6-18-01-07", "2-02-14-01", "6-31-01-03")), 4),
    (Sector("C29", ("塑胶制品", "包装材料"), FACTORY, 0.8, ("6-09-02-03", "6-25-04-02")), 4),
    (Sector("C18", ("服饰", "制衣"), FACTORY, 0.8, ("6-05-01-03",)), 5),
    (Sector("C19", ("鞋业",), FACTORY, 0.8, ("6-07-03-01",)), 3),
    (Sector("C14", ("食品",), FACTORY, 0.6, ("6-02-01-01", "4-02-06-03")), 4),
    (Sector("E47", ("建筑工程", "建设工程"), CONSTRUCTION, 0.9,
            ("6-29-01-01", "6-29-01-03", "6-29-01-04", "6-29-01-05", "2-02-18-02")), 8),
    (Sector("E50", ("装饰工程", "装饰设计工程"), CONSTRUCTION, 0.5,
            ("6-29-02-01", "6-29-03-01", "6-29-03-03")), 4),
    (Sector("G60", ("快递服务", "速递"), SERVICE, 0.4, ("4-02-07-08", "4-02-07-09")), 5),
    (Sector("G59", ("供应链管理", "仓储物流"), FACTORY, 0.6,
            ("4-02-06-01", "4-02-06-03", "6-30-05-03")), 5),
    (Sector("G54", ("运输", "出行服务"), PLATFORM, 0.1,
            ("4-02-02-02", "4-02-02-03", "4-02-02-01")), 3),
    (Sector("I", ("网络科技", "信息技术"), PLATFORM, 0.0, ("4-02-07-10", "4-04-05-05")), 4),
    (Sector("H62", ("餐饮管理",), SERVICE, 0.7, ("4-03-02-01", "4-03-02-02", "4-03-02-05")), 6),
    (Sector("H61", ("酒店管理",), SERVICE, 0.6, ("4-03-01-01", "4-03-01-02")), 3),
    (Sector("O801", ("家政服务",), SERVICE, 0.3,
            ("4-10-01-06", "4-10-01-01", "4-10-01-05", "4-09-07-01")), 6),
    (Sector("O81", ("汽车服务", "家电维修"), SERVICE, 0.3, ("4-12-01-01", "4-12-02-02")), 2),
    (Sector("Q", ("养老服务", "健康管理"), SERVICE, 0.6, ("4-10-01-05", "4-14-01-02")), 3),
    (Sector("K", ("物业服务", "物业管理"), SERVICE, 0.4,
            ("4-06-01-01", "4-07-05-01", "4-09-07-01")), 4),
    (Sector("A", ("农业科技", "农业发展"), FARM, 0.7,
            ("5-01-01-01", "5-01-02-02", "5-05-01-01", "5-03-01-01")), 2),
)
# fmt: on
ORIGIN_PROVINCES = ("410000", "510000")
DESTINATION_PROVINCES = Weighted(("440000", 55), ("110000", 15), ("510000", 15), ("410000", 15))


# --- reference data as the generators need it ----------------------------------------------


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


def _reference_names(table: str) -> dict[str, str]:
    """Code -> name of a reference table, as in its CSV file."""
    rows = read_reference_rows(Base.metadata.tables[table])
    return {str(row["code"]): str(row["name"]) for row in rows}


# --- the generators ----------------------------------------------------------------------------


@dataclass
class World:
    """What later tables need to know about the rows generated before them.

    The per-row lists are indexed by id - 1.
    """

    rng: random.Random
    scale: Scale
    vault: PersonalDataVault
    places: Places
    occupations: dict[str, str]
    skills: list[str]
    now: datetime
    worker_homes: list[str] = field(default_factory=list)
    worker_flexible: list[bool] = field(default_factory=list)
    employer_regions: list[str] = field(default_factory=list)
    employer_sectors: list[Sector] = field(default_factory=list)
    employer_names: list[str] = field(default_factory=list)
    job_windows: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    trainings: list[tuple[int, int, date, date]] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.now.date()

    def ago(self, max_days: float, min_days: float = 0) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(min_days, max_days))

    def between(self, start: datetime, end: datetime) -> datetime:
        return start + (end - start) * self.rng.random()

    def worker_id(self) -> int:
        return self.rng.randint(1, self.scale.workers)


def _unique(seen: set[str], draws: Iterator[str]) -> str:
    """The first of `draws` not seen before (random codes can collide)."""
    value = next(draw for draw in draws if draw not in seen)
    seen.add(value)
    return value


def _person_name(rng: random.Random, male: bool) -> str:
    chars = GIVEN_MALE if male else GIVEN_FEMALE
    length = 1 if rng.random() < 0.35 else 2
    return SURNAMES.pick(rng) + "".join(rng.choice(chars) for _ in range(length))


def _birth_date(world: World) -> date:
    """Ages 18 to 60, most around 40 (the average migrant worker is about 42)."""
    return world.today - timedelta(days=round(world.rng.triangular(18 * 366, 60 * 365, 40 * 365)))


def _phone(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


WORKER_COLUMNS = (
    "id", "name", "id_number_encrypted", "id_number_hash", "id_number_masked", "gender",
    "birth_date", "phone_encrypted", "phone_hash", "phone_masked", "hukou_region_code",
    "current_region_code", "education_level", "new_employment_form", "created_at", "updated_at",
)  # fmt: skip


def worker_rows(world: World) -> Iterator[Row]:
    rng, seen = world.rng, set[str]()
    for worker_id in range(1, world.scale.workers + 1):
        male = rng.random() < 0.64
        birth, hukou = _birth_date(world), world.places.pick_origin(rng)
        id_number = _unique(
            seen,
            (generate_id_number(hukou, birth, rng.randrange(500), male) for _ in itertools.count()),
        )
        sealed_id = world.vault.seal_id_number(id_number)
        phone = world.vault.seal_phone(_phone(rng)) if rng.random() < 0.95 else None
        draw = rng.random()
        current = world.places.pick_destination(rng) if draw < 0.8 else hukou
        flexible = rng.random() < 0.12
        world.worker_homes.append(current)
        world.worker_flexible.append(flexible)
        created = world.ago(3 * 365)
        yield (
            worker_id, _person_name(rng, male),
            sealed_id.encrypted, sealed_id.hash, sealed_id.masked,
            "male" if male else "female", birth,
            phone.encrypted if phone else None, phone.hash if phone else None,
            phone.masked if phone else None,
            hukou, current if draw < 0.95 else None, EDUCATION.pick(rng).value, flexible,
            created, created,
        )  # fmt: skip


def worker_skill_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    for worker_id in range(1, world.scale.workers + 1):
        for skill in rng.sample(world.skills, SKILL_COUNTS.pick(rng)):
            yield worker_id, skill, rng.randint(1, 5)


def job_intention_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    wanted = sorted({code for sector in SECTORS.items for code in sector.occupations})
    for worker_id in range(1, world.scale.workers + 1):
        for _ in range(INTENTION_COUNTS.pick(rng)):
            region = world.places.pick_destination(rng) if rng.random() < 0.9 else None
            salary = Decimal(rng.randrange(4_000, 10_001, 500))
            yield worker_id, rng.choice(wanted), region, salary


EMPLOYER_COLUMNS = (
    "id", "name", "credit_code", "industry_code", "region_code", "size", "verified_at",
    "created_at",
)  # fmt: skip


def employer_rows(world: World) -> Iterator[Row]:
    rng, seen = world.rng, set[str]()
    for employer_id in range(1, world.scale.employers + 1):
        sector, region = SECTORS.pick(rng), world.places.pick_destination(rng)
        size = EMPLOYER_SIZES.pick(rng)
        brand = "".join(rng.sample(BRAND_CHARS, 2))
        form = "股份有限公司" if size is EmployerSize.LARGE and rng.random() < 0.5 else "有限公司"
        name = f"{world.places.city_name(region)}{brand}{rng.choice(sector.trades)}{form}"
        credit_code = _unique(
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


def _salary_unit(rng: random.Random, employment: EmploymentType) -> SalaryUnit:
    if employment is EmploymentType.FULL_TIME:
        return SalaryUnit.MONTH if rng.random() < 0.9 else SalaryUnit.PIECE
    if employment is EmploymentType.GIG:
        return SalaryUnit.PIECE if rng.random() < 0.7 else SalaryUnit.HOUR
    return SalaryUnit.HOUR if employment is EmploymentType.PART_TIME else SalaryUnit.DAY


def _salary_range(rng: random.Random, unit: SalaryUnit) -> tuple[Decimal, Decimal]:
    lowest, highest, step, spread = SALARY_BOUNDS[unit]
    low = rng.randrange(lowest, highest + 1, step)
    high = low + rng.randrange(0, spread + 1, step)
    if unit is SalaryUnit.MONTH:
        high = min(high, MONTHLY_CAP)
    return _yuan(low), _yuan(high)


def _yuan(cents: int) -> Decimal:
    return Decimal(cents).scaleb(-2)


def _job_dates(
    world: World, status: JobStatus
) -> tuple[datetime, datetime | None, datetime | None]:
    """posted_at, valid_through, last_verified_at, consistent with the status."""
    validity = timedelta(days=world.rng.choice((30, 60, 90)))
    days = validity.days
    if status is JobStatus.DRAFT:
        return world.ago(14), None, None
    if status is JobStatus.PUBLISHED:
        posted = world.ago(days)
        return posted, posted + validity, world.between(posted, world.now)
    posted = world.ago(180, days) if status is JobStatus.EXPIRED else world.ago(180)
    return posted, posted + validity, None


JOB_COLUMNS = (
    "id", "employer_id", "title", "description", "occupation_code", "industry_code",
    "region_code", "salary_min", "salary_max", "salary_unit", "headcount", "employment_type",
    "lodging", "board", "status", "posted_at", "valid_through", "last_verified_at", "created_at",
)  # fmt: skip


def job_rows(world: World) -> Iterator[Row]:
    rng, places = world.rng, world.places
    for job_id in range(1, world.scale.jobs + 1):
        employer = rng.randrange(world.scale.employers)
        sector = world.employer_sectors[employer]
        occupation = rng.choice(sector.occupations)
        region = world.employer_regions[employer]
        if rng.random() < 0.15:
            region = places.pick_destination(rng)
        employment = sector.employment.pick(rng)
        unit = _salary_unit(rng, employment)
        salary_min, salary_max = _salary_range(rng, unit)
        headcount = rng.choice((1, 2, 3, 5, 5, 10, 10, 20, 30, 50, 100))
        lodging = rng.random() < sector.lodging
        board = lodging and rng.random() < 0.8
        suffix = "（包吃住）" if board else rng.choice(TITLE_SUFFIXES)
        title = world.occupations[occupation] + suffix
        description = (
            f"{world.employer_names[employer]}招聘{world.occupations[occupation]}{headcount}名，"
            f"工作地点：{places.address(region)}。"
        )
        status = JOB_STATUSES.pick(rng)
        posted, valid_through, verified = _job_dates(world, status)
        if status is not JobStatus.DRAFT:
            world.job_windows[job_id] = (posted, min(world.now, valid_through or world.now))
        yield (
            job_id, employer + 1, title, description, occupation, sector.industry, region,
            salary_min, salary_max, unit.value, headcount, employment.value, lodging, board,
            status.value, posted, valid_through, verified, posted,
        )  # fmt: skip


def application_rows(world: World) -> Iterator[Row]:
    rng = world.rng
    open_jobs = list(world.job_windows)
    target = min(world.scale.applications, world.scale.workers * len(open_jobs))
    seen: set[tuple[int, int]] = set()
    while len(seen) < target:
        pair = (world.worker_id(), rng.choice(open_jobs))
        if pair in seen:
            continue
        seen.add(pair)
        submitted = world.between(*world.job_windows[pair[1]])
        status = APPLICATION_STATUSES.pick(rng)
        updated = submitted
        if status is not ApplicationStatus.SUBMITTED:
            updated = min(world.now, submitted + timedelta(hours=rng.uniform(1, 240)))
        yield *pair, status.value, submitted, updated


TRAINING_COLUMNS = (
    "id", "title", "kind", "mode", "provider", "partner_employer_id", "occupation_code",
    "region_code", "starts_on", "ends_on", "capacity", "subsidised", "created_at",
)  # fmt: skip


def training_rows(world: World) -> Iterator[Row]:
    rng, places = world.rng, world.places
    for training_id in range(1, world.scale.trainings + 1):
        kind, mode = TRAINING_KINDS.pick(rng), TRAINING_MODES.pick(rng)
        partner = (
            None if mode is TrainingMode.PROJECT_BASED else rng.randrange(world.scale.employers)
        )
        if partner is None:
            sector, region = SECTORS.pick(rng), places.pick_origin(rng)
        else:
            sector, region = world.employer_sectors[partner], world.employer_regions[partner]
        starts = world.today + timedelta(days=rng.randint(-365, 60))
        ends = starts + timedelta(days=rng.randint(5, 60))
        capacity = rng.randrange(20, 101, 5)
        if kind is TrainingKind.ENTREPRENEURSHIP:
            occupation, subject = None, "创业培训（SYB）班"
        else:
            occupation = rng.choice(sector.occupations)
            subject = world.occupations[occupation] + KIND_LABELS[kind]
        title = f"{starts.year}年{places.names[region]}{subject}"
        provider = places.city_name(region) + rng.choice(PROVIDER_KINDS)
        world.trainings.append((training_id, capacity, starts, ends))
        created = min(world.now, _at(starts - timedelta(days=30), 9))
        yield (
            training_id, title, kind.value, mode.value, provider,
            None if partner is None else partner + 1, occupation, region, starts, ends,
            capacity, rng.random() < 0.8, created,
        )  # fmt: skip


def _at(day: date, hour: int) -> datetime:
    return datetime.combine(day, clock(hour), UTC)


def _enrollment_status(world: World, starts: date, ends: date) -> EnrollmentStatus:
    draw = world.rng.random()
    if ends < world.today:
        return EnrollmentStatus.COMPLETED if draw < 0.8 else EnrollmentStatus.DROPPED
    if starts < world.today and draw < 0.1:
        return EnrollmentStatus.DROPPED
    return EnrollmentStatus.ENROLLED


def enrollment_rows(world: World) -> Iterator[Row]:
    """Seats drawn at random across all trainings, so no training exceeds its capacity."""
    rng = world.rng
    seats = [t for t, capacity, _, _ in world.trainings for _ in range(capacity)]
    taken = Counter(rng.sample(seats, min(world.scale.enrollments, len(seats))))
    for training_id, _, starts, ends in world.trainings:
        count = min(taken[training_id], world.scale.workers)
        for number, worker_id in enumerate(rng.sample(range(1, world.scale.workers + 1), count)):
            status = _enrollment_status(world, starts, ends)
            enrolled = min(world.now, _at(starts - timedelta(days=rng.randint(1, 20)), 10))
            completed = _at(ends, 17) if status is EnrollmentStatus.COMPLETED else None
            certificate = f"{ends:%Y}{training_id:06d}{number + 1:03d}" if completed else None
            yield worker_id, training_id, status.value, certificate, enrolled, completed


def _recent_months(today: date, count: int) -> list[date]:
    """The first days of the `count` complete months before `today`, oldest first."""
    months: list[date] = []
    month = today.replace(day=1)
    for _ in range(count):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    return months[::-1]


def _contribution(base_cents: int, rates: tuple[int, int]) -> tuple[Decimal, Decimal, Decimal]:
    """Base, employer amount, personal amount in yuan, rounded half up to the cent."""
    employer, personal = ((base_cents * rate + 5_000) // 10_000 for rate in rates)
    return _yuan(base_cents), _yuan(employer), _yuan(personal)


def _coverage(
    world: World, worker: int
) -> tuple[int | None, str, dict[InsuranceType, tuple[int, int]]]:
    """Who pays, in which pooling area, for which insurances at which rates."""
    rng = world.rng
    if (world.worker_flexible[worker] and rng.random() < 0.7) or rng.random() < 0.05:
        return None, world.places.prefecture(world.worker_homes[worker]), FLEXIBLE_RATES
    employer = rng.randrange(world.scale.employers)
    region = world.places.prefecture(world.employer_regions[employer])
    types = BASIC_COVERAGE if rng.random() < 0.25 else tuple(EMPLOYEE_RATES)
    return employer + 1, region, {kind: EMPLOYEE_RATES[kind] for kind in types}


INSURANCE_COLUMNS = (
    "worker_id", "employer_id", "insurance_type", "region_code", "period", "contribution_base",
    "employer_amount", "personal_amount", "status",
)  # fmt: skip


def insurance_rows(world: World) -> Iterator[Row]:
    """Runs of consecutive months per insured worker: unique on (worker, type, region, period)."""
    rng = world.rng
    months = _recent_months(world.today, INSURANCE_MONTHS)
    produced = 0
    for worker in rng.sample(range(world.scale.workers), world.scale.workers):
        employer_id, region, rates = _coverage(world, worker)
        length = rng.randint(3, INSURANCE_MONTHS)
        start = rng.randint(0, INSURANCE_MONTHS - length)
        base_cents = rng.randrange(3_500, 12_001, 100) * 100
        for kind, kind_rates in rates.items():
            amounts = _contribution(base_cents, kind_rates)
            for period in months[start : start + length]:
                status = CONTRIBUTION_STATUSES.pick(rng)
                yield worker + 1, employer_id, kind.value, region, period, *amounts, status.value
                produced += 1
                if produced == world.scale.insurance_records:
                    return


# --- loading -----------------------------------------------------------------------------------


class ProgressBar:
    """One line on stderr per table: rows done of the total, and the rate."""

    def __init__(self, table: str, total: int | None, *, enabled: bool) -> None:
        self.table, self.total, self.enabled = table, total, enabled
        self.started = self.shown = time.perf_counter()

    def update(self, done: int, *, final: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not final and now - self.shown < 0.2):
            return
        self.shown = now
        of = f"/{self.total:,}" if self.total else ""
        rate = done / max(now - self.started, 1e-9)
        end = "\n" if final else ""
        sys.stderr.write(f"\r{self.table:<18} {done:>11,}{of} rows  {rate:>9,.0f} rows/s{end}")
        sys.stderr.flush()


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


@dataclass(frozen=True)
class Load:
    """One table to fill: its columns, its rows, and how many are expected (if known)."""

    table: str
    columns: Sequence[str]
    rows: Callable[[World], Iterator[Row]]
    expected: Callable[[Scale], int | None]


LOADS = (
    Load("workers", WORKER_COLUMNS, worker_rows, lambda s: s.workers),
    Load("worker_skills", ("worker_id", "skill_code", "level"), worker_skill_rows, lambda s: None),
    Load(
        "job_intentions",
        ("worker_id", "occupation_code", "region_code", "expected_salary"),
        job_intention_rows,
        lambda s: None,
    ),
    Load("employers", EMPLOYER_COLUMNS, employer_rows, lambda s: s.employers),
    Load("jobs", JOB_COLUMNS, job_rows, lambda s: s.jobs),
    Load(
        "applications",
        ("worker_id", "job_id", "status", "submitted_at", "updated_at"),
        application_rows,
        lambda s: s.applications,
    ),
    Load("trainings", TRAINING_COLUMNS, training_rows, lambda s: s.trainings),
    Load(
        "enrollments",
        ("worker_id", "training_id", "status", "certificate_number", "enrolled_at", "completed_at"),
        enrollment_rows,
        lambda s: s.enrollments,
    ),
    Load("insurance_records", INSURANCE_COLUMNS, insurance_rows, lambda s: s.insurance_records),
)
# The seeded tables, which `replace=True` empties; the reference tables are never touched.
DATA_TABLES = tuple(load.table for load in LOADS)
TABLES_WITH_OWN_IDS = tuple(load.table for load in LOADS if "id" in load.columns)


async def _copy(conn: asyncpg.Connection, load: Load, world: World, *, progress: bool) -> int:
    bar = ProgressBar(load.table, load.expected(world.scale), enabled=progress)
    done = 0
    for chunk in _chunks(load.rows(world), CHUNK_ROWS):
        await conn.copy_records_to_table(load.table, records=chunk, columns=load.columns)
        done += len(chunk)
        bar.update(done)
    bar.update(done, final=True)
    return done


async def _prepare(conn: asyncpg.Connection, *, replace: bool) -> None:
    if replace:
        await conn.execute(f"TRUNCATE {', '.join(DATA_TABLES)} RESTART IDENTITY CASCADE")
    elif await conn.fetchval("SELECT EXISTS (SELECT 1 FROM workers)"):
        raise SeedError("The database already has workers; seed with replace=True to replace them.")


async def _advance_sequences(conn: asyncpg.Connection) -> None:
    for table in TABLES_WITH_OWN_IDS:
        await conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
            f" coalesce(max(id), 0) + 1, false) FROM {table}"
        )


async def _sync_reference(database_url: str) -> None:
    engine = create_engine(database_url, pool_size=1, max_overflow=0)
    try:
        async with engine.begin() as connection:
            await sync_reference_data(connection)
    finally:
        await engine.dispose()


def _world(scale: Scale, vault: PersonalDataVault, seed: int) -> World:
    occupations = _reference_names("occupations")
    missing = {c for s in SECTORS.items for c in s.occupations} - occupations.keys()
    if missing:
        raise SeedError(f"Occupations used by the seed are missing from occupations.csv: {missing}")
    return World(
        rng=random.Random(seed),
        scale=scale,
        vault=vault,
        places=Places.load(),
        occupations=occupations,
        skills=sorted(_reference_names("skills")),
        now=datetime.now(UTC),
    )


async def seed(
    database_url: str,
    scale: str,
    vault: PersonalDataVault,
    *,
    progress: bool = True,
    seed: int = 42,
    replace: bool = False,
) -> dict[str, int]:
    """Fill the data tables with a generated data set; returns the rows written per table.

    Refuses a database that already has workers unless `replace` (which empties the data
    tables, never the reference tables). The schema must be migrated already.
    """
    if scale not in SCALES:
        raise SeedError(f"Unknown scale {scale!r}; choose one of {', '.join(SCALES)}.")
    world = _world(SCALES[scale], vault, seed)
    await _sync_reference(database_url)
    conn = await asyncpg.connect(sync_url(database_url))
    try:
        async with conn.transaction():
            await _prepare(conn, replace=replace)
            counts = {
                load.table: await _copy(conn, load, world, progress=progress) for load in LOADS
            }
            await _advance_sequences(conn)
        await conn.execute(f"ANALYZE {', '.join(DATA_TABLES)}")
    finally:
        await conn.close()
    return counts
