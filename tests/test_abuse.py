"""Limits cost less than what they protect: abusive documents are refused quickly, and while
clients send them the server keeps answering others.

The app runs under uvicorn on 127.0.0.1 (a free port, a background thread), with no rate limit:
the document limits alone must keep the event loop free. Every abusive document sent is new
(a comment makes its text unique), so no cache helps.
"""

from __future__ import annotations

import dataclasses
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from graphql import ValidationContext

from server.app import create_app
from server.settings import Settings
from tests.wrappers import calling_first

GRJ = "application/graphql-response+json"
FIELD = "jobs(first: 5) { nodes { id title postedAt employer { name } } } "
SHORT_FIELD = "jobs(first: 5) { nodes { description } } "
ABUSIVE = {
    # 300 copies of one field, no aliases: 19.5 KB, over the token limit
    "20 KB": ("{ " + FIELD * 300 + "}", "Document contains more than 5000 tokens"),
    # 300 copies within the token limit: what made validation quadratic
    "repeated": (
        "{ " + SHORT_FIELD * 300 + "}",
        "Field 'jobs' is selected 300 times at the same place, over the limit of 20",
    ),
    "200 KB": ("{ " + FIELD * 3000 + "}", "over the limit of 65536 (max characters)"),
}
# A probe may wait behind one document being refused (a few ms on a quiet machine, up to
# ~150 ms for "repeated" on a loaded one); the fault this guards against, validating abusive
# documents, kept probes waiting for seconds.
HEALTHZ_MEDIAN_SECONDS = 0.25
STARTUP_TIMEOUT_SECONDS = 30.0


@pytest.fixture(scope="module")
def base_url(settings: Settings, database_url: str) -> Iterator[str]:
    """The real app under uvicorn on 127.0.0.1, a free port, in a background thread."""
    app = create_app(dataclasses.replace(settings, rate_limit_per_minute=0), database_url)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, lifespan="on", access_log=False, log_config=None
    )
    server = uvicorn.Server(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="uvicorn-abuse", daemon=True
    )
    thread.start()
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not _healthy(url):
            assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
    except httpx.TransportError:
        return False


def unique(document: str) -> str:
    return f"# {uuid.uuid4()}\n{document}"


@pytest.mark.parametrize("name", list(ABUSIVE))
def test_abusive_documents_are_refused_before_validation_and_clearly(
    base_url: str, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused by a limit whose cost is bounded, before validation (the step abuse can make
    expensive) starts at all. Counting, not timing: the suite's machine may be busy."""
    validations = [0]

    def validating() -> None:
        validations[0] += 1

    monkeypatch.setattr(
        ValidationContext, "__init__", calling_first(validating, ValidationContext.__init__)
    )
    document, message = ABUSIVE[name]
    with httpx.Client(base_url=base_url, timeout=30) as client:
        response = client.post(
            "/graphql", json={"query": unique(document)}, headers={"accept": GRJ}
        )
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert message in error["message"]
    assert validations[0] == 0, f"{name}: validated before it was refused"


def test_healthz_stays_fast_while_four_clients_send_abusive_documents(base_url: str) -> None:
    stop = threading.Event()
    sent = [0]

    def attack(document: str) -> None:
        with httpx.Client(base_url=base_url, timeout=60) as client:
            while not stop.is_set():
                client.post("/graphql", json={"query": unique(document)})
                sent[0] += 1

    documents = [ABUSIVE[name][0] for name in ("20 KB", "repeated", "200 KB", "repeated")]
    attackers = [threading.Thread(target=attack, args=(d,), daemon=True) for d in documents]
    for attacker in attackers:
        attacker.start()
    try:
        time.sleep(0.5)  # under way
        probes = []
        with httpx.Client(base_url=base_url, timeout=60) as client:
            for _ in range(15):
                started = time.perf_counter()
                assert client.get("/healthz").status_code == 200
                probes.append(time.perf_counter() - started)
                time.sleep(0.05)
    finally:
        stop.set()
        for attacker in attackers:
            attacker.join(timeout=60)
    assert sent[0] >= 4, "the attack did not run"
    median = statistics.median(probes)
    assert median < HEALTHZ_MEDIAN_SECONDS, (
        f"/healthz took {median * 1000:.0f} ms (median of {len(probes)}) under attack"
    )
