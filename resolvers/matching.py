"""Matching: jobs for a worker, workers for a job, trainings for a worker, ranked and explained.

Each ranking (`resolvers.declarations.Ranking`) is one SQL statement over what the viewer may
read: the worker's profile is made of their latest survey, job intentions, skills and
completed trainings, each read under its own row policy, so a score never rests on a fact
the viewer could not read, and a partner or employer never learns of a worker it could not
see. A worker who refused automated recommendations (PIPL art. 24,
`setRecommendationPreference`) is ranked in no list, and no list is made for them.

Points, out of 100, each with its reason in words when it counts:

    occupation  the job's occupation is one the worker intends (survey, intentions)     30
                意向工种 焊工
    skills      the worker has a skill of that occupation: 具备 焊工 技能                 15
    training    they completed a training in it: 已完成 焊工 培训                         15
    place       the nearest of: same county 同一区县 25, within a region they intend
                在意向地区 25, same prefecture 同一地市 15, same province 同一省份 8,
                elsewhere but willing to relocate 愿意异地就业 5                           25
    pay         expected monthly pay against the job's monthly range: at or below its
                lowest 15, within it 10, above it 0; said either way:
                期望月薪 6500，岗位 6000–9000 (or 期望月薪 9500，高于岗位 6000–9000)     15

A job is recommended to a worker when it is open to the public (published, not expired,
not hidden), the viewer sees it, the worker has not applied to it, and it fits the worker's
occupations (intended, skilled or trained) or lies in their county. A worker is recommended
for a job when their occupations (as the viewer reads them) include the job's. A training is
recommended when it closes a gap: an occupation the worker intends but has no skill or
completed training in; it takes enrolments and has a seat left; nearest first.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    FromClause,
    Select,
    String,
    Text,
    any_,
    case,
    cast,
    exists,
    func,
    literal_column,
    not_,
    or_,
    select,
    true,
    union,
)
from sqlalchemy.dialects.postgresql import ARRAY, array

from db.models import SurveyOccupation
from db.models.base import table_of
from db.models.enums import EnrollmentStatus
from resolvers.access import Role, Viewer
from resolvers.catalog import visible, visible_over
from resolvers.declarations import Ranking, Refusal
from resolvers.job_lifecycle import in_public_view
from resolvers.jobs import APPLICATIONS, JOBS
from resolvers.reference import OCCUPATIONS
from resolvers.reference import SKILLS as SKILL_CODES
from resolvers.trainings import ENROLLMENTS, TRAININGS, TrainingStatus, training_status_sql
from resolvers.workers import INTENTIONS, SKILLS, SURVEYS, WORKERS

SURVEY_OCCUPATIONS = table_of(SurveyOccupation)
"""An index of every survey's occupations (migration 0014), for finding candidates."""


class RecommendationErrorCode(enum.Enum):
    """Why no recommendations were made."""

    NOT_ALLOWED = "not_allowed"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    OPTED_OUT = "opted_out"


OPTED_OUT = Refusal(
    RecommendationErrorCode.OPTED_OUT,
    "该劳动者已拒绝个性化推荐 (the worker refused automated recommendations, PIPL art. 24); "
    "serve them without ranking, or ask them to allow recommendations again.",
    lambda worker: bool(worker["recommendation_opt_out"]),
    lambda worker: worker.c.recommendation_opt_out,
)

FOR_WORKERS = frozenset({Role.WORKER, Role.STAFF, Role.PARTNER, Role.ADMIN})
FOR_JOBS = frozenset({Role.EMPLOYER, Role.STAFF, Role.PARTNER, Role.ADMIN})


Fact = Callable[[ColumnElement[Any]], ColumnElement[bool]]
"""`fact(occupation_code)`: whether the worker has it (intends, has a skill of, was trained
in that occupation), as SQL."""


@dataclass(frozen=True)
class Profile:
    """What the viewer may read of a worker that matching uses, as SQL over their row."""

    source: FromClause  # the worker's row with their profile joined (laterals)
    home: ColumnElement[Any]  # the county they live in (else their hukou's)
    occupations: ColumnElement[Any]  # intended (latest survey and job intentions)
    regions: ColumnElement[Any]  # intended regions
    expected: ColumnElement[Any]  # expected monthly pay
    willing: ColumnElement[Any]  # willing to relocate
    skilled_in: Fact  # has a skill of the occupation
    trained_in: Fact  # completed a training in it
    related: ColumnElement[Any] | None  # every occupation of the three (one worker's profile)

    def intends(self, occupation: ColumnElement[Any]) -> ColumnElement[bool]:
        return occupation == any_(self.occupations)


