"""All settings, read from the environment in this one place."""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


class SettingsError(RuntimeError):
    """A setting is present but unusable."""


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """What the process needs to know; built once by `Settings.from_env()`."""

    env: str = "development"
    home: Path = Path(".laborhub")
    database_url: str | None = None
    secret_key: str | None = None
    db_pool_size: int = 10
    db_max_overflow: int = 10
    statement_timeout_ms: int = 10_000
    expose_sql_stats: bool = True
    log_level: str = "INFO"
    cors_origins: tuple[str, ...] = field(default_factory=tuple)

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
            statement_timeout_ms=int(env.get("LABORHUB_STATEMENT_TIMEOUT_MS", "10000")),
            expose_sql_stats=_bool(
                env.get("LABORHUB_EXPOSE_SQL_STATS", "0" if mode == "production" else "1")
            ),
            log_level=env.get("LABORHUB_LOG_LEVEL", "INFO"),
            cors_origins=tuple(
                o.strip() for o in env.get("LABORHUB_CORS_ORIGINS", "").split(",") if o.strip()
            ),
        )

    @property
    def is_production(self) -> bool:
        return self.env == "production"

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
