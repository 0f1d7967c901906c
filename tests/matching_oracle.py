"""An oracle of matching, written from the rules in `resolvers/matching.py`'s docstring, in
Python, over what a viewer reads through the API: each worker's profile (latest survey,
job intentions, skills, completed trainings, applications) and the jobs and trainings it
sees. A ranking must equal the oracle's over the same viewer's reads, score, reasons and
order, so a ranking that uses a fact the viewer could not read differs from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from tests.conftest import GraphQLClient
from tests.postings import key_of

PROFILE = """id recommendationOptOut hukouRegion { code } currentRegion { code }
  latestSurvey { intendedOccupationCodes intendedRegionCodes expectedSalary willingToRelocate
                 skillCodes }
  jobIntentions { occupation { code } region { code } expectedSalary }
  skills { skill { code occupation { code } } }
  enrollments(first: 50) { nodes { status training { id occupation { code } } } }
  applications(first: 50) { nodes { job { id } } }"""
JOB = "id postedAt region { code } occupation { code name } monthlySalaryMin monthlySalaryMax"
BATCH = 8  # workers per request, within the query cost limit
TRAINING = "id startsOn status seatsLeft subsidised region { code } occupation { code name }"


@dataclass
class Profile:
    id: str
    opted_out: bool
    home: str
    occupations: list[str] = field(default_factory=list)
    regions: list[str] = field(default_factory=list)
    expected: Decimal | None = None
    willing: bool = False
    skilled: set[str] = field(default_factory=set)
    trained: set[str] = field(default_factory=set)
    applied: set[str] = field(default_factory=set)
    enrolled: set[str] = field(default_factory=set)  # trainings with an enrolment not dropped


async def every(client: GraphQLClient, root: str, fields: str, filter_: str = "") -> list[Any]:
    """Every node of a root list the client's viewer sees, page by page."""
    found: list[Any] = []
    after = None
    while True:
        data = await client.ok(
            f"query ($after: String) {{ {root}(first: 100, after: $after {filter_}) {{ "
            f"nodes {{ {fields} }} pageInfo {{ hasNextPage endCursor }} }} }}",
            {"after": after},
        )
        page = data[root]
        found += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


async def skill_occupations(client: GraphQLClient) -> dict[str, str | None]:
    data = await client.ok("{ skills { code occupation { code } } }")
    return {s["code"]: (s["occupation"] or {}).get("code") for s in data["skills"]}


def profile_of(worker: dict[str, Any], skills: dict[str, str | None]) -> Profile:
    survey = worker["latestSurvey"]
    current = worker["currentRegion"]
    found = Profile(
        worker["id"], worker["recommendationOptOut"],
        current["code"] if current else worker["hukouRegion"]["code"],
    )
    intentions = worker["jobIntentions"]
    if survey:
        found.occupations += survey["intendedOccupationCodes"]
        found.regions += survey["intendedRegionCodes"]
        found.willing = survey["willingToRelocate"]
        if survey["expectedSalary"] is not None:
            found.expected = Decimal(survey["expectedSalary"])
    found.occupations += [i["occupation"]["code"] for i in intentions if i["occupation"]]
    found.regions += [i["region"]["code"] for i in intentions if i["region"]]
    if found.expected is None:
        expected = [Decimal(i["expectedSalary"]) for i in intentions if i["expectedSalary"]]
        found.expected = min(expected) if expected else None
    codes = [s["skill"]["code"] for s in worker["skills"]] + (survey or {}).get("skillCodes", [])
    found.skilled = {skills[c] for c in codes if skills.get(c)}  # type: ignore[misc]
    for enrolment in worker["enrollments"]["nodes"]:
        training = enrolment["training"]
        if enrolment["status"] != "DROPPED" and training:
            found.enrolled.add(training["id"])
        if enrolment["status"] == "COMPLETED" and training and training["occupation"]:
            found.trained.add(training["occupation"]["code"])
    found.applied = {a["job"]["id"] for a in worker["applications"]["nodes"] if a["job"]}
    return found


async def profiles(client: GraphQLClient, ids: list[str]) -> list[Profile]:
    skills = await skill_occupations(client)
    found = []
    for start in range(0, len(ids), BATCH):
        data = await client.ok(
            f"query ($ids: [ID!]!) {{ nodes(ids: $ids) {{ ... on Worker {{ {PROFILE} }} }} }}",
            {"ids": ids[start:start + BATCH]},
        )
        found += [profile_of(w, skills) for w in data["nodes"] if w]
    return found