def _codes(values: ColumnElement[Any]) -> ColumnElement[Any]:
    """An array of codes, empty rather than null."""
    return func.coalesce(values, cast(literal_column("'{}'"), ARRAY(Text)))


def profile(
    viewer: Viewer, worker: FromClause, *, occupation: ColumnElement[Any] | None = None
) -> Profile:
    """The profile of the worker whose row `worker` (an alias of workers) holds.

    Without `occupation` (a ranking for one worker, over many jobs or trainings), the
    occupations of their skills and completed trainings are gathered into arrays once. With
    it (a ranking of many workers for one job), whether they have a skill of it or completed
    a training in it is looked up (`EXISTS`) once per worker, in a lateral of its own that
    the score and the filter both read (PostgreSQL would run a sub-select as often as it is
    written), and gathering every candidate's occupations would cost more; the profile then
    answers of that occupation only."""
    survey = SURVEYS.alias("survey")
    latest = (
        select(
            survey.c.intended_occupation_codes, survey.c.intended_region_codes,
            survey.c.expected_salary, survey.c.willing_to_relocate, survey.c.skill_codes,
        )
        .where(survey.c.worker_id == worker.c.id, visible_over(viewer, SURVEYS, survey))
        .order_by(survey.c.surveyed_at.desc(), survey.c.id.desc())
        .limit(1)
        .correlate_except(survey)
        .lateral("latest")
    )
    intention = INTENTIONS.alias("intention")
    intended = (
        select(
            func.array_agg(intention.c.occupation_code)
            .filter(intention.c.occupation_code.is_not(None)).label("occupations"),
            func.array_agg(intention.c.region_code)
            .filter(intention.c.region_code.is_not(None)).label("regions"),
            func.min(intention.c.expected_salary).label("expected"),
        )
        .where(intention.c.worker_id == worker.c.id, visible_over(viewer, INTENTIONS, intention))
        .correlate_except(intention)
        .lateral("intended")
    )
    owned, known = SKILLS.alias("owned"), SKILL_CODES.alias("known")
    owned_codes = (
        select(owned.c.skill_code)
        .where(owned.c.worker_id == worker.c.id, visible_over(viewer, SKILLS, owned))
        .correlate_except(owned)
    )
    skill_codes = _codes(latest.c.skill_codes).op("||")(func.array(owned_codes.scalar_subquery()))
    enrolment, course = ENROLLMENTS.alias("enrolment"), TRAININGS.alias("course")
    completed = (
        select(course.c.occupation_code)
        .select_from(enrolment.join(course, course.c.id == enrolment.c.training_id))
        .where(
            enrolment.c.worker_id == worker.c.id,
            enrolment.c.status == EnrollmentStatus.COMPLETED,
            course.c.occupation_code.is_not(None),
            visible_over(viewer, ENROLLMENTS, enrolment),
            visible_over(viewer, TRAININGS, course),
        )
        .correlate_except(enrolment, course)
    )
    source = worker.outerjoin(latest, true()).join(intended, true())
    occupations = _codes(latest.c.intended_occupation_codes).op("||")(
        _codes(intended.c.occupations)
    )
    if occupation is None:
        skilled = (  # through the primary key of skills: the codes are few
            select(func.array_agg(known.c.occupation_code).label("occupations"))
            .where(known.c.code == any_(skill_codes), known.c.occupation_code.is_not(None))
            .correlate_except(known)
            .lateral("skilled")
        )
        done = completed.subquery("done")
        trained = (
            select(func.array_agg(done.c.occupation_code).label("occupations")).lateral("trained")
        )
        source = source.join(skilled, true()).join(trained, true())
        skilled_codes, trained_codes = _codes(skilled.c.occupations), _codes(trained.c.occupations)
        skilled_in: Fact = lambda code: code == any_(skilled_codes)  # noqa: E731
        trained_in: Fact = lambda code: code == any_(trained_codes)  # noqa: E731
        related = occupations.op("||")(skilled_codes).op("||")(trained_codes)
    else:
        facts = select(
            exists(
                select(1)
                .where(known.c.occupation_code == occupation, known.c.code == any_(skill_codes))
                .correlate_except(known)
            ).label("skilled"),
            exists(completed.where(course.c.occupation_code == occupation)).label("trained"),
        ).offset(0).lateral("facts")  # OFFSET 0: not pulled up, where each use runs it again
        source = source.join(facts, true())
        skilled_in, trained_in = _of(occupation, facts.c.skilled), _of(occupation, facts.c.trained)
        related = None
    return Profile(
        source=source,
        home=func.coalesce(worker.c.current_region_code, worker.c.hukou_region_code),
        occupations=occupations,
        regions=_codes(latest.c.intended_region_codes).op("||")(_codes(intended.c.regions)),
        expected=func.coalesce(latest.c.expected_salary, intended.c.expected),
        willing=func.coalesce(latest.c.willing_to_relocate, False),
        skilled_in=skilled_in, trained_in=trained_in, related=related,
    )


