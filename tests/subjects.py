"""Seeded rows a test acts on behalf of: a worker, an employer they applied to, their province."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.conftest import GraphQLClient


@dataclass(frozen=True)
class Subjects:
    worker: str  # an applicant with a current region
    employer: str  # the employer of one of their applications
    province: str  # the province of the worker's current region
    provinces: list[str]  # every province
    other_worker: str  # another such applicant
    other_employer: str  # the employer of one of theirs, not `employer`


async def find_subjects(gql: GraphQLClient) -> Subjects:
    """The first seeded worker (of 100) with an application and a current region."""
    data = await gql.ok(
        """{ workers(first: 100) { nodes { id currentRegion { code }
               applications(first: 1) { nodes { job { employer { id } } } } } }
             regions { code } }"""
    )
    applicants = [
        w for w in data["workers"]["nodes"] if w["applications"]["nodes"] and w["currentRegion"]
    ]
    worker = applicants[0]
    employer = employer_of(worker)
    other = next(w for w in applicants[1:] if employer_of(w) != employer)
    return Subjects(
        worker=worker["id"],
        employer=employer,
        province=worker["currentRegion"]["code"][:2] + "0000",
        provinces=[r["code"] for r in data["regions"]],
        other_worker=other["id"],
        other_employer=employer_of(other),
    )


def employer_of(applicant: dict[str, Any]) -> str:
    """The employer of an applicant's first application."""
    return str(applicant["applications"]["nodes"][0]["job"]["employer"]["id"])
