"""postings and hiring: job reports, openings filled, versions of applications, platforms

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-03 09:00:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


OPEN_REPORTS_FUNCTION = """
CREATE FUNCTION job_reports_open_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status = 'open' THEN
    UPDATE jobs SET open_reports = open_reports - 1 WHERE id = OLD.job_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'open' THEN
    UPDATE jobs SET open_reports = open_reports + 1 WHERE id = NEW.job_id;
  END IF;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.add_column('employers', sa.Column('is_platform', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('applications', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('jobs', sa.Column('openings_filled', sa.Integer(), server_default='0', nullable=False))
    # The openings hires through the hub filled so far (never beyond the headcount).
    op.execute(
        "UPDATE jobs SET openings_filled = least(jobs.headcount, hired.n) "
        "FROM (SELECT job_id, count(*) AS n FROM placements "
        "      WHERE application_id IS NOT NULL GROUP BY job_id) AS hired "
        "WHERE hired.job_id = jobs.id"
    )
    op.create_check_constraint(
        op.f('ck_jobs_openings_filled'), 'jobs',
        'openings_filled >= 0 AND openings_filled <= headcount',
    )
    op.create_table('job_reports',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('reporter', sa.String(length=160), nullable=False),
    sa.Column('reason', sa.Enum('charges_fees', 'fake', 'discrimination', 'wrong_info', 'other', name='jobreportreason', native_enum=False, create_constraint=True, length=14), nullable=False),
    sa.Column('text', sa.String(length=2000), server_default='', nullable=False),
    sa.Column('status', sa.Enum('open', 'dismissed', 'taken_down', name='jobreportstatus', native_enum=False, create_constraint=True, length=10), server_default='open', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reviewed_by', sa.String(length=160), nullable=True),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_job_reports_job_id_jobs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_reports'))
    )
    op.create_index('ix_job_reports_created_at_id', 'job_reports', ['created_at', 'id'], unique=False)
    op.create_index('ix_job_reports_job_id_created_at_id', 'job_reports', ['job_id', 'created_at', 'id'], unique=False)
    op.create_index('ix_job_reports_reporter', 'job_reports', ['reporter'], unique=False)
    op.create_index('uq_job_reports_open_job_id_reporter', 'job_reports', ['job_id', 'reporter'], unique=True, postgresql_where=sa.text("status = 'open'"))
    # A job's open reports, counted on the job by increments (safe under concurrent reports:
    # the job's row lock orders them), so the public view tests a column.
    op.add_column('jobs', sa.Column('open_reports', sa.Integer(), server_default='0', nullable=False))
    op.create_check_constraint(op.f('ck_jobs_open_reports'), 'jobs', 'open_reports >= 0')
    op.execute(OPEN_REPORTS_FUNCTION)
    op.execute(
        "CREATE TRIGGER job_reports_open_count AFTER INSERT OR DELETE OR UPDATE OF status, job_id "
        "ON job_reports FOR EACH ROW EXECUTE FUNCTION job_reports_open_count()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER job_reports_open_count ON job_reports")
    op.execute("DROP FUNCTION job_reports_open_count()")
    op.drop_constraint(op.f('ck_jobs_open_reports'), 'jobs', type_='check')
    op.drop_column('jobs', 'open_reports')
    op.drop_index('uq_job_reports_open_job_id_reporter', table_name='job_reports', postgresql_where=sa.text("status = 'open'"))
    op.drop_index('ix_job_reports_reporter', table_name='job_reports')
    op.drop_index('ix_job_reports_job_id_created_at_id', table_name='job_reports')
    op.drop_index('ix_job_reports_created_at_id', table_name='job_reports')
    op.drop_table('job_reports')
    op.drop_constraint(op.f('ck_jobs_openings_filled'), 'jobs', type_='check')
    op.drop_column('jobs', 'openings_filled')
    op.drop_column('applications', 'version')
    op.drop_column('employers', 'is_platform')
