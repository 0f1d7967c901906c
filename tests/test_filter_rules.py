"""Every field of every `<Type>Filter` input has a rule, so none is silently ignored."""

from __future__ import annotations

import dataclasses

import pytest

from resolvers.audit import AUDIT_EVENT_FILTER
from resolvers.employers import EMPLOYER_FILTER
from resolvers.filters import Rule
from resolvers.insurance import INSURANCE_RECORD_FILTER
from resolvers.jobs import JOB_FILTER
from resolvers.trainings import TRAINING_FILTER
from resolvers.workers import WORKER_FILTER
from schema.audit import AuditEventFilter
from schema.employers import EmployerFilter
from schema.insurance import InsuranceRecordFilter
from schema.jobs import JobFilter
from schema.trainings import TrainingFilter
from schema.workers import WorkerFilter


@pytest.mark.parametrize(
    ("filter_input", "rules"),
    [
        (WorkerFilter, WORKER_FILTER),
        (EmployerFilter, EMPLOYER_FILTER),
        (JobFilter, JOB_FILTER),
        (TrainingFilter, TRAINING_FILTER),
        (InsuranceRecordFilter, INSURANCE_RECORD_FILTER),
        (AuditEventFilter, AUDIT_EVENT_FILTER),
    ],
)
def test_every_filter_field_has_a_rule(filter_input: type, rules: dict[str, Rule]) -> None:
    fields = {f.name for f in dataclasses.fields(filter_input)}
    assert fields == set(rules)
