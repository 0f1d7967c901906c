"""training writes: versions of trainings and enrollments, cancellation, seats taken

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:30:00.000000
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


SEATS_FUNCTION = """
CREATE FUNCTION enrollments_seats_taken() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A completion leaves the seat taken: nothing to count, and the training's row untouched.
  IF TG_OP = 'UPDATE' AND OLD.training_id = NEW.training_id
     AND (OLD.status <> 'dropped') = (NEW.status <> 'dropped') THEN
    RETURN NULL;
  END IF;
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.status <> 'dropped' THEN
    UPDATE trainings SET seats_taken = seats_taken - 1 WHERE id = OLD.training_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status <> 'dropped' THEN
    UPDATE trainings SET seats_taken = seats_taken + 1 WHERE id = NEW.training_id;
  END IF;
  RETURN NULL;
END
$$
"""


MODES = "'order_based', 'targeted', 'project_based'"


def _modes(modes: str) -> None:
    op.drop_constraint(op.f('ck_trainings_trainingmode'), 'trainings', type_='check')
    op.create_check_constraint(
        op.f('ck_trainings_trainingmode'), 'trainings', f"mode IN ({modes})"
    )


def upgrade() -> None:
    _modes("'open', " + MODES)  # trainings open to every worker who signs up
    op.add_column('trainings', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.add_column('trainings', sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('enrollments', sa.Column('version', sa.Integer(), server_default='1', nullable=False))
    op.create_index('uq_enrollments_certificate_number', 'enrollments', ['certificate_number'], unique=True)
    # The enrollments of a training that were not dropped, counted on the training by
    # increments (safe under concurrent enrollments: the training's row lock orders them),
    # so an enrollment compares one column of the row it locks with the capacity.
    op.add_column('trainings', sa.Column('seats_taken', sa.Integer(), server_default='0', nullable=False))
    op.execute(
        "UPDATE trainings SET seats_taken = taken.n "
        "FROM (SELECT training_id, count(*) AS n FROM enrollments "
        "      WHERE status <> 'dropped' GROUP BY training_id) AS taken "
        "WHERE taken.training_id = trainings.id"
    )
    op.create_check_constraint(op.f('ck_trainings_seats_taken'), 'trainings', 'seats_taken >= 0')
    op.execute(SEATS_FUNCTION)
    op.execute(
        "CREATE TRIGGER enrollments_seats_taken AFTER INSERT OR DELETE OR UPDATE OF status, "
        "training_id ON enrollments FOR EACH ROW EXECUTE FUNCTION enrollments_seats_taken()"
    )


def downgrade() -> None:
    _modes(MODES)
    op.execute("DROP TRIGGER enrollments_seats_taken ON enrollments")
    op.execute("DROP FUNCTION enrollments_seats_taken()")
    op.drop_constraint(op.f('ck_trainings_seats_taken'), 'trainings', type_='check')
    op.drop_column('trainings', 'seats_taken')
    op.drop_index('uq_enrollments_certificate_number', table_name='enrollments')
    op.drop_column('enrollments', 'version')
    op.drop_column('trainings', 'cancelled_at')
    op.drop_column('trainings', 'version')
