"""The results as a table on stdout and as a JSON file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.harness import Result, Sanity

COLUMNS = (
    ("workload", "<", 20),
    ("impl", "<", 17),
    ("req/s", ">", 8),
    ("p50 ms", ">", 8),
    ("p95 ms", ">", 8),
    ("p99 ms", ">", 8),
    ("SQL/req", ">", 7),
    ("errors", ">", 6),
    ("app CPU ms/req", ">", 14),
    ("pg CPU ms/req", ">", 13),
    ("client CPU ms/req", ">", 17),
    ("data", "<", 9),
)


def _cells(result: Result) -> tuple[str, ...]:
    m = result.measurement
    statements = m.statements_per_request
    client = m.cpu_ms_per_request.get("client")
    return (
        result.workload,
        result.implementation,
        f"{m.requests_per_second:.1f}",
        f"{m.latencies_ms['p50']:.2f}",
        f"{m.latencies_ms['p95']:.2f}",
        f"{m.latencies_ms['p99']:.2f}",
        "-" if statements is None else f"{statements:.2f}",
        str(m.errors),
        f"{m.cpu_ms_per_request.get('app', 0.0):.2f}",
        f"{m.cpu_ms_per_request.get('postgres', 0.0):.2f}",
        "-" if client is None else f"{client:.2f}",
        result.same_data,
    )


def _line(cells: Sequence[str]) -> str:
    return "  ".join(
        f"{cell:{align}{width}}" for cell, (_, align, width) in zip(cells, COLUMNS, strict=True)
    )


def table(results: Sequence[Result]) -> str:
    header = _line([name for name, _, _ in COLUMNS])
    lines = [header, "-" * len(header)]
    previous = None
    for result in results:
        if previous is not None and result.workload != previous:
            lines.append("")
        lines.append(_line(_cells(result)))
        previous = result.workload
    return "\n".join(lines)


def errors_seen(results: Sequence[Result]) -> list[str]:
    return [
        f"{r.workload}/{r.implementation}: {r.measurement.errors} errors, first: "
        f"{r.measurement.first_error}"
        for r in results
        if r.measurement.errors
    ]


def write_json(
    path: Path, run: dict[str, Any], sanity: Sequence[Sanity], results: Sequence[Result]
) -> None:
    document = {
        "run": run,
        "sanity": [
            {
                "workload": s.workload,
                "ok": s.ok,
                "variants": s.variants,
                "checked_variants": list(s.checked),
                "checks": [{**asdict(check), "ok": check.ok} for check in s.checks],
            }
            for s in sanity
        ],
        "results": [
            {
                "workload": r.workload,
                "implementation": r.implementation,
                "variants": r.variants,
                "same_data": r.same_data,
                "requests_per_second": round(r.measurement.requests_per_second, 2),
                **asdict(r.measurement),
            }
            for r in results
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
