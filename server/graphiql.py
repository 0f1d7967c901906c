"""GraphiQL from this process alone: the page, and the files it loads, with no internet.

Strawberry's GraphiQL page loads React, GraphiQL and its explorer plugin from unpkg.com, so on
a network without internet it stays on "Loading...". Those seven files are vendored in
`server/static/graphiql/` under unpkg's own names, `<package>@<version>/<path>` (versions and
licences in `LICENSES.md` there). `graphiql_html()` points the page at them, relative to
`/graphql` so that a reverse proxy may serve the app under a prefix, and keeps the page's
integrity hashes: the browser checks every file against the hash strawberry pins.
`graphiql_routes()` serves them, compressed, cached for a year (a new version is a new path),
and sends a browser that opens `/` to `/graphql`.

The page opens on `EXAMPLE_QUERY`, a search a caseworker would run, instead of GraphiQL's
generic welcome, and a link to `/graphql?query=...` (or strawberry's own `?q=`) opens with that
query in the editor.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope
from strawberry.http.ides import get_graphql_ide_html

STATIC_DIRECTORY = Path(__file__).parent / "static" / "graphiql"
ASSETS_PATH = "/static/graphiql"
CACHE_CONTROL = "public, max-age=31536000, immutable"
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".md": "text/markdown; charset=utf-8",
}
_CDN_URL = re.compile(r"https://unpkg\.com/(?P<path>[^\"'\s]+)")


# Anonymous on purpose: GraphiQL keeps sending a named example's operation name for a moment
# after the text is replaced, which the endpoint answers "Unknown operation named ...".
EXAMPLE_QUERY = """# laborhub: one GraphQL endpoint for public employment services.
#
# Jobs near a worker: published postings in Shenzhen (440300 and every
# district under it), the best paid first. Press Ctrl-Enter to run it.
#
# Anyone may search jobs. Workers, applications and insurance records need a
# token: run `laborhub token --role staff --region 440000` in a terminal and
# put {"Authorization": "Bearer <the token>"} in the Headers tab below.
{
  jobs(first: 10,
       filter: {regionCode: "440300", status: PUBLISHED},
       orderBy: {field: SALARY_MAX, direction: DESC}) {
    totalCount
    nodes {
      title salaryMin salaryMax salaryUnit lodging board
      employer { name }
      region { name }
    }
  }
}
"""


class MissingAssetError(RuntimeError):
    """Strawberry's page names a file that is not vendored, or has changed where this module
    sets its example and reads its URL (after a strawberry upgrade)."""


def graphiql_html() -> str:
    """Strawberry's GraphiQL page, loading its scripts and styles from this server, opening
    on `EXAMPLE_QUERY` or the query a link gives."""
    return _with_example(_CDN_URL.sub(_local_url, get_graphql_ide_html("graphiql")))


_EXAMPLE = re.compile(r"const EXAMPLE_QUERY = `.*?`;", re.S)
_QUERY_FROM_URL = "parameters.q || EXAMPLE_QUERY"


def _with_example(page: str) -> str:
    if not _EXAMPLE.search(page) or _QUERY_FROM_URL not in page:
        raise MissingAssetError("strawberry's GraphiQL page no longer has the example to replace")
    example = json.dumps(EXAMPLE_QUERY, ensure_ascii=False).replace("</", "<\\/")
    page = _EXAMPLE.sub(lambda _: f"const EXAMPLE_QUERY = {example};", page, count=1)
    return page.replace(_QUERY_FROM_URL, "parameters.q || parameters.query || EXAMPLE_QUERY")


def _local_url(cdn_url: re.Match[str]) -> str:
    path = cdn_url["path"]
    if not (STATIC_DIRECTORY / path).is_file():
        raise MissingAssetError(
            f"GraphiQL needs {cdn_url[0]}, which is not in {STATIC_DIRECTORY}: vendor it "
            "(see LICENSES.md there)"
        )
    return f"{ASSETS_PATH.lstrip('/')}/{path}"


def graphiql_routes() -> list[BaseRoute]:
    """The routes of the vendored files, and of `/` for browsers."""
    files = VendoredFiles(directory=STATIC_DIRECTORY)
    return [
        Mount(ASSETS_PATH, app=GZipMiddleware(files), name="graphiql-assets"),
        Route("/", to_graphiql, methods=["GET"]),
    ]


async def to_graphiql(request: Request) -> Response:
    """A browser opening `/` gets GraphiQL; anything else still gets a 404."""
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse("graphql", status_code=307)
    return PlainTextResponse("Not Found", status_code=404)


class VendoredFiles(StaticFiles):
    """Static files whose paths carry their version: cached for good, typed explicitly."""

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers["cache-control"] = CACHE_CONTROL
        response.headers["x-content-type-options"] = "nosniff"
        media_type = MEDIA_TYPES.get(Path(full_path).suffix)
        if media_type is not None and response.status_code == 200:
            response.headers["content-type"] = media_type
        return response
