"""The Starlette application: /graphql, /healthz and /readyz around one engine and one vault."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypedDict

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.schema.base import BaseSchema

from db.migrate import current_revision, head_revision
from db.pii import PersonalDataVault
from db.replica import Replica, write_position
from db.session import create_engine, create_statement_pool
from resolvers.access import Viewer
from resolvers.database import Database
from schema import schema as laborhub_schema
from schema.context import build_context
from server.auth import Authenticator
from server.compiled_reads import compiled_read
from server.graphiql import graphiql_routes
from server.graphql_http import GraphQLEndpoint
from server.graphql_http.write_position import HEADER as WRITE_POSITION_HEADER
from server.graphql_http.write_position import request_route
from server.limits import default_document_checks
from server.live_events import EventListener, listening
from server.logging import configure_logging
from server.metrics import OperationMetrics, metrics_endpoint, sampling_pools
from server.persisted import SqlDocumentStore
from server.ratelimit import limiter_from_settings
from server.settings import Settings
from server.shared_limits import ConnectionSlots, SharedLimit, connection_slots, shared_limits
from server.subscriptions import LiveEndpoint
from server.telemetry import configure_tracing, trace_engine, trace_fields

READY_TIMEOUT_SECONDS = 3.0

ContextBuilder = Callable[[Database, Request | None, Viewer], Any]
"""The shape of `schema.context.build_context`."""

log = logging.getLogger("laborhub.app")


class AppState(TypedDict):
    """Lifespan state: every request sees it as `request.state.<name>`."""

    engine: AsyncEngine
    database: Database
    authenticator: Authenticator
    events: EventListener
    connection_slots: ConnectionSlots


def create_app(
    settings: Settings,
    database_url: str,
    *,
    schema: BaseSchema | None = None,
    context_builder: ContextBuilder | None = None,
) -> Starlette:
    """The app; `schema` and `context_builder` default to the real ones in `schema/`."""
    schema = schema or laborhub_schema
    build = context_builder or build_context
    rate_limiter = limiter_from_settings(settings.rate_limit_per_minute, settings.rate_limit_burst)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[AppState]:
        configure_logging(settings.log_level)
        tracer_provider = configure_tracing()
        trace_fields(schema)
        engine = create_engine(
            database_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            **settings.connection_options,
        )
        vault = PersonalDataVault(settings.master_key())
        direct_url = settings.direct_url(database_url)
        statements = None
        replica = None
        try:
            if settings.compiled_reads:
                statements = create_statement_pool(
                    database_url, size=settings.db_pool_size, **settings.connection_options
                )
            trace_engine(engine)
            if settings.database_read_url:
                replica = open_replica(settings, settings.database_read_url)
            authenticator = Authenticator(settings, engine, vault)
            database = Database(engine, vault, statements, replica)
            keep_out_of_collections()
            limits = [
                SharedLimit(name, limiter)
                for name, limiter in (
                    ("operations", rate_limiter), ("auth_failures", authenticator.failures)
                )
                if limiter is not None
            ]
            async with (
                sampling_pools(database),
                shared_limits(engine, limits, settings.rate_limit_sync_seconds),
                listening(direct_url) as events,
                connection_slots(direct_url, settings.max_connections_per_principal) as slots,
            ):
                yield {
                    "engine": engine, "database": database, "authenticator": authenticator,
                    "events": events, "connection_slots": slots,
                }
        finally:
            if replica is not None:
                await replica.close()
            if statements is not None:
                await statements.close()
            await engine.dispose()
            if tracer_provider is not None:
                tracer_provider.shutdown()  # sends the spans still queued

    async def context(request: Request) -> Any:
        """Who is asking (AuthenticationError: the endpoint answers 401), then the context."""
        state = request.state
        viewer = await state.authenticator.authenticate(request)
        return build(state.database.routed(request_route(request)), request, viewer)

    document_checks = default_document_checks(
        max_query_cost=settings.max_query_cost, production=settings.is_production
    )
    documents = SqlDocumentStore(settings=settings)
    graphql = GraphQLEndpoint(
        schema,
        context,
        graphiql=not settings.is_production,
        expose_sql_stats=settings.expose_sql_stats,
        explain_read_paths=settings.expose_sql_stats and not settings.is_production,
        max_body_bytes=settings.max_body_bytes,
        max_batch_size=settings.max_batch_size,
        compiled_reads=compiled_read if settings.compiled_reads else None,
        document_checks=document_checks,
        rate_limiter=rate_limiter,
        documents=documents,
        trusted_documents_only=settings.trusted_documents_only,
        hide_suggestions=settings.is_production,
        metrics=OperationMetrics() if settings.metrics else None,
    )
    live = LiveEndpoint(
        schema,
        build,
        graphql.preparer,
        document_checks=document_checks,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        max_connections_per_principal=settings.max_connections_per_principal,
        allowed_origins=settings.cors_origins,
        documents=documents,
        trusted_documents_only=settings.trusted_documents_only,
    )
    middleware = []
    if settings.cors_origins:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=list(settings.cors_origins),
                allow_methods=["GET", "POST"],
                allow_headers=[
                    "Accept", "Authorization", "Content-Type", "X-API-Key",
                    WRITE_POSITION_HEADER,
                ],
                expose_headers=[
                    "X-SQL-Statements", "X-Read-Path", "Retry-After", "WWW-Authenticate",
                    WRITE_POSITION_HEADER,
                ],
            )
        )
    return LaborhubApp(
        graphql_path="/graphql",
        graphql_app=wrapped_in(middleware, graphql),
        routes=[
            Route("/graphql", graphql, name="graphql"),
            WebSocketRoute("/graphql", live, name="graphql-live"),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            *([Route("/metrics", metrics_endpoint)] if settings.metrics else []),
            *([] if settings.is_production else graphiql_routes()),
        ],
        middleware=middleware,
        lifespan=lifespan,
    )


class LaborhubApp(Starlette):
    """Starlette, with one shortcut: a request to `graphql_path` goes straight to
    `graphql_app` (the GraphQL endpoint inside the app's own middleware). The endpoint answers
    every error itself, so Starlette's error and exception middlewares and its router have
    nothing to add there, and they cost as much as the rest of a one-row read's Python. Every
    other path, and the lifespan, go through Starlette (which routes `graphql_path` to the same
    endpoint when the shortcut does not apply, e.g. under a root path)."""

    def __init__(self, *, graphql_path: str, graphql_app: ASGIApp, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.graphql_path = graphql_path
        self.graphql_app = graphql_app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == self.graphql_path:
            scope["app"] = self
            await self.graphql_app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def wrapped_in(middleware: list[Middleware], app: ASGIApp) -> ASGIApp:
    """`app` inside `middleware`, the first outermost (as Starlette stacks it)."""
    for cls, args, kwargs in reversed(middleware):
        app = cls(app, *args, **kwargs)
    return app


def open_replica(settings: Settings, url: str) -> Replica:
    """The read replica's engine and statement pool, sized as the primary's, connecting
    with a shorter timeout: a replica that does not answer costs one read that long, then
    its breaker sends reads to the primary."""
    options = {
        **settings.connection_options,
        "connect_timeout_seconds": settings.replica_connect_timeout_seconds,
    }
    engine = create_engine(
        url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow, **options
    )
    trace_engine(engine)
    statements = None
    if settings.compiled_reads:
        statements = create_statement_pool(url, size=settings.db_pool_size, **options)
    return Replica(
        engine,
        statements,
        wait_seconds=settings.replica_wait_ms / 1000,
        retry_seconds=settings.replica_retry_seconds,
    )


def keep_out_of_collections() -> None:
    """Move everything made so far (the schema, the declarations, SQLAlchemy's metadata: some
    hundreds of thousands of objects that live as long as the process) out of the garbage
    collector's reach. A full collection otherwise walks them all, a pause of 100 ms or more
    that lands on whichever requests are running (the p99 at a steady load)."""
    gc.collect()
    gc.freeze()


async def healthz(_request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> JSONResponse:
    engine: AsyncEngine = request.state.engine
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            revision = await current_revision(engine)
    except Exception as exc:
        log.warning("Not ready: the database does not answer", exc_info=exc)
        return not_ready(f"database not reachable ({type(exc).__name__})")
    head = head_revision()
    if revision != head:
        return not_ready(f"migrations not at head: database at {revision}, code at {head}")
    ready: dict[str, Any] = {"status": "ready", "revision": revision}
    replica: Replica | None = request.state.database.replica
    if replica is not None:  # ready whatever its state: the primary answers every read then
        try:
            primary_position: int | None = await write_position(engine)
        except Exception:
            primary_position = None
        ready["replica"] = await replica.status(primary_position)
    return JSONResponse(ready)


def not_ready(reason: str) -> JSONResponse:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
