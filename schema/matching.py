"""Matching: recommendations made in SQL under the viewer's row policies, with their reasons
(`resolvers.matching`); a worker may refuse them (`setRecommendationPreference`)."""

from __future__ import annotations

import strawberry

from resolvers.matching import RECOMMENDED_JOBS, RECOMMENDED_WORKERS, TRAINING_RECOMMENDATIONS
from schema.fields import ranked


@strawberry.type
class MatchingQuery:
    recommended_jobs = ranked(
        RECOMMENDED_JOBS,
        "Open jobs for a worker, best fit first: their intended occupations, skills and "
        "completed trainings, how near (county, prefecture, province, intended regions, "
        "willingness to relocate) and the pay against what they expect, each reason in words. "
        "For the worker, staff, partners and admins; read from what the viewer may read of "
        "the worker; audited unless the worker asks. OPTED_OUT when the worker refused.",
    )
    recommended_workers = ranked(
        RECOMMENDED_WORKERS,
        "Workers for a job, best fit first, among those the viewer may see who fit its "
        "occupation and have not applied; workers who refused recommendations are never "
        "ranked. For the job's employer, staff, partners and admins; audited.",
    )
    training_recommendations = ranked(
        TRAINING_RECOMMENDATIONS,
        "Trainings that close the gap between the occupations a worker intends and those "
        "they have skills or a completed training in, taking enrolments with a seat left, "
        "nearest first. For the worker, staff, partners and admins; audited unless the "
        "worker asks. OPTED_OUT when the worker refused.",
    )


__all__ = ["MatchingQuery"]
