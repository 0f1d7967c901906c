"""Recording a worker's skill survey (摸底, `recordSkillSurvey`), a declared write.

A survey is added to the worker's history, never changed: the newest is the one that counts
(`Worker.latestSurvey`). Whoever sees the worker may survey them (the worker themself, staff of
their division, partners with consent in their regions, admins), employers never. Its codes
are checked where they stand in the input (`["input", "skills", "2"]`): well formed, then in
their tables (skills, occupations, current regions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert, select

from db.models import SkillSurvey, Worker
from db.models.base import table_of
from resolvers.access import Role, Viewer
from resolvers.catalog import visible
from resolvers.events import Event, EventType, notify, regions_of
from resolvers.global_ids import GlobalId
from resolvers.pagination import readable_columns
from resolvers.worker_writes import WorkerErrorCode, WorkerOutcome, WorkerProblem
from resolvers.workers import SKILL_SURVEY
from resolvers.write_checks import (
    CURRENT_REGIONS,
    OCCUPATIONS,
    SKILLS,
    Vocabulary,
    amount_problem,
    entries,
    text_length_problem,
)
from resolvers.writes import (
    Problem,
    Tx,
    Write,
    declare_write,
    decoded_key,
    described,
    done,
    failed,
)

SURVEYS = table_of(SkillSurvey)
WORKERS = table_of(Worker)
SURVEYING_ROLES = frozenset({Role.WORKER, Role.STAFF, Role.PARTNER, Role.ADMIN})
MAX_CODES = 20
MAX_TRAINING_NEEDS = 1_000
MAX_SERVICE_POINT = 128
INVALID = WorkerErrorCode.INVALID


@dataclass(frozen=True, kw_only=True)
class NewSkillSurvey:
    """A skill survey of one worker: what they can do, which jobs and places they want, the
    pay they expect, the training they need."""

    worker_id: GlobalId
    skills: list[str] = described(
        "Codes of the `skills` list the worker has.", default_factory=list
    )
    intended_occupation_codes: list[str] = described(
        "Occupations sought (职业分类大典 codes), first choice first.", default_factory=list
    )
    intended_region_codes: list[str] = described(
        "Current divisions the worker would work in, first choice first.", default_factory=list
    )
    expected_salary: Decimal | None = described(
        "CNY a month, at most two decimals.", default=None
    )
    willing_to_relocate: bool = described("Would move for a job.", default=False)
    training_needs: str | None = described(
        "The training wanted, in the worker's words (at most 1,000 characters).", default=None
    )
    service_point: str | None = described(
        "The grassroots service point surveying (its name, at most 128 characters); left out "
        "when the worker fills the survey in themself.",
        default=None,
    )
    surveyed_at: datetime | None = described(
        "When the survey was taken; defaults to now and may not be in the future.", default=None
    )


def _coded(new: NewSkillSurvey) -> list[tuple[Vocabulary, str, list[str]]]:
    """Each list of codes of a survey: its vocabulary, its input field, the codes."""
    return [
        (SKILLS, "skills", new.skills),
        (OCCUPATIONS, "intendedOccupationCodes", new.intended_occupation_codes),
        (CURRENT_REGIONS, "intendedRegionCodes", new.intended_region_codes),
    ]


def _field_problems(new: NewSkillSurvey) -> list[WorkerProblem]:
    problems: list[WorkerProblem] = []
    for vocabulary, field, codes in _coded(new):
        problems += vocabulary.list_problems(field, codes, MAX_CODES, INVALID)
    salary = None if new.expected_salary is None else amount_problem(new.expected_salary)
    if salary is not None:
        problems.append(Problem(("expectedSalary",), INVALID, salary))
    for field, text, most in (
        ("trainingNeeds", new.training_needs, MAX_TRAINING_NEEDS),
        ("servicePoint", new.service_point, MAX_SERVICE_POINT),
    ):
        wrong = None if text is None else text_length_problem(text, most)
        if wrong is not None:
            problems.append(Problem((field,), INVALID, wrong))
    if new.surveyed_at is not None and new.surveyed_at > datetime.now(UTC):
        problems.append(Problem(("surveyedAt",), INVALID, "Must not be in the future."))
    return problems


def _survey_problems(viewer: Viewer, new: NewSkillSurvey) -> list[WorkerProblem]:
    """What is wrong with a survey before any SQL: who surveys whom, then its fields."""
    key = decoded_key(new.worker_id, "Worker", "workerId", INVALID)
    if isinstance(key, Problem):
        return [key]
    if viewer.role is Role.WORKER and key != viewer.worker_id:
        return [Problem(
            ("workerId",), WorkerErrorCode.NOT_ALLOWED, "Workers record only their own surveys."
        )]
    return _field_problems(new)


async def _record(tx: Tx, new: NewSkillSurvey) -> WorkerOutcome:
    key = decoded_key(new.worker_id, "Worker", "workerId", INVALID)
    assert isinstance(key, int)
    seen = await tx.connection.execute(
        select(WORKERS.c.current_region_code, WORKERS.c.hukou_region_code)
        .where(WORKERS.c.id == key, visible(tx.viewer, WORKERS))
    )
    worker = seen.first()
    if worker is None:
        return failed(Problem(("workerId",), WorkerErrorCode.NOT_FOUND, "No such worker."))
    missing = [
        problem
        for vocabulary, field, codes in _coded(new)
        for problem in await vocabulary.unknown(
            tx.connection, entries(field, codes), WorkerErrorCode.NOT_FOUND
        )
    ]
    if missing:
        return failed(*missing)
    created = await tx.connection.execute(
        insert(SURVEYS)
        .values(
            worker_id=key, skill_codes=new.skills,
            intended_occupation_codes=new.intended_occupation_codes,
            intended_region_codes=new.intended_region_codes,
            expected_salary=new.expected_salary, willing_to_relocate=new.willing_to_relocate,
            training_needs=_stripped(new.training_needs),
            service_point=_stripped(new.service_point),
            surveyed_at=new.surveyed_at or datetime.now(UTC), surveyed_by=tx.viewer.principal,
        )
        .returning(*readable_columns(SURVEYS))
    )
    survey = created.mappings().one()
    await notify(tx.connection, Event(
        EventType.SKILL_SURVEY_RECORDED, survey["id"], worker_id=key,
        regions=regions_of(worker.current_region_code, worker.hukou_region_code),
    ))
    return done(survey)


def _stripped(text: str | None) -> str | None:
    return None if text is None else text.strip()


RECORD_SKILL_SURVEY = declare_write(Write(
    "recordSkillSurvey",
    "Add a skill survey (摸底) to a worker's history (the worker themself, staff of their "
    "division, partners with their consent in their regions, admins; never employers).",
    NewSkillSurvey, SKILL_SURVEY, WorkerErrorCode, _record, _survey_problems,
    SURVEYING_ROLES, "Your role may not survey workers.", idempotent=True,
    audited=(
        "SkillSurvey.skillCodes", "SkillSurvey.intendedOccupationCodes",
        "SkillSurvey.intendedRegionCodes", "SkillSurvey.expectedSalary",
        "SkillSurvey.willingToRelocate", "SkillSurvey.trainingNeeds",
        "SkillSurvey.servicePoint",
    ),
))
