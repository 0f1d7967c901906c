"""The sizes of the data sets: how many rows of each table a scale generates."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    workers: int
    employers: int
    jobs: int
    applications: int
    trainings: int
    enrollments: int
    insurance_records: int


SCALES = {
    "tiny": Scale(150, 20, 80, 300, 8, 60, 1_500),
    "demo": Scale(2_000, 200, 3_000, 5_000, 100, 2_000, 50_000),
    "large": Scale(100_000, 10_000, 50_000, 200_000, 2_000, 50_000, 1_000_000),
}