def _prefix(code: str) -> str:
    if code.endswith("0000"):
        return code[:2]
    return code[:4] if code.endswith("00") else code


def place(worker: Profile, region: str) -> tuple[int, str | None]:
    if region == worker.home:
        return 25, "同一区县"
    if any(region.startswith(_prefix(r)) for r in worker.regions):
        return 25, "在意向地区"
    if region[:4] == worker.home[:4]:
        return 15, "同一地市"
    if region[:2] == worker.home[:2]:
        return 8, "同一省份"
    return (5, "愿意异地就业") if worker.willing else (0, None)


def _yuan(amount: Decimal) -> str:
    return str(amount.quantize(Decimal(1), ROUND_HALF_UP))


def pay(worker: Profile, low: str | None, high: str | None) -> tuple[int, str | None]:
    if worker.expected is None or low is None or high is None:
        return 0, None
    offered = f"{_yuan(Decimal(low))}–{_yuan(Decimal(high))}"
    said = f"期望月薪 {_yuan(worker.expected)}"
    if worker.expected <= Decimal(low):
        return 15, f"{said}，岗位 {offered}"
    if worker.expected <= Decimal(high):
        return 10, f"{said}，岗位 {offered}"
    return 0, f"{said}，高于岗位 {offered}"


def fit(worker: Profile, job: dict[str, Any]) -> tuple[float, list[str]]:
    occupation = job["occupation"]
    parts: list[tuple[int, str | None]] = []
    if occupation:
        code, name = occupation["code"], occupation["name"]
        parts += [
            (30, f"意向工种 {name}") if code in worker.occupations else (0, None),
            (15, f"具备 {name} 技能") if code in worker.skilled else (0, None),
            (15, f"已完成 {name} 培训") if code in worker.trained else (0, None),
        ]
    parts += [place(worker, job["region"]["code"]),
              pay(worker, job["monthlySalaryMin"], job["monthlySalaryMax"])]
    return float(sum(p for p, _ in parts)), [r for _, r in parts if r]


def related(worker: Profile) -> set[str]:
    return set(worker.occupations) | worker.skilled | worker.trained


def jobs_for(worker: Profile, jobs: list[dict[str, Any]], first: int) -> list[Any]:
    """(job id, score, reasons), best first, of the open jobs in `jobs`."""
    ranked = []
    for job in jobs:
        occupation = (job["occupation"] or {}).get("code")
        near = job["region"]["code"] == worker.home
        if job["id"] in worker.applied or not (occupation in related(worker) or near):
            continue
        score, reasons = fit(worker, job)
        posted = datetime.fromisoformat(job["postedAt"])
        ranked.append(((-score, -posted.timestamp(), -key_of(job["id"])),
                       (job["id"], score, reasons)))
    return [item for _, item in sorted(ranked)][:first]


def workers_for(job: dict[str, Any], workers: list[Profile], first: int) -> list[Any]:
    """(worker id, score, reasons), best first, of `workers` for `job`."""
    occupation = (job["occupation"] or {}).get("code")
    ranked = []
    for worker in workers:
        if worker.opted_out or job["id"] in worker.applied or occupation not in related(worker):
            continue
        score, reasons = fit(worker, job)
        ranked.append(((-score, key_of(worker.id)), (worker.id, score, reasons)))
    return [item for _, item in sorted(ranked)][:first]


def trainings_for(worker: Profile, trainings: list[dict[str, Any]], first: int) -> list[Any]:
    """(training id, score, reasons), best first, of the trainings that close a gap."""
    ranked = []
    for training in trainings:
        occupation = training["occupation"]
        if (
            not occupation or training["status"] != "SCHEDULED" or training["seatsLeft"] < 1
            or training["id"] in worker.enrolled
            or occupation["code"] not in worker.occupations
            or occupation["code"] in worker.skilled | worker.trained
        ):
            continue
        points, near = place(worker, training["region"]["code"])
        subsidy = 15 if training["subsidised"] else 0
        reasons = [f"意向工种 {occupation['name']}，尚无该工种技能或培训", near,
                   "补贴培训" if subsidy else None]
        score = float(50 + points + subsidy)
        ranked.append(((-score, training["startsOn"], key_of(training["id"])),
                       (training["id"], score, [r for r in reasons if r])))
    return [item for _, item in sorted(ranked)][:first]
