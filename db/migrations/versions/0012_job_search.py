"""job search: keyword text and its grams, monthly salary figures

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 00:30:00.000000

`keyword` finds jobs by any part of their title, description, employer's name or occupation's
name. Most Chinese search terms are two characters (普工, 电工, 保姆), which a trigram index
cannot serve; so each job keeps `search_text` (those four, lowercased) and `search_grams`
(every one- and two-character piece of it) under a GIN index. A term of one character looks
its gram up; a longer one looks up all its two-character pieces, and `strpos` on the text
keeps the rows where the pieces stand together in order. Triggers keep the text current when
the job, its employer's name or its occupation's name changes.

`monthly_salary_min/max` state every job's pay per month (a day is 21.75 days' pay a month, an
hour 174 hours', as Chinese labour rules count them); piece-rate pay has none (NULL).
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


TEXT_GRAMS = """
CREATE FUNCTION text_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(DISTINCT gram), '{}') FROM (
    SELECT substr(t, i, 1) AS gram FROM generate_series(1, char_length(t)) AS i
    UNION ALL
    SELECT substr(t, i, 2) FROM generate_series(1, char_length(t) - 1) AS i
  ) AS grams
$$
"""

# The grams a term's rows must all hold: the term itself when it is one character, else
# its two-character pieces.
TERM_GRAMS = """
CREATE FUNCTION term_grams(t text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT CASE WHEN char_length(t) < 2 THEN ARRAY[t] ELSE (
    SELECT array_agg(DISTINCT substr(t, i, 2)) FROM generate_series(1, char_length(t) - 1) AS i
  ) END
$$
"""

JOB_SEARCH_TEXT = """
CREATE FUNCTION job_search_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.search_text := lower(concat_ws(' ', NEW.title, NEW.description,
    (SELECT name FROM employers WHERE id = NEW.employer_id),
    (SELECT name FROM occupations WHERE code = NEW.occupation_code)));
  NEW.search_grams := text_grams(NEW.search_text);
  RETURN NEW;
END
$$
"""

# A renamed employer or occupation rewrites its jobs' text (through the trigger above).
RENAMED = """
CREATE FUNCTION renamed_jobs_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'employers' THEN
    UPDATE jobs SET title = title WHERE employer_id = NEW.id;
  ELSE
    UPDATE jobs SET title = title WHERE occupation_code = NEW.code;
  END IF;
  RETURN NULL;
END
$$
"""


def monthly(bound: str) -> str:
    return (
        f"CASE salary_unit WHEN 'month' THEN {bound} WHEN 'day' THEN round({bound} * 21.75, 2) "
        f"WHEN 'hour' THEN {bound} * 174 END"
    )


def upgrade() -> None:
    op.add_column('jobs', sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    op.add_column('jobs', sa.Column(
        'search_grams', postgresql.ARRAY(sa.Text()), server_default='{}', nullable=False
    ))
    for bound in ('min', 'max'):
        op.add_column('jobs', sa.Column(
            f'monthly_salary_{bound}', sa.Numeric(),
            sa.Computed(monthly(f'salary_{bound}'), persisted=True), nullable=True,
        ))
    op.execute(TEXT_GRAMS)
    op.execute(TERM_GRAMS)
    op.execute(JOB_SEARCH_TEXT)
    op.execute(RENAMED)
    op.execute(
        "CREATE TRIGGER job_search_text BEFORE INSERT OR UPDATE OF title, description, "
        "employer_id, occupation_code ON jobs FOR EACH ROW EXECUTE FUNCTION job_search_text()"
    )
    for table in ('employers', 'occupations'):
        op.execute(
            f"CREATE TRIGGER renamed_jobs_text AFTER UPDATE OF name ON {table} FOR EACH ROW "
            "WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION renamed_jobs_text()"
        )
    op.execute("UPDATE jobs SET title = title")
    # The title's trigram index served the old title-only keyword; nothing reads it now.
    op.execute("DROP INDEX IF EXISTS ix_jobs_title_trgm")
    # Most jobs are published: the status index only led the planner to read all of them
    # into a bitmap and AND it with the selective ones (6 ms of a 7 ms county search).
    op.drop_index('ix_jobs_status', table_name='jobs')
    op.create_index(
        'ix_jobs_search_grams', 'jobs', ['search_grams'], unique=False, postgresql_using='gin'
    )
    op.create_index(
        'ix_jobs_monthly_salary_max_id', 'jobs', ['monthly_salary_max', 'id'], unique=False
    )
    op.create_index(
        'ix_jobs_monthly_salary_min', 'jobs', ['monthly_salary_min'], unique=False
    )


def downgrade() -> None:
    op.create_index('ix_jobs_status', 'jobs', ['status'], unique=False)
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN "
        "CREATE INDEX ix_jobs_title_trgm ON jobs USING gin (title gin_trgm_ops); END IF; END $$"
    )
    op.drop_index('ix_jobs_monthly_salary_min', table_name='jobs')
    op.drop_index('ix_jobs_monthly_salary_max_id', table_name='jobs')
    op.drop_index('ix_jobs_search_grams', table_name='jobs')
    op.execute("DROP TRIGGER renamed_jobs_text ON occupations")
    op.execute("DROP TRIGGER renamed_jobs_text ON employers")
    op.execute("DROP TRIGGER job_search_text ON jobs")
    for function in (
        'renamed_jobs_text()', 'job_search_text()',
        'term_grams(text)', 'text_grams(text)',
    ):
        op.execute(f"DROP FUNCTION {function}")
    for column in ('monthly_salary_max', 'monthly_salary_min', 'search_grams', 'search_text'):
        op.drop_column('jobs', column)
