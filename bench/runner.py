"""The load loop: N concurrent clients call one operation for D seconds after a warm-up."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

Operation = Callable[[], Awaitable[int | None]]
"""One request; returns how many SQL statements it took (None: not known), raises when it
failed."""

PERCENTILES = (0.50, 0.95, 0.99)


@dataclass
class Tally:
    """What the clients recorded while the clock ran."""

    latencies: list[float] = field(default_factory=list)
    statements: int = 0
    statements_unknown: bool = False
    errors: int = 0
    first_error: str | None = None

    def failed(self, exc: BaseException) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{type(exc).__name__}: {exc}"[:500]


@dataclass(frozen=True)
class Measurement:
    requests: int
    errors: int
    seconds: float
    latencies_ms: dict[str, float]
    statements_per_request: float | None
    """None when the server does not say how many it sent."""
    cpu_ms_per_request: dict[str, float]
    first_error: str | None

    @property
    def requests_per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


CpuSample = dict[str, dict[int, float]]
"""CPU seconds so far of each process (by pid) of each named group."""

CpuSampler = Callable[[], Awaitable[CpuSample]]


def cpu_used(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds each group used between two samples; processes new since count in full."""
    return {
        name: sum(seconds - before.get(name, {}).get(pid, 0.0) for pid, seconds in pids.items())
        for name, pids in after.items()
    }


def process_cpu_seconds(pid: int) -> float:
    """CPU seconds of the process `pid`."""
    return _own_cpu_seconds(pid)


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of `pid` and every process under it (a server's `--workers N`)."""
    return _own_cpu_seconds(pid) + sum(map(tree_cpu_seconds, _children(pid)))


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def _own_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


async def measure(
    operation: Operation,
    *,
    concurrency: int,
    duration: float,
    warmup: float,
    cpu: CpuSampler,
    rate: float | None = None,
) -> Measurement:
    """Warm up for `warmup` seconds, then count what `concurrency` clients do in `duration`:
    each as fast as it can, or with `rate`, together at that many requests a second on a
    fixed schedule (latency counts from each request's scheduled start, so a stall delays
    and counts against every request queued behind it)."""
    if warmup > 0:
        await _drive(operation, concurrency, time.perf_counter() + warmup, Tally(), rate)
    tally = Tally()
    cpu_before = await cpu()
    started = time.perf_counter()
    await _drive(operation, concurrency, started + duration, tally, rate)
    seconds = time.perf_counter() - started
    cpu_used_seconds = cpu_used(cpu_before, await cpu())
    done = len(tally.latencies)
    ordered = sorted(tally.latencies)
    return Measurement(
        requests=done,
        errors=tally.errors,
        seconds=seconds,
        latencies_ms={f"p{round(q * 100)}": percentile(ordered, q) * 1000 for q in PERCENTILES},
        statements_per_request=(
            None if tally.statements_unknown else tally.statements / done if done else 0.0
        ),
        cpu_ms_per_request={
            name: seconds * 1000 / done if done else 0.0
            for name, seconds in cpu_used_seconds.items()
        },
        first_error=tally.first_error,
    )


async def _drive(
    operation: Operation,
    concurrency: int,
    deadline: float,
    tally: Tally,
    rate: float | None = None,
) -> None:
    began = time.perf_counter()
    slots = itertools.count()

    async def next_start() -> float:
        if rate is None:
            return time.perf_counter()
        scheduled = began + next(slots) / rate
        wait = scheduled - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        return scheduled

    async def client() -> None:
        while (start := await next_start()) < deadline:
            try:
                statements = await operation()
            except Exception as exc:
                tally.failed(exc)
                continue
            tally.latencies.append(time.perf_counter() - start)
            if statements is None:
                tally.statements_unknown = True
            else:
                tally.statements += statements

    async with asyncio.TaskGroup() as group:
        for _ in range(concurrency):
            group.create_task(client())


def percentile(ordered: list[float], q: float) -> float:
    """The q-quantile of sorted values, interpolated between the closest ranks."""
    if not ordered:
        return math.nan
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
