"""The root Query: object identification, the five core lists, reference data."""

from __future__ import annotations

import asyncio

import strawberry

from resolvers.audit import AUDIT_EVENTS, audit_event_conditions
from resolvers.employers import EMPLOYERS, employer_conditions
from resolvers.errors import BadArgument
from resolvers.global_ids import decode_global_id
from resolvers.insurance import RECORDS, insurance_record_conditions
from resolvers.jobs import JOBS, job_conditions
from resolvers.nodes import NODE_TABLES, parse_key
from resolvers.reference import (
    all_skills,
    division_code,
    industries_of,
    occupations_of,
    regions_under,
)
from resolvers.trainings import TRAININGS, training_conditions
from resolvers.workers import WORKERS, worker_conditions
from schema.audit import AuditEventFilter, AuditEventOrder
from schema.connections import Connection, PageArgs, listed
from schema.context import Info
from schema.employers import Employer, EmployerFilter, EmployerOrder
from schema.insurance import InsuranceRecord, InsuranceRecordFilter, InsuranceRecordOrder
from schema.jobs import Application, Job, JobFilter, JobOrder
from schema.node import Node, graphql_name, load_node
from schema.privacy import AuditEvent, Consent
from schema.reference import Industry, Occupation, Region, Skill
from schema.trainings import Enrollment, Training, TrainingFilter, TrainingOrder
from schema.workers import JobIntention, Worker, WorkerFilter, WorkerOrder

NODE_TYPES: dict[str, type[Node]] = {
    graphql_name(cls): cls
    for cls in (
        Application, AuditEvent, Consent, Employer, Enrollment, Industry, InsuranceRecord,
        Job, JobIntention, Occupation, Region, Skill, Training, Worker,
    )
}
assert set(NODE_TYPES) == set(NODE_TABLES), "every node type needs its table and back"

MAX_NODES = 100


async def resolve_node(info: Info, global_id: str, argument: str) -> Node | None:
    """The object `global_id` names; None for a type the API doesn't have or a missing row.
    A key the type can't have (`Worker:0577`, `Region:abc`) is a BadArgument."""
    type_name, text = decode_global_id(global_id, argument)
    node_type = NODE_TYPES.get(type_name)
    if node_type is None:
        return None
    key = parse_key(type_name, text)
    if key is None:
        raise BadArgument(argument, f"not an ID of type {type_name} (its key is malformed)")
    return await load_node(info, node_type, key)


@strawberry.type
class Query:
    @strawberry.field(description="Any object by its global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info, id, "id")

    @strawberry.field(description="Objects by global ID, in the same order; null where none.")
    async def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        if len(ids) > MAX_NODES:
            raise BadArgument("ids", f"at most {MAX_NODES} IDs at once, got {len(ids)}")
        return list(
            await asyncio.gather(
                *(resolve_node(info, value, f"ids[{i}]") for i, value in enumerate(ids))
            )
        )

    @strawberry.field(description="Workers, newest registration first by default.")
    async def workers(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: WorkerFilter | None = None, order_by: WorkerOrder | None = None,
    ) -> Connection[Worker]:
        order = order_by or WorkerOrder()
        where = await worker_conditions(info.context.loaders, filter)
        return await listed(info, Worker, WORKERS, where, (order.field, order.direction),
                            PageArgs(first, after, last, before))

    @strawberry.field(description="Employers, newest registration first by default.")
    async def employers(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: EmployerFilter | None = None, order_by: EmployerOrder | None = None,
    ) -> Connection[Employer]:
        order = order_by or EmployerOrder()
        where = await employer_conditions(info.context.loaders, filter)
        return await listed(info, Employer, EMPLOYERS, where, (order.field, order.direction),
                            PageArgs(first, after, last, before))

    @strawberry.field(description="Job postings, most recently posted first by default.")
    async def jobs(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: JobFilter | None = None, order_by: JobOrder | None = None,
    ) -> Connection[Job]:
        order = order_by or JobOrder()
        where = await job_conditions(info.context.loaders, filter)
        return await listed(info, Job, JOBS, where, (order.field, order.direction),
                            PageArgs(first, after, last, before))

    @strawberry.field(description="Trainings, latest start first by default.")
    async def trainings(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: TrainingFilter | None = None, order_by: TrainingOrder | None = None,
    ) -> Connection[Training]:
        order = order_by or TrainingOrder()
        where = await training_conditions(info.context.loaders, filter)
        return await listed(info, Training, TRAININGS, where, (order.field, order.direction),
                            PageArgs(first, after, last, before))

    @strawberry.field(description="Social-insurance contributions, latest month first.")
    async def insurance_records(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: InsuranceRecordFilter | None = None,
        order_by: InsuranceRecordOrder | None = None,
    ) -> Connection[InsuranceRecord]:
        order = order_by or InsuranceRecordOrder()
        where = await insurance_record_conditions(info.context.loaders, filter)
        return await listed(info, InsuranceRecord, RECORDS, where,
                            (order.field, order.direction), PageArgs(first, after, last, before))

    @strawberry.field(description="Audited reads of personal data, newest first (admins).")
    async def audit_events(
        self, info: Info, first: int | None = None, after: str | None = None,
        last: int | None = None, before: str | None = None,
        filter: AuditEventFilter | None = None, order_by: AuditEventOrder | None = None,
    ) -> Connection[AuditEvent]:
        order = order_by or AuditEventOrder()
        where = await audit_event_conditions(info.context.loaders, filter)
        return await listed(info, AuditEvent, AUDIT_EVENTS, where, (order.field, order.direction),
                            PageArgs(first, after, last, before))

    @strawberry.field(description="Divisions under `parentCode`; provinces when it is null.")
    async def regions(self, info: Info, parent_code: str | None = None) -> list[Region]:
        rows = await regions_under(info.context.loaders, parent_code)
        return [Region.from_row(row) for row in rows]

    @strawberry.field(description="One division by its code; null when there is none.")
    async def region(self, info: Info, code: str) -> Region | None:
        return await load_node(info, Region, division_code(code, "code"))

    @strawberry.field(description="Occupations, optionally of one major group (1–8).")
    async def occupations(self, info: Info, major_group: int | None = None) -> list[Occupation]:
        rows = await occupations_of(info.context.loaders, major_group)
        return [Occupation.from_row(row) for row in rows]

    @strawberry.field(description="Industry sections A–T, or the divisions of `section`.")
    async def industries(self, info: Info, section: str | None = None) -> list[Industry]:
        rows = await industries_of(info.context.loaders, section)
        return [Industry.from_row(row) for row in rows]

    @strawberry.field(description="The skills vocabulary.")
    async def skills(self, info: Info) -> list[Skill]:
        return [Skill.from_row(row) for row in await all_skills(info.context.loaders)]
