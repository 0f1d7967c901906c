"""matching: a worker's refusal of recommendations, the occupations of each survey; enrolling
again in a training after dropping it

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 03:10:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


SURVEYS_ADDED = """
CREATE FUNCTION survey_occupations_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO survey_occupations (occupation_code, worker_id)
  SELECT o.code, s.worker_id FROM added AS s JOIN occupations AS o
    ON o.code = ANY (s.intended_occupation_codes)
  UNION
  SELECT k.occupation_code, s.worker_id FROM added AS s JOIN skills AS k
    ON k.code = ANY (s.skill_codes) AND k.occupation_code IS NOT NULL
  ON CONFLICT DO NOTHING;
  RETURN NULL;
END
$$
"""

SKILL_REASSIGNED = """
CREATE FUNCTION survey_skill_occupation_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.occupation_code IS NOT NULL THEN
    INSERT INTO survey_occupations (occupation_code, worker_id)
    SELECT NEW.occupation_code, s.worker_id FROM skill_surveys AS s
    WHERE NEW.code = ANY (s.skill_codes)
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$
"""


def upgrade() -> None:
    # PIPL art. 24: a worker may refuse automated recommendations; when they did, and since when.
    op.add_column('workers', sa.Column('recommendation_opt_out', sa.Boolean(), server_default='false', nullable=False))
    op.add_column('workers', sa.Column('recommendation_preference_at', sa.DateTime(timezone=True), nullable=True))
    # Which occupations each worker's surveys intend or name a skill of (any survey, not only
    # the latest: a superset), so that ranking workers for a job finds the surveyed ones
    # through an index; a survey's arrays can't be searched by a value a statement computes.
    # Kept by triggers (surveys are only ever added; a skill moved to another occupation adds
    # its surveys' workers under it); no foreign keys: rows of a deleted worker are skipped.
    op.create_table(
        'survey_occupations',
        sa.Column('occupation_code', sa.String(length=10), nullable=False),
        sa.Column('worker_id', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('occupation_code', 'worker_id', name=op.f('pk_survey_occupations')),
    )
    op.execute(SURVEYS_ADDED)
    op.execute(
        "CREATE TRIGGER survey_occupations_added AFTER INSERT ON skill_surveys "
        "REFERENCING NEW TABLE AS added FOR EACH STATEMENT "
        "EXECUTE FUNCTION survey_occupations_added()"
    )
    op.execute(SKILL_REASSIGNED)
    op.execute(
        "CREATE TRIGGER survey_skill_occupation_changed "
        "AFTER INSERT OR UPDATE OF occupation_code ON skills FOR EACH ROW "
        "EXECUTE FUNCTION survey_skill_occupation_changed()"
    )
    op.execute(
        "INSERT INTO survey_occupations (occupation_code, worker_id) "
        "SELECT o.code, s.worker_id FROM skill_surveys AS s JOIN occupations AS o "
        "ON o.code = ANY (s.intended_occupation_codes) "
        "UNION SELECT k.occupation_code, s.worker_id FROM skill_surveys AS s JOIN skills AS k "
        "ON k.code = ANY (s.skill_codes) AND k.occupation_code IS NOT NULL "
        "ON CONFLICT DO NOTHING"
    )
    # One enrollment of a worker in a training that is not dropped: a dropped one no longer
    # keeps the worker from enrolling again.
    op.drop_constraint(op.f('uq_enrollments_worker_id_training_id'), 'enrollments', type_='unique')
    op.create_index(
        'uq_enrollments_worker_id_training_id_active', 'enrollments', ['worker_id', 'training_id'],
        unique=True, postgresql_where=sa.text("status <> 'dropped'"),
    )


def downgrade() -> None:
    op.drop_index('uq_enrollments_worker_id_training_id_active', table_name='enrollments')
    # Enrollments made again after a drop would break the old key: keep the newest of each.
    op.execute(
        "DELETE FROM enrollments e USING enrollments newer "
        "WHERE e.worker_id = newer.worker_id AND e.training_id = newer.training_id "
        "AND e.id < newer.id"
    )
    op.create_unique_constraint(
        op.f('uq_enrollments_worker_id_training_id'), 'enrollments', ['worker_id', 'training_id']
    )
    op.execute("DROP TRIGGER survey_skill_occupation_changed ON skills")
    op.execute("DROP FUNCTION survey_skill_occupation_changed()")
    op.execute("DROP TRIGGER survey_occupations_added ON skill_surveys")
    op.execute("DROP FUNCTION survey_occupations_added()")
    op.drop_table('survey_occupations')
    op.drop_column('workers', 'recommendation_preference_at')
    op.drop_column('workers', 'recommendation_opt_out')
