"""The read side's metrics (Prometheus; `server.metrics` serves them with the rest)."""

from __future__ import annotations

from prometheus_client import Histogram

BATCH_SIZES = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

DATALOADER_BATCH_SIZE = Histogram(
    "laborhub_dataloader_batch_size",
    "Keys in one DataLoader batch, by loader.",
    ["loader"],
    buckets=BATCH_SIZES,
)
