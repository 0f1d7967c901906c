"""The ASGI app built from the environment, for processes that uvicorn starts itself.

`laborhub serve --workers N` runs `uvicorn.run("server.asgi:app_from_env", factory=True)`
after putting the database URL in DATABASE_URL; `uvicorn --factory server.asgi:app_from_env
--http server.http_protocol:HttpProtocol` works the same way wherever DATABASE_URL is set.
"""

from __future__ import annotations

from starlette.applications import Starlette

from server.app import create_app
from server.settings import Settings, SettingsError


def app_from_env() -> Starlette:
    settings = Settings.from_env()
    if not settings.database_url:
        raise SettingsError(
            "Config 'DATABASE_URL' is missing: `laborhub serve` sets it for its workers."
        )
    return create_app(settings, settings.database_url)