def _of(occupation: ColumnElement[Any], fact: ColumnElement[bool]) -> Fact:
    """A fact looked up for `occupation` alone, as a `Fact`."""

    def holds(code: ColumnElement[Any]) -> ColumnElement[bool]:
        if code is not occupation:
            raise ValueError("this profile answers of the occupation it was made for only")
        return fact

    return holds


def _division_prefix(code: ColumnElement[Any]) -> ColumnElement[Any]:
    """`db.codes.division_prefix` in SQL: the prefix every division under `code` shares."""
    return case(
        (func.right(code, 4) == "0000", func.left(code, 2)),
        (func.right(code, 2) == "00", func.left(code, 4)),
        else_=code,
    )


def _in_intended_region(region: ColumnElement[Any], regions: ColumnElement[Any]) -> Any:
    intended = func.unnest(regions).table_valued("code").render_derived()
    return exists(
        select(1).select_from(intended)
        .where(func.starts_with(region, _division_prefix(intended.c.code)))
    )


def _place(worker: Profile, region: ColumnElement[Any]) -> tuple[Any, Any]:
    """(points, reason) of the nearest way `region` lies to the worker."""
    home = worker.home
    ways = [
        (region == home, 25, "同一区县"),
        (_in_intended_region(region, worker.regions), 25, "在意向地区"),
        (func.left(region, 4) == func.left(home, 4), 15, "同一地市"),
        (func.left(region, 2) == func.left(home, 2), 8, "同一省份"),
        (worker.willing, 5, "愿意异地就业"),
    ]
    points = case(*((when, points) for when, points, _ in ways), else_=0)
    reason = case(*((when, cast(said, String)) for when, _, said in ways), else_=None)
    return points, reason


