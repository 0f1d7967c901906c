"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-29 06:39:58.728490
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

TRIGRAM_INDEXES_IF_AVAILABLE = """
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm') THEN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
    CREATE INDEX ix_jobs_title_trgm ON jobs USING gin (title gin_trgm_ops);
    CREATE INDEX ix_employers_name_trgm ON employers USING gin (name gin_trgm_ops);
    CREATE INDEX ix_workers_name_trgm ON workers USING gin (name gin_trgm_ops);
    CREATE INDEX ix_trainings_title_trgm ON trainings USING gin (title gin_trgm_ops);
  END IF;
END
$$;
"""


def upgrade() -> None:
    op.create_table('industries',
    sa.Column('code', sa.String(length=5, collation='C'), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('section', sa.String(length=1, collation='C'), nullable=False),
    sa.Column('parent_code', sa.String(length=5, collation='C'), nullable=True),
    sa.CheckConstraint("code ~ '^[A-T](\\d{2,4})?$'", name=op.f('ck_industries_code_format')),
    sa.ForeignKeyConstraint(['parent_code'], ['industries.code'], name=op.f('fk_industries_parent_code_industries')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_industries'))
    )
    op.create_index(op.f('ix_industries_parent_code'), 'industries', ['parent_code'], unique=False)
    op.create_index(op.f('ix_industries_section'), 'industries', ['section'], unique=False)
    op.create_table('occupation_groups',
    sa.Column('code', sa.SmallInteger(), autoincrement=False, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_occupation_groups'))
    )
    op.create_table('regions',
    sa.Column('code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('level', sa.Enum('province', 'prefecture', 'county', name='regionlevel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('parent_code', sa.String(length=6, collation='C'), nullable=True),
    sa.Column('valid_from', sa.Date(), nullable=True),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.CheckConstraint("code ~ '^\\d{6}$'", name=op.f('ck_regions_code_format')),
    sa.ForeignKeyConstraint(['parent_code'], ['regions.code'], name=op.f('fk_regions_parent_code_regions')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_regions'))
    )
    op.create_index(op.f('ix_regions_parent_code'), 'regions', ['parent_code'], unique=False)
    op.create_table('employers',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('credit_code', sa.String(length=18, collation='C'), nullable=False),
    sa.Column('industry_code', sa.String(length=5, collation='C'), nullable=False),
    sa.Column('region_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('size', sa.Enum('micro', 'small', 'medium', 'large', name='employersize', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['industry_code'], ['industries.code'], name=op.f('fk_employers_industry_code_industries')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_employers_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_employers')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_employers_credit_code'))
    )
    op.create_index('ix_employers_created_at_id', 'employers', ['created_at', 'id'], unique=False)
    op.create_index(op.f('ix_employers_industry_code'), 'employers', ['industry_code'], unique=False)
    op.create_index(op.f('ix_employers_name'), 'employers', ['name'], unique=False)
    op.create_index(op.f('ix_employers_region_code'), 'employers', ['region_code'], unique=False)
    op.create_table('occupations',
    sa.Column('code', sa.String(length=10, collation='C'), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('major_group', sa.SmallInteger(), nullable=False),
    sa.CheckConstraint("code ~ '^[1-8]-\\d{2}-\\d{2}-\\d{2}$'", name=op.f('ck_occupations_code_format')),
    sa.ForeignKeyConstraint(['major_group'], ['occupation_groups.code'], name=op.f('fk_occupations_major_group_occupation_groups')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_occupations'))
    )
    op.create_index(op.f('ix_occupations_major_group'), 'occupations', ['major_group'], unique=False)
    op.create_table('workers',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number_encrypted', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_hash', sa.LargeBinary(), nullable=False),
    sa.Column('id_number_masked', sa.String(length=18), nullable=False),
    sa.Column('gender', sa.Enum('male', 'female', name='gender', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('phone_encrypted', sa.LargeBinary(), nullable=True),
    sa.Column('phone_hash', sa.LargeBinary(), nullable=True),
    sa.Column('phone_masked', sa.String(length=16), nullable=True),
    sa.Column('hukou_region_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('current_region_code', sa.String(length=6, collation='C'), nullable=True),
    sa.Column('education_level', sa.Enum('none', 'primary', 'junior_secondary', 'senior_secondary', 'vocational', 'junior_college', 'bachelor', 'postgraduate', name='educationlevel', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('new_employment_form', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['current_region_code'], ['regions.code'], name=op.f('fk_workers_current_region_code_regions')),
    sa.ForeignKeyConstraint(['hukou_region_code'], ['regions.code'], name=op.f('fk_workers_hukou_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_workers')),
    sa.UniqueConstraint('id_number_hash', name=op.f('uq_workers_id_number_hash'))
    )
    op.create_index('ix_workers_created_at_id', 'workers', ['created_at', 'id'], unique=False)
    op.create_index(op.f('ix_workers_current_region_code'), 'workers', ['current_region_code'], unique=False)
    op.create_index(op.f('ix_workers_hukou_region_code'), 'workers', ['hukou_region_code'], unique=False)
    op.create_index(op.f('ix_workers_name'), 'workers', ['name'], unique=False)
    op.create_index(op.f('ix_workers_phone_hash'), 'workers', ['phone_hash'], unique=False)
    op.create_table('insurance_records',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('employer_id', sa.BigInteger(), nullable=True),
    sa.Column('insurance_type', sa.Enum('pension', 'medical', 'unemployment', 'work_injury', 'maternity', name='insurancetype', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('region_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('period', sa.Date(), nullable=False),
    sa.Column('contribution_base', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('employer_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('personal_amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('status', sa.Enum('paid', 'arrears', 'back_paid', name='contributionstatus', native_enum=False, create_constraint=True), nullable=False),
    sa.CheckConstraint('contribution_base >= 0 AND employer_amount >= 0 AND personal_amount >= 0', name=op.f('ck_insurance_records_amounts_non_negative')),
    sa.CheckConstraint('extract(day from period) = 1', name=op.f('ck_insurance_records_period_is_month')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_insurance_records_employer_id_employers')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_insurance_records_region_code_regions')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_insurance_records_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurance_records')),
    sa.UniqueConstraint('worker_id', 'insurance_type', 'region_code', 'period', name=op.f('uq_insurance_records_worker_id_insurance_type_region_code_period'))
    )
    op.create_index(op.f('ix_insurance_records_employer_id'), 'insurance_records', ['employer_id'], unique=False)
    op.create_index(op.f('ix_insurance_records_insurance_type'), 'insurance_records', ['insurance_type'], unique=False)
    op.create_index('ix_insurance_records_period_id', 'insurance_records', ['period', 'id'], unique=False)
    op.create_index(op.f('ix_insurance_records_region_code'), 'insurance_records', ['region_code'], unique=False)
    op.create_index(op.f('ix_insurance_records_status'), 'insurance_records', ['status'], unique=False)
    op.create_table('job_intentions',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('occupation_code', sa.String(length=10, collation='C'), nullable=True),
    sa.Column('region_code', sa.String(length=6, collation='C'), nullable=True),
    sa.Column('expected_salary', sa.Numeric(precision=12, scale=2), nullable=True),
    sa.ForeignKeyConstraint(['occupation_code'], ['occupations.code'], name=op.f('fk_job_intentions_occupation_code_occupations')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_job_intentions_region_code_regions')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_job_intentions_worker_id_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_intentions'))
    )
    op.create_index(op.f('ix_job_intentions_occupation_code'), 'job_intentions', ['occupation_code'], unique=False)
    op.create_index(op.f('ix_job_intentions_region_code'), 'job_intentions', ['region_code'], unique=False)
    op.create_index(op.f('ix_job_intentions_worker_id'), 'job_intentions', ['worker_id'], unique=False)
    op.create_table('jobs',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('employer_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('description', sa.Text(), server_default='', nullable=False),
    sa.Column('occupation_code', sa.String(length=10, collation='C'), nullable=True),
    sa.Column('industry_code', sa.String(length=5, collation='C'), nullable=True),
    sa.Column('region_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('salary_min', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('salary_max', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('salary_unit', sa.Enum('hour', 'day', 'month', 'piece', name='salaryunit', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('headcount', sa.Integer(), nullable=False),
    sa.Column('employment_type', sa.Enum('full_time', 'part_time', 'seasonal', 'gig', name='employmenttype', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('lodging', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('board', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'closed', 'expired', name='jobstatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_through', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_verified_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('headcount > 0', name=op.f('ck_jobs_headcount_positive')),
    sa.CheckConstraint('salary_min >= 0 AND salary_max >= salary_min', name=op.f('ck_jobs_salary_range')),
    sa.CheckConstraint('valid_through IS NULL OR valid_through > posted_at', name=op.f('ck_jobs_validity')),
    sa.ForeignKeyConstraint(['employer_id'], ['employers.id'], name=op.f('fk_jobs_employer_id_employers')),
    sa.ForeignKeyConstraint(['industry_code'], ['industries.code'], name=op.f('fk_jobs_industry_code_industries')),
    sa.ForeignKeyConstraint(['occupation_code'], ['occupations.code'], name=op.f('fk_jobs_occupation_code_occupations')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_jobs_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_jobs'))
    )
    op.create_index('ix_jobs_employer_id_posted_at', 'jobs', ['employer_id', 'posted_at', 'id'], unique=False)
    op.create_index(op.f('ix_jobs_industry_code'), 'jobs', ['industry_code'], unique=False)
    op.create_index(op.f('ix_jobs_occupation_code'), 'jobs', ['occupation_code'], unique=False)
    op.create_index('ix_jobs_posted_at_id', 'jobs', ['posted_at', 'id'], unique=False)
    op.create_index(op.f('ix_jobs_region_code'), 'jobs', ['region_code'], unique=False)
    op.create_index('ix_jobs_salary_max_id', 'jobs', ['salary_max', 'id'], unique=False)
    op.create_index(op.f('ix_jobs_status'), 'jobs', ['status'], unique=False)
    op.create_table('skills',
    sa.Column('code', sa.String(length=32, collation='C'), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('occupation_code', sa.String(length=10, collation='C'), nullable=True),
    sa.ForeignKeyConstraint(['occupation_code'], ['occupations.code'], name=op.f('fk_skills_occupation_code_occupations')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_skills'))
    )
    op.create_index(op.f('ix_skills_occupation_code'), 'skills', ['occupation_code'], unique=False)
    op.create_table('trainings',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.Enum('employment_skills', 'job_skills_improvement', 'entrepreneurship', name='trainingkind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('mode', sa.Enum('order_based', 'targeted', 'project_based', name='trainingmode', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('provider', sa.String(length=128), nullable=False),
    sa.Column('partner_employer_id', sa.BigInteger(), nullable=True),
    sa.Column('occupation_code', sa.String(length=10, collation='C'), nullable=True),
    sa.Column('region_code', sa.String(length=6, collation='C'), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('subsidised', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_trainings_capacity_positive')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_trainings_period')),
    sa.ForeignKeyConstraint(['occupation_code'], ['occupations.code'], name=op.f('fk_trainings_occupation_code_occupations')),
    sa.ForeignKeyConstraint(['partner_employer_id'], ['employers.id'], name=op.f('fk_trainings_partner_employer_id_employers')),
    sa.ForeignKeyConstraint(['region_code'], ['regions.code'], name=op.f('fk_trainings_region_code_regions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trainings'))
    )
    op.create_index(op.f('ix_trainings_kind'), 'trainings', ['kind'], unique=False)
    op.create_index(op.f('ix_trainings_mode'), 'trainings', ['mode'], unique=False)
    op.create_index(op.f('ix_trainings_occupation_code'), 'trainings', ['occupation_code'], unique=False)
    op.create_index(op.f('ix_trainings_partner_employer_id'), 'trainings', ['partner_employer_id'], unique=False)
    op.create_index(op.f('ix_trainings_region_code'), 'trainings', ['region_code'], unique=False)
    op.create_index('ix_trainings_starts_on_id', 'trainings', ['starts_on', 'id'], unique=False)
    op.create_table('applications',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('job_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('submitted', 'shortlisted', 'rejected', 'hired', 'withdrawn', name='applicationstatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_applications_job_id_jobs')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_applications_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_applications')),
    sa.UniqueConstraint('worker_id', 'job_id', name=op.f('uq_applications_worker_id_job_id'))
    )
    op.create_index('ix_applications_job_id_submitted_at', 'applications', ['job_id', 'submitted_at', 'id'], unique=False)
    op.create_index(op.f('ix_applications_status'), 'applications', ['status'], unique=False)
    op.create_table('enrollments',
    sa.Column('id', sa.BigInteger(), autoincrement=True, nullable=False),
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('training_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('enrolled', 'completed', 'dropped', name='enrollmentstatus', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('certificate_number', sa.String(length=64), nullable=True),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['training_id'], ['trainings.id'], name=op.f('fk_enrollments_training_id_trainings')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_enrollments_worker_id_workers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollments')),
    sa.UniqueConstraint('worker_id', 'training_id', name=op.f('uq_enrollments_worker_id_training_id'))
    )
    op.create_index(op.f('ix_enrollments_status'), 'enrollments', ['status'], unique=False)
    op.create_index('ix_enrollments_training_id_enrolled_at', 'enrollments', ['training_id', 'enrolled_at', 'id'], unique=False)
    op.create_table('worker_skills',
    sa.Column('worker_id', sa.BigInteger(), nullable=False),
    sa.Column('skill_code', sa.String(length=32, collation='C'), nullable=False),
    sa.Column('level', sa.SmallInteger(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['skill_code'], ['skills.code'], name=op.f('fk_worker_skills_skill_code_skills')),
    sa.ForeignKeyConstraint(['worker_id'], ['workers.id'], name=op.f('fk_worker_skills_worker_id_workers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('worker_id', 'skill_code', name=op.f('pk_worker_skills'))
    )
    op.create_index(op.f('ix_worker_skills_skill_code'), 'worker_skills', ['skill_code'], unique=False)
    # Substring search (`keyword` filters): trigram indexes where the server ships pg_trgm
    # (Debian's PostgreSQL does; the embedded one does not and falls back to scans).
    op.execute(TRIGRAM_INDEXES_IF_AVAILABLE)


def downgrade() -> None:
    op.drop_index(op.f('ix_worker_skills_skill_code'), table_name='worker_skills')
    op.drop_table('worker_skills')
    op.drop_index('ix_enrollments_training_id_enrolled_at', table_name='enrollments')
    op.drop_index(op.f('ix_enrollments_status'), table_name='enrollments')
    op.drop_table('enrollments')
    op.drop_index(op.f('ix_applications_status'), table_name='applications')
    op.drop_index('ix_applications_job_id_submitted_at', table_name='applications')
    op.drop_table('applications')
    op.drop_index('ix_trainings_starts_on_id', table_name='trainings')
    op.drop_index(op.f('ix_trainings_region_code'), table_name='trainings')
    op.drop_index(op.f('ix_trainings_partner_employer_id'), table_name='trainings')
    op.drop_index(op.f('ix_trainings_occupation_code'), table_name='trainings')
    op.drop_index(op.f('ix_trainings_mode'), table_name='trainings')
    op.drop_index(op.f('ix_trainings_kind'), table_name='trainings')
    op.drop_table('trainings')
    op.drop_index(op.f('ix_skills_occupation_code'), table_name='skills')
    op.drop_table('skills')
    op.drop_index(op.f('ix_jobs_status'), table_name='jobs')
    op.drop_index('ix_jobs_salary_max_id', table_name='jobs')
    op.drop_index(op.f('ix_jobs_region_code'), table_name='jobs')
    op.drop_index('ix_jobs_posted_at_id', table_name='jobs')
    op.drop_index(op.f('ix_jobs_occupation_code'), table_name='jobs')
    op.drop_index(op.f('ix_jobs_industry_code'), table_name='jobs')
    op.drop_index('ix_jobs_employer_id_posted_at', table_name='jobs')
    op.drop_table('jobs')
    op.drop_index(op.f('ix_job_intentions_worker_id'), table_name='job_intentions')
    op.drop_index(op.f('ix_job_intentions_region_code'), table_name='job_intentions')
    op.drop_index(op.f('ix_job_intentions_occupation_code'), table_name='job_intentions')
    op.drop_table('job_intentions')
    op.drop_index(op.f('ix_insurance_records_status'), table_name='insurance_records')
    op.drop_index(op.f('ix_insurance_records_region_code'), table_name='insurance_records')
    op.drop_index('ix_insurance_records_period_id', table_name='insurance_records')
    op.drop_index(op.f('ix_insurance_records_insurance_type'), table_name='insurance_records')
    op.drop_index(op.f('ix_insurance_records_employer_id'), table_name='insurance_records')
    op.drop_table('insurance_records')
    op.drop_index(op.f('ix_workers_phone_hash'), table_name='workers')
    op.drop_index(op.f('ix_workers_name'), table_name='workers')
    op.drop_index(op.f('ix_workers_hukou_region_code'), table_name='workers')
    op.drop_index(op.f('ix_workers_current_region_code'), table_name='workers')
    op.drop_index('ix_workers_created_at_id', table_name='workers')
    op.drop_table('workers')
    op.drop_index(op.f('ix_occupations_major_group'), table_name='occupations')
    op.drop_table('occupations')
    op.drop_index(op.f('ix_employers_region_code'), table_name='employers')
    op.drop_index(op.f('ix_employers_name'), table_name='employers')
    op.drop_index(op.f('ix_employers_industry_code'), table_name='employers')
    op.drop_index('ix_employers_created_at_id', table_name='employers')
    op.drop_table('employers')
    op.drop_index(op.f('ix_regions_parent_code'), table_name='regions')
    op.drop_table('regions')
    op.drop_table('occupation_groups')
    op.drop_index(op.f('ix_industries_section'), table_name='industries')
    op.drop_index(op.f('ix_industries_parent_code'), table_name='industries')
    op.drop_table('industries')
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
