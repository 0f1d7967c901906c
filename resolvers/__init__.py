"""Resolvers: the domain declarations, the read gateway and the writes.

Importing the package imports every domain module, whose declarations fill the catalog, and
then seals it (`resolvers.catalog`): whatever part of the package a caller uses, the catalog
is complete and checked. The modules of writes declare theirs (`resolvers.writes.WRITES`).
"""

from resolvers import (
    application_writes,
    audit,
    employer_writes,
    employers,
    insurance,
    job_report_writes,
    job_reports,
    job_update_writes,
    job_writes,
    jobs,
    matching,
    matching_writes,
    reference,
    survey_writes,
    training_writes,
    trainings,
    worker_writes,
    workers,
)
from resolvers.catalog import CATALOG

DOMAINS = (reference, employers, jobs, job_reports, trainings, workers, insurance, audit)
WRITE_DOMAINS = (
    job_writes, job_update_writes, job_report_writes, application_writes, employer_writes,
    worker_writes, survey_writes, training_writes, matching_writes,
)
RANKING_DOMAINS = (matching,)
CATALOG.seal()