def _yuan(amount: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(cast(func.round(amount), BigInteger), Text)


def _pay(expected: ColumnElement[Any], low: ColumnElement[Any], high: Any) -> tuple[Any, Any]:
    """(points, reason) of the worker's expected monthly pay against a job's monthly range."""
    unknown = or_(expected.is_(None), low.is_(None), high.is_(None))
    offered = _yuan(low) + "–" + _yuan(high)
    points = case((unknown, 0), (expected <= low, 15), (expected <= high, 10), else_=0)
    reason = case(
        (unknown, None),
        (expected <= high, "期望月薪 " + _yuan(expected) + "，岗位 " + offered),
        else_="期望月薪 " + _yuan(expected) + "，高于岗位 " + offered,
    )
    return points, reason


def _occupation(worker: Profile, code: ColumnElement[Any], name: ColumnElement[Any]) -> list[
    tuple[Any, Any]
]:
    """(points, reason) of each way the worker fits the occupation `code` (named `name`)."""
    ways = (
        (worker.intends(code), 30, "意向工种 " + name),
        (worker.skilled_in(code), 15, "具备 " + name + " 技能"),
        (worker.trained_in(code), 15, "已完成 " + name + " 培训"),
    )
    return [(case((holds, points), else_=0), case((holds, said))) for holds, points, said in ways]


def _reasons(said: list[Any]) -> ColumnElement[Any]:
    """The reasons that hold, in order, as a text array (a null one is one that doesn't)."""
    return func.array_remove(array(said, type_=String), None)


def _fit(worker: Profile, occupation: FromClause, region: Any, low: Any, high: Any) -> tuple[
    ColumnElement[Any], ColumnElement[Any]
]:
    """The score and reasons of a job (its occupation's row, region and monthly pay range)
    for the worker: occupation, place and pay, as the module's docstring counts them."""
    parts = [
        *_occupation(worker, occupation.c.code, occupation.c.name),
        _place(worker, region),
        _pay(worker.expected, low, high),
    ]
    score: Any = parts[0][0]
    for points, _ in parts[1:]:
        score = score + points
    return cast(score, Float).label("score"), _reasons([r for _, r in parts]).label("reasons")


def _position(order: tuple[Any, ...]) -> ColumnElement[Any]:
    """Each ranked row's place in the ranking (1 for the best), which the compiled path
    keeps the rows' order by."""
    return func.row_number().over(order_by=order).label("position")


def _not_applied(viewer: Viewer, worker: ColumnElement[Any], job: ColumnElement[Any]) -> Any:
    """The worker has no application to the job that the viewer may see."""
    applied = APPLICATIONS.alias("applied")
    return not_(exists(
        select(1).where(
            applied.c.worker_id == worker, applied.c.job_id == job,
            visible_over(viewer, APPLICATIONS, applied),
        ).correlate_except(applied)
    ))


def _applicants(viewer: Viewer, job: ColumnElement[Any]) -> Select[Any]:
    """The workers with an application to the job that the viewer may see (one set, read
    once through the job's index, rather than a look-up per candidate)."""
    return select(APPLICATIONS.c.worker_id).where(
        APPLICATIONS.c.job_id == job, visible(viewer, APPLICATIONS)
    )


def jobs_for_worker(viewer: Viewer, key: ColumnElement[Any], first: Any) -> Select[Any]:
    worker = WORKERS.alias("subject")
    mine = profile(viewer, worker)
    assert mine.related is not None
    job, occupation = JOBS.alias("job"), OCCUPATIONS.alias("occupation")
    score, reasons = _fit(
        mine, occupation, job.c.region_code, job.c.monthly_salary_min, job.c.monthly_salary_max
    )
    order = (score.desc(), job.c.posted_at.desc(), job.c.id.desc())
    return (
        select(job.c.id.label("key"), score, reasons, _position(order))
        .select_from(
            mine.source.join(job, true())
            .outerjoin(occupation, occupation.c.code == job.c.occupation_code)
        )
        .where(
            worker.c.id == key, visible_over(viewer, WORKERS, worker),
            not_(worker.c.recommendation_opt_out),
            in_public_view(job), visible_over(viewer, JOBS, job),
            or_(job.c.occupation_code == any_(mine.related), job.c.region_code == mine.home),
            _not_applied(viewer, worker.c.id, job.c.id),
        )
        .order_by(*order)
        .limit(first)
    )


def _candidates(occupation: ColumnElement[Any]) -> Any:
    """The workers with anything in `occupation` (any survey intending it or naming a skill
    of it, an intention, a skill, a completed training), each through an index: a superset
    of those that fit as the viewer reads them (which the ranking checks after). Surveys are
    found through `survey_occupations`: their arrays can't be searched by a value the
    statement itself computes (the job's occupation), not even with a GIN index."""
    course = TRAININGS.alias("candidate_course")
    enrolment = ENROLLMENTS.alias("candidate_enrolment")
    known = SKILL_CODES.alias("candidate_skill")
    owned = SKILLS.alias("candidate_owned")
    return union(
        select(SURVEY_OCCUPATIONS.c.worker_id)
        .where(SURVEY_OCCUPATIONS.c.occupation_code == occupation),
        select(INTENTIONS.c.worker_id).where(INTENTIONS.c.occupation_code == occupation),
        select(owned.c.worker_id).select_from(owned.join(known, known.c.code == owned.c.skill_code))
        .where(known.c.occupation_code == occupation),
        select(enrolment.c.worker_id)
        .select_from(enrolment.join(course, course.c.id == enrolment.c.training_id))
        .where(course.c.occupation_code == occupation,
               enrolment.c.status == EnrollmentStatus.COMPLETED),
    )


def workers_for_job(viewer: Viewer, key: ColumnElement[Any], first: Any) -> Select[Any]:
    job, occupation = JOBS.alias("subject"), OCCUPATIONS.alias("occupation")
    wanted = select(JOBS.c.occupation_code).where(JOBS.c.id == key).scalar_subquery()
    candidates = _candidates(wanted).subquery("candidates")
    # Each candidate's row by its key: LIMIT 1 keeps it a look-up per candidate, where the
    # planner would otherwise read every worker the viewer may see to hash-join them.
    worker = (
        select(WORKERS).where(WORKERS.c.id == candidates.c.worker_id).limit(1)
        .correlate_except(WORKERS).lateral("candidate")
    )
    theirs = profile(viewer, worker, occupation=occupation.c.code)
    score, reasons = _fit(
        theirs, occupation, job.c.region_code, job.c.monthly_salary_min, job.c.monthly_salary_max
    )
    order = (score.desc(), worker.c.id)
    return (
        select(worker.c.id.label("key"), score, reasons, _position(order))
        .select_from(
            job.join(occupation, occupation.c.code == job.c.occupation_code)
            .join(candidates, true())
            .join(theirs.source, true())
        )
        .where(
            job.c.id == key, visible_over(viewer, JOBS, job),
            visible_over(viewer, WORKERS, worker), not_(worker.c.recommendation_opt_out),
            or_(*(fits(occupation.c.code) for fits in (
                theirs.intends, theirs.skilled_in, theirs.trained_in
            ))),
            worker.c.id.not_in(_applicants(viewer, key)),
        )
        .order_by(*order)
        .limit(first)
    )


def trainings_for_worker(viewer: Viewer, key: ColumnElement[Any], first: Any) -> Select[Any]:
    worker = WORKERS.alias("subject")
    mine = profile(viewer, worker)
    course, occupation = TRAININGS.alias("offered"), OCCUPATIONS.alias("occupation")
    enrolled = ENROLLMENTS.alias("enrolled")
    gap = "意向工种 " + occupation.c.name + "，尚无该工种技能或培训"
    place, place_reason = _place(mine, course.c.region_code)
    subsidy = case((course.c.subsidised, 15), else_=0)
    score = cast(50 + place + subsidy, Float).label("score")
    reasons = _reasons([gap, place_reason, case((course.c.subsidised, "补贴培训"))])
    order = (score.desc(), course.c.starts_on, course.c.id)
    return (
        select(course.c.id.label("key"), score, reasons.label("reasons"), _position(order))
        .select_from(
            mine.source.join(course, true())
            .join(occupation, occupation.c.code == course.c.occupation_code)
        )
        .where(
            worker.c.id == key, visible_over(viewer, WORKERS, worker),
            not_(worker.c.recommendation_opt_out), visible_over(viewer, TRAININGS, course),
            mine.intends(course.c.occupation_code),
            not_(mine.skilled_in(course.c.occupation_code)),
            not_(mine.trained_in(course.c.occupation_code)),
            training_status_sql(course) == TrainingStatus.SCHEDULED.value,
            course.c.seats_taken < course.c.capacity,
            not_(exists(
                select(1).where(
                    enrolled.c.worker_id == worker.c.id, enrolled.c.training_id == course.c.id,
                    enrolled.c.status != EnrollmentStatus.DROPPED,
                    visible_over(viewer, ENROLLMENTS, enrolled),
                ).correlate_except(enrolled)
            )),
        )
        .order_by(*order)
        .limit(first)
    )


PROFILE_READS = (
    SURVEYS.c.intended_occupation_codes, SURVEYS.c.intended_region_codes,
    SURVEYS.c.expected_salary, SURVEYS.c.willing_to_relocate, SURVEYS.c.skill_codes,
    INTENTIONS.c.occupation_code, INTENTIONS.c.region_code, INTENTIONS.c.expected_salary,
    SKILLS.c.skill_code, ENROLLMENTS.c.status, ENROLLMENTS.c.training_id,
    WORKERS.c.current_region_code, WORKERS.c.hukou_region_code,
)
"""What a ranking reads of a worker: a partner's field list must allow each."""

RECOMMENDED_JOBS = Ranking(
    "recommendedJobs", "Worker", "Job", "workerId", jobs_for_worker, FOR_WORKERS,
    "Recommendations for a worker are made for the worker, staff, partners and admins.",
    RecommendationErrorCode, (OPTED_OUT,), PROFILE_READS,
)
RECOMMENDED_WORKERS = Ranking(
    "recommendedWorkers", "Job", "Worker", "jobId", workers_for_job, FOR_JOBS,
    "Workers are recommended for a job to its employer, staff, partners and admins.",
    RecommendationErrorCode, (), PROFILE_READS,
)
TRAINING_RECOMMENDATIONS = Ranking(
    "trainingRecommendations", "Worker", "Training", "workerId", trainings_for_worker,
    FOR_WORKERS,
    "Recommendations for a worker are made for the worker, staff, partners and admins.",
    RecommendationErrorCode, (OPTED_OUT,), PROFILE_READS,
)
RANKINGS = (RECOMMENDED_JOBS, RECOMMENDED_WORKERS, TRAINING_RECOMMENDATIONS)

__all__ = [
    "RANKINGS",
    "RECOMMENDED_JOBS",
    "RECOMMENDED_WORKERS",
    "TRAINING_RECOMMENDATIONS",
    "RecommendationErrorCode",
    "profile",
]
