"""Seeded rows a test acts on behalf of: a worker, an employer they applied to, their province."""

from __future__ import annotations

from dataclasses import dataclass

from tests.conftest import GraphQLClient


@dataclass(frozen=True)
class Subjects:
    worker: str  # an applicant with a current region
    employer: str  # the employer of one of their applications
    province: str  # the province of the worker's current region
    provinces: list[str]  # every province


async def find_subjects(gql: GraphQLClient) -> Subjects:
    """The first seeded worker (of 100) with an application and a current region."""
    data = await gql.ok(
        """{ workers(first: 100) { nodes { id currentRegion { code }
               applications(first: 1) { nodes { job { employer { id } } } } } }
             regions { code } }"""
    )
    worker = next(
        w for w in data["workers"]["nodes"] if w["applications"]["nodes"] and w["currentRegion"]
    )
    return Subjects(
        worker=worker["id"],
        employer=worker["applications"]["nodes"][0]["job"]["employer"]["id"],
        province=worker["currentRegion"]["code"][:2] + "0000",
        provinces=[r["code"] for r in data["regions"]],
    )
