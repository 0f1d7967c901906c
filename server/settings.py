"""All settings, read from the environment in this one place."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(RuntimeError):
    """A setting is present but unusable."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _optional_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip() else None


@dataclass(frozen=True)
class Settings:
    """What the process needs to know; built once by `Settings.from_env()`."""

    env: str = "development"
    home: Path = Path(".laborhub")
    database_url: str | None = None
    secret_key: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    # Waiting for a pooled connection, and connecting: each fails after this long.
    db_pool_timeout_seconds: float = 5.0
    db_connect_timeout_seconds: float = 5.0
    # DATABASE_URL is a PgBouncer in transaction mode: no named prepared statements, no
    # startup parameters (statement_timeout then comes from the role; see the README).
    db_pgbouncer: bool = False
    # DATABASE_DIRECT_URL: PostgreSQL itself, for what a pooler in transaction mode can't
    # carry: the live events' LISTEN and the session locks that cap WebSocket connections per
    # principal. Needed with db_pgbouncer; otherwise DATABASE_URL serves.
    database_direct_url: str | None = None
    # DATABASE_READ_URL: a streaming replica that answers queries (db.replica). A client that
    # sends back the write position of its last mutation waits at most replica_wait_ms for the
    # replica to replay it, else reads from the primary; a replica that can't be reached
    # (connecting gives up after replica_connect_timeout_seconds) is skipped for
    # replica_retry_seconds.
    database_read_url: str | None = None
    replica_wait_ms: int = 500
    replica_retry_seconds: float = 5.0
    replica_connect_timeout_seconds: float = 1.0
    statement_timeout_ms: int = 10_000
    # On SIGTERM: how long in-flight requests may take to finish before they are cut.
    shutdown_grace_seconds: float = 30.0
    expose_sql_stats: bool = True
    # Reads compiled into one SQL statement per root field where they can be (resolvers.compiler).
    compiled_reads: bool = True
    log_level: str = "INFO"
    # Prometheus metrics at /metrics (server.metrics).
    metrics: bool = True
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    # Who is asking: a JWT of the identity provider (one of the three), or a partner API key.
    jwt_secret: str | None = None  # HS256
    jwt_public_key: str | None = None  # RS256/ES256: PEM text, or a path to a PEM file
    jwt_jwks_file: str | None = None  # RS256/ES256: a JWKS file (keys chosen by `kid`)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_leeway_seconds: int = 30
    # Abuse limits.
    rate_limit_per_minute: int = 600  # per principal (token bucket)
    rate_limit_burst: int = 60
    # How often each process syncs its buckets with the others' (server.shared_limits); 0:
    # each process limits alone.
    rate_limit_sync_seconds: float = 1.0
    max_query_cost: int = 20_000
    max_batch_size: int = 10
    max_body_bytes: int = 1_048_576
    # Subscriptions over WebSocket (server.subscriptions): operations one connection may run
    # at once, and connections one principal may hold open.
    max_subscriptions_per_connection: int = 20
    max_connections_per_principal: int = 10
    trusted_documents_only: bool = False
    # Failed credentials (bad tokens or API keys) per client address: after this many within
    # the window, 429 before the credential is even checked; 0 turns it off.
    auth_failure_limit: int = 100
    auth_failure_window_seconds: float = 60.0
    # Persisted queries (APQ): the largest document stored (bigger ones still run), what each
    # principal may store, and the in-process cache of stored documents.
    apq_max_document_bytes: int = 65_536
    apq_quota_documents: int = 200
    apq_quota_bytes: int = 1_048_576
    # Per anonymous client address; None: nothing in production, else 50 documents / 256 KiB.
    apq_anonymous_quota_documents: int | None = None
    apq_anonymous_quota_bytes: int | None = None
    persisted_cache_bytes: int = 8_388_608

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        mode = env.get("LABORHUB_ENV", "development")
        return cls(
            env=mode,
            home=Path(env.get("LABORHUB_HOME", ".laborhub")),
            database_url=env.get("DATABASE_URL") or None,
            secret_key=env.get("LABORHUB_SECRET_KEY") or None,
            db_pool_size=int(env.get("LABORHUB_DB_POOL_SIZE", "10")),
            db_max_overflow=int(env.get("LABORHUB_DB_MAX_OVERFLOW", "10")),
            db_pool_timeout_seconds=float(env.get("LABORHUB_DB_POOL_TIMEOUT_SECONDS", "5")),
            db_connect_timeout_seconds=float(
                env.get("LABORHUB_DB_CONNECT_TIMEOUT_SECONDS", "5")
            ),
            db_pgbouncer=_bool(env.get("LABORHUB_DB_PGBOUNCER", "0")),
            database_direct_url=env.get("DATABASE_DIRECT_URL") or None,
            database_read_url=env.get("DATABASE_READ_URL") or None,
            replica_wait_ms=int(env.get("LABORHUB_REPLICA_WAIT_MS", "500")),
            replica_retry_seconds=float(env.get("LABORHUB_REPLICA_RETRY_SECONDS", "5")),
            replica_connect_timeout_seconds=float(
                env.get("LABORHUB_REPLICA_CONNECT_TIMEOUT_SECONDS", "1")
            ),
            statement_timeout_ms=int(env.get("LABORHUB_STATEMENT_TIMEOUT_MS", "10000")),
            shutdown_grace_seconds=float(env.get("LABORHUB_SHUTDOWN_GRACE_SECONDS", "30")),
            expose_sql_stats=_bool(
                env.get("LABORHUB_EXPOSE_SQL_STATS", "0" if mode == "production" else "1")
            ),
            compiled_reads=_bool(env.get("LABORHUB_COMPILED_READS", "1")),
            log_level=env.get("LABORHUB_LOG_LEVEL", "INFO"),
            metrics=_bool(env.get("LABORHUB_METRICS", "1")),
            cors_origins=tuple(
                o.strip() for o in env.get("LABORHUB_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            jwt_secret=env.get("LABORHUB_JWT_SECRET") or None,
            jwt_public_key=env.get("LABORHUB_JWT_PUBLIC_KEY") or None,
            jwt_jwks_file=env.get("LABORHUB_JWT_JWKS_FILE") or None,
            jwt_issuer=env.get("LABORHUB_JWT_ISSUER") or None,
            jwt_audience=env.get("LABORHUB_JWT_AUDIENCE") or None,
            jwt_leeway_seconds=int(env.get("LABORHUB_JWT_LEEWAY_SECONDS", "30")),
            rate_limit_per_minute=int(env.get("LABORHUB_RATE_LIMIT_PER_MINUTE", "600")),
            rate_limit_burst=int(env.get("LABORHUB_RATE_LIMIT_BURST", "60")),
            rate_limit_sync_seconds=float(env.get("LABORHUB_RATE_LIMIT_SYNC_SECONDS", "1")),
            max_query_cost=int(env.get("LABORHUB_MAX_QUERY_COST", "20000")),
            max_batch_size=int(env.get("LABORHUB_MAX_BATCH_SIZE", "10")),
            max_body_bytes=int(env.get("LABORHUB_MAX_BODY_BYTES", "1048576")),
            max_subscriptions_per_connection=int(
                env.get("LABORHUB_MAX_SUBSCRIPTIONS_PER_CONNECTION", "20")
            ),
            max_connections_per_principal=int(
                env.get("LABORHUB_MAX_CONNECTIONS_PER_PRINCIPAL", "10")
            ),
            trusted_documents_only=_bool(env.get("LABORHUB_TRUSTED_DOCUMENTS_ONLY", "0")),
            auth_failure_limit=int(env.get("LABORHUB_AUTH_FAILURE_LIMIT", "100")),
            auth_failure_window_seconds=float(
                env.get("LABORHUB_AUTH_FAILURE_WINDOW_SECONDS", "60")
            ),
            apq_max_document_bytes=int(env.get("LABORHUB_APQ_MAX_DOCUMENT_BYTES", "65536")),
            apq_quota_documents=int(env.get("LABORHUB_APQ_QUOTA_DOCUMENTS", "200")),
            apq_quota_bytes=int(env.get("LABORHUB_APQ_QUOTA_BYTES", "1048576")),
            apq_anonymous_quota_documents=_optional_int(
                env.get("LABORHUB_APQ_ANONYMOUS_QUOTA_DOCUMENTS")
            ),
            apq_anonymous_quota_bytes=_optional_int(env.get("LABORHUB_APQ_ANONYMOUS_QUOTA_BYTES")),
            persisted_cache_bytes=int(env.get("LABORHUB_PERSISTED_CACHE_BYTES", "8388608")),
        )

    @property
    def connection_options(self) -> dict[str, Any]:
        """What `db.session.create_engine` and `create_statement_pool` take, but for size."""
        return {
            "statement_timeout_ms": self.statement_timeout_ms,
            "pool_timeout_seconds": self.db_pool_timeout_seconds,
            "connect_timeout_seconds": self.db_connect_timeout_seconds,
            "pgbouncer": self.db_pgbouncer,
        }

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    @property
    def anonymous_apq_quota(self) -> tuple[int, int]:
        """(documents, bytes) an anonymous client address may store: by default nothing in
        production (any number of addresses would each get a quota), 50 / 256 KiB elsewhere."""
        documents, size = (0, 0) if self.is_production else (50, 262_144)
        if self.apq_anonymous_quota_documents is not None:
            documents = self.apq_anonymous_quota_documents
        if self.apq_anonymous_quota_bytes is not None:
            size = self.apq_anonymous_quota_bytes
        return documents, size

    @property
    def has_production_jwt_key(self) -> bool:
        """An identity provider's key is configured (so no development tokens are minted)."""
        return bool(self.jwt_secret or self.jwt_public_key or self.jwt_jwks_file)

    def direct_url(self, database_url: str) -> str:
        """Where the live events are listened for and the WebSocket connection locks are
        held: DATABASE_DIRECT_URL, else `database_url`, which behind PgBouncer can't serve
        (LISTEN and session locks don't cross its transaction pooling: a SettingsError)."""
        if self.database_direct_url:
            return self.database_direct_url
        if self.db_pgbouncer:
            raise SettingsError(
                "Config 'DATABASE_DIRECT_URL' is missing: behind PgBouncer "
                "(LABORHUB_DB_PGBOUNCER=1), live updates listen and lock on a connection "
                "straight to PostgreSQL."
            )
        return database_url

    def master_key(self) -> bytes:
        """The 32-byte key behind PII encryption and keyed hashes.

        From LABORHUB_SECRET_KEY (base64); outside production, a development key is generated
        once into LABORHUB_HOME/secret.key and reused from there.
        """
        if self.secret_key:
            return _decode_key(self.secret_key, "LABORHUB_SECRET_KEY")
        if self.is_production:
            raise SettingsError(
                "Config 'LABORHUB_SECRET_KEY' is missing, and production has no default."
            )
        path = self.home / "secret.key"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(base64.b64encode(secrets.token_bytes(32)).decode() + "\n")
        return _decode_key(path.read_text().strip(), str(path))


def _decode_key(text: str, source: str) -> bytes:
    try:
        key = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise SettingsError(f"{source} is not valid base64") from exc
    if len(key) != 32:
        raise SettingsError(f"{source} must decode to 32 bytes, got {len(key)}")
    return key
