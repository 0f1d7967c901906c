"""The `tiny` seed's placements: one per hired application plus a few from outside, and the
database refuses placements that break its rules."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from tests.database import query


def test_every_hired_application_has_one_placement_of_its_worker_in_its_job(
    database_url: str,
) -> None:
    rows = query(
        database_url,
        """
        SELECT a.id, a.status, p.id IS NOT NULL, a.worker_id = p.worker_id,
               a.job_id = p.job_id, p.started_on > (a.submitted_at AT TIME ZONE 'UTC')::date
        FROM applications a
        FULL JOIN placements p ON p.application_id = a.id
        WHERE a.status = 'hired' OR p.application_id IS NOT NULL
        """,
    )
    assert rows, "the seed has no hired applications"
    assert all(row[1:] == ("hired", True, True, True, True) for row in rows), rows


def test_some_placements_come_from_outside_an_application(database_url: str) -> None:
    [(outside, total)] = query(
        database_url,
        "SELECT count(*) FILTER (WHERE application_id IS NULL), count(*) FROM placements",
    )
    assert 0 < outside < total


def test_placements_keep_their_dates_and_wages_in_bounds(database_url: str) -> None:
    [(total, ended, bad_period, bad_wage)] = query(
        database_url,
        """
        SELECT count(*),
               count(*) FILTER (WHERE p.ended_on IS NOT NULL),
               count(*) FILTER (WHERE p.ended_on < p.started_on OR p.created_at > now()),
               count(*) FILTER (WHERE CASE WHEN j.salary_unit = 'month'
                   THEN p.monthly_wage IS NULL
                        OR p.monthly_wage NOT BETWEEN j.salary_min AND j.salary_max
                   ELSE p.monthly_wage IS NOT NULL END)
        FROM placements p JOIN jobs j ON j.id = p.job_id
        """,
    )
    assert (bad_period, bad_wage) == (0, 0)
    assert 0 < ended < total  # about a third


@pytest.mark.parametrize("table", ["applications", "placements"])
def test_the_id_sequence_continues_after_the_seeded_ids(database_url: str, table: str) -> None:
    """The seed writes these ids itself, so it must move the sequence past them."""
    [(last, is_called, highest)] = query(
        database_url,
        f"SELECT last_value, is_called, (SELECT max(id) FROM {table}) FROM {table}_id_seq",
    )
    assert (last + 1 if is_called else last) > highest


# The columns after worker_id and job_id of a copy of a placement that has an application.
BROKEN = {
    "ck_placements_period": "NULL, DATE '2020-01-01', DATE '2019-12-31', NULL",
    "ck_placements_monthly_wage_non_negative": "NULL, DATE '2020-01-01', NULL, -1",
    "uq_placements_application_id": "application_id, started_on, ended_on, monthly_wage",
}


@pytest.mark.parametrize("constraint", BROKEN)
def test_the_database_refuses_a_placement_breaking_a_rule(
    database_url: str, constraint: str
) -> None:
    """An end before the start, a negative wage, a second placement from one application."""
    insert = f"""
        INSERT INTO placements
            (id, worker_id, job_id, application_id, started_on, ended_on, monthly_wage)
        SELECT (SELECT max(id) + 1 FROM placements), worker_id, job_id, {BROKEN[constraint]}
        FROM placements WHERE application_id IS NOT NULL ORDER BY id LIMIT 1
    """
    with pytest.raises(IntegrityError, match=constraint):
        query(database_url, insert)
