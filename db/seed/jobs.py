"""Job postings, the applications to them, and the placements of workers in them."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta

from db.models import Application, Job, JobReport, Placement
from db.models.enums import (
    ApplicationStatus,
    EmploymentType,
    JobReportReason,
    JobReportStatus,
    JobStatus,
    SalaryUnit,
)
from db.seed.tables import Load
from db.seed.vocabularies import (
    APPLICATION_STATUSES,
    COMMON_TITLES,
    JOB_STATUSES,
    MONTHLY_CAP,
    POSTING_TERMS,
    SALARY_BOUNDS,
    TITLE_SUFFIXES,
)
from db.seed.world import Row, World, yuan


def _salary_unit(rng: random.Random, employment: EmploymentType) -> SalaryUnit:
    if employment is EmploymentType.FULL_TIME:
        return SalaryUnit.MONTH if rng.random() < 0.9 else SalaryUnit.PIECE
    if employment is EmploymentType.GIG:
        return SalaryUnit.PIECE if rng.random() < 0.7 else SalaryUnit.HOUR
    return SalaryUnit.HOUR if employment is EmploymentType.PART_TIME else SalaryUnit.DAY


def _salary_range(rng: random.Random, unit: SalaryUnit) -> tuple[int, int]:
    """The lowest and highest salary in cents."""
    lowest, highest, step, spread = SALARY_BOUNDS[unit]
    low = rng.randrange(lowest, highest + 1, step)
    high = low + rng.randrange(0, spread + 1, step)
    if unit is SalaryUnit.MONTH:
        high = min(high, MONTHLY_CAP)
    return low, high


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


def _posting_text(
    words: random.Random, occupation: str, unit: SalaryUnit, lodging: bool, board: bool
) -> tuple[str, list[str]]:
    """A common name for the job, if postings have one, and the terms its text promises."""
    names = next((n for key, n in COMMON_TITLES.items() if key in occupation), ())
    common = words.choice(names) if names and words.random() < 0.7 else ""
    terms = ["包吃住" if board else "包住"] if lodging else []
    terms += {SalaryUnit.DAY: ["日结"], SalaryUnit.PIECE: ["计件"]}.get(unit, [])
    terms += words.sample(POSTING_TERMS, words.randint(1, 3))
    return common, terms


def job_rows(world: World) -> Iterator[Row]:
    rng, places = world.rng, world.places
    words = world.side_rng()  # the postings' wording: other rows stay as they were
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
        world.job_pay.append((unit, salary_min, salary_max))
        headcount = rng.choice((1, 2, 3, 5, 5, 10, 10, 20, 30, 50, 100))
        lodging = rng.random() < sector.lodging
        board = lodging and rng.random() < 0.8
        suffix = "（包吃住）" if board else rng.choice(TITLE_SUFFIXES)
        name = world.occupations[occupation]
        common, terms = _posting_text(words, name, unit, lodging, board)
        title = (common or name) + suffix
        description = (
            f"{world.employer_names[employer]}招聘{common or name}{headcount}名"
            f"（{name}），{'，'.join(terms)}。工作地点：{places.address(region)}。"
        )
        status = JOB_STATUSES.pick(rng)
        posted, valid_through, verified = _job_dates(world, status)
        if status is not JobStatus.DRAFT:
            world.job_windows[job_id] = (posted, min(world.now, valid_through or world.now))
        yield (
            job_id, employer + 1, title, description, occupation, sector.industry, region,
            yuan(salary_min), yuan(salary_max), unit.value, headcount, employment.value,
            lodging, board, status.value, posted, valid_through, verified, posted,
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
        application_id = len(seen)
        if status is ApplicationStatus.HIRED:
            world.hirings.append((application_id, *pair, updated))
        yield application_id, *pair, status.value, submitted, updated


def _outside_hirings(
    world: World, rng: random.Random
) -> Iterator[tuple[None, int, int, datetime]]:
    """Placements made without an application (e.g. referred by an employment office): one in
    ten as many as the hired applications, plus one; a random worker in an open job."""
    open_jobs = list(world.job_windows)
    for _ in range(len(world.hirings) // 10 + 1 if open_jobs else 0):
        job_id = rng.choice(open_jobs)
        start, end = world.job_windows[job_id]
        placed = start + (end - start) * rng.random()
        yield None, rng.randint(1, world.scale.workers), job_id, placed


def placement_rows(world: World) -> Iterator[Row]:
    """One placement per hired application, starting some days after the hire, then the ones
    from outside. About a third have ended (before today); the wage is within the job's
    salary range when that is monthly."""
    rng = world.side_rng()
    hirings: Iterator[tuple[int | None, int, int, datetime]]
    hirings = itertools.chain(world.hirings, _outside_hirings(world, rng))
    for placement_id, (application_id, worker_id, job_id, placed) in enumerate(hirings, 1):
        started = placed.date() + timedelta(days=rng.randint(1, 14))
        days_in = (world.today - started).days
        ended = None
        if days_in > 0 and rng.random() < 0.6:  # about 55% have started: a third of all end
            ended = started + timedelta(days=rng.randrange(days_in))
        unit, salary_min, salary_max = world.job_pay[job_id - 1]
        wage = None
        if unit is SalaryUnit.MONTH:
            wage = yuan(rng.randrange(salary_min, salary_max + 1, 100))
        yield placement_id, worker_id, job_id, application_id, started, ended, wage, placed


def job_report_rows(world: World) -> Iterator[Row]:
    """Reports of one open job in ten: one or two still open (never the three that would hide
    a job), and some that staff dismissed or took down (closing reviews are not modelled)."""
    rng = world.side_rng()
    reasons = list(JobReportReason)
    report_id = 0
    for job_id, (start, end) in world.job_windows.items():
        if rng.random() >= 0.1:
            continue
        statuses = [JobReportStatus.OPEN] * rng.randint(1, 2)
        statuses += [JobReportStatus.DISMISSED] * rng.randint(0, 2)
        for n, status in enumerate(statuses):
            report_id += 1
            made = start + (end - start) * rng.random()  # not world.between: its own rng
            reviewed = None if status is JobReportStatus.OPEN else min(
                world.now, made + timedelta(days=rng.uniform(0.5, 5))
            )
            reason = rng.choice(reasons)
            text = "要求先交押金和培训费" if reason is JobReportReason.CHARGES_FEES else ""
            yield (
                report_id, job_id, f"worker:seed-{rng.randint(1, world.scale.workers)}-{n}",
                reason.value, text, status.value, made, reviewed,
                None if reviewed is None else "staff:seed",
            )


LOADS = (
    Load.of(
        Job, job_rows, lambda s: s.jobs,
        defaulted=("version", "openings_filled", "open_reports", "search_text", "search_grams"),
    ),
    Load.of(Application, application_rows, lambda s: s.applications, defaulted=("version",)),
    Load.of(Placement, placement_rows),
    Load.of(JobReport, job_report_rows),
)
