"""GraphiQL works without internet: the page loads every file from this server.

The browser test drives Debian's Chromium through Playwright (`pip install playwright` brings
its driver, no browser), against uvicorn on a loopback port, and aborts any request that would
leave the machine.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from urllib.parse import quote, urlencode, urljoin, urlsplit

import httpx
import pytest
from playwright.async_api import Browser, Route, async_playwright

from server.app import create_app
from server.graphiql import EXAMPLE_QUERY
from server.settings import Settings
from tests.conftest import GraphQLClient, serving
from tests.live_server import uvicorn_in_thread

ASSET = re.compile(r'<(?:script|link)\b[^>]*?(?:src|href)="(?P<url>[^"]+)"[^>]*?>', re.S)
INTEGRITY = re.compile(r'integrity="(?P<hash>sha384-[^"]+)"')
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
HTML = {"accept": "text/html"}
NAVIGATION = {  # what Chromium sends when it follows a link
    "accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8",
}
QUERY = '{ region(code: "440300") { name parent { name } } }'


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def page_assets(html: str) -> list[tuple[str, str | None]]:
    """(url, integrity) of every script and stylesheet the page loads."""
    found = []
    for tag in ASSET.finditer(html):
        if "stylesheet" in tag[0] or "<script" in tag[0]:
            integrity = INTEGRITY.search(tag[0])
            found.append((tag["url"], integrity["hash"] if integrity else None))
    return found


def sha384(body: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(body).digest()).decode()


async def test_graphiql_page_loads_every_file_from_this_server(
    http: httpx.AsyncClient, settings: Settings, database_url: str
) -> None:
    page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200
    assert "unpkg.com" not in page.text
    assets = page_assets(page.text)
    assert len(assets) == 7, assets
    for url, integrity in assets:
        absolute = urljoin(str(page.url), url)
        assert urlsplit(absolute).netloc == urlsplit(str(page.url)).netloc, url
        response = await http.get(absolute, headers={"accept-encoding": "gzip"})
        assert response.status_code == 200, url
        assert integrity == sha384(response.content), url
        kind = "text/css" if url.endswith(".css") else "text/javascript"
        assert response.headers["content-type"] == f"{kind}; charset=utf-8"
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        if len(response.content) > 10_000:
            assert response.headers.get("content-encoding") == "gzip", url

    async with serving(replace(settings, env="production"), database_url) as production:
        assert (await production.get(absolute)).status_code == 404, "no GraphiQL in production"


async def test_a_browser_opening_the_root_is_sent_to_graphiql(http: httpx.AsyncClient) -> None:
    response = await http.get("/", headers=HTML)
    assert response.status_code == 307
    assert urljoin(str(response.url), response.headers["location"]) == "http://test/graphql"
    page = await http.get("/", headers=HTML, follow_redirects=True)
    assert page.status_code == 200 and 'id="graphiql"' in page.text

    assert (await http.get("/", headers={"accept": "application/json"})).status_code == 404


async def test_graphiql_opens_on_a_working_example_of_the_domain(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    page = await http.get("/graphql", headers=HTML)
    assert "Welcome to GraphiQL" not in page.text
    assert json.dumps(EXAMPLE_QUERY, ensure_ascii=False).replace("</", "<\\/") in page.text
    assert "laborhub token --role staff" in EXAMPLE_QUERY
    answer = await GraphQLClient(http)(EXAMPLE_QUERY)  # as anyone who opens the page
    assert answer.status == 200 and not answer.errors, answer.body
    published_in_shenzhen = await gql.ok(
        '{ jobs(filter: {regionCode: "440300", status: PUBLISHED}) { totalCount } }'
    )
    assert answer.data["jobs"]["totalCount"] == published_in_shenzhen["jobs"]["totalCount"]


async def test_a_link_with_a_query_opens_graphiql_in_a_browser_and_answers_json_to_clients(
    http: httpx.AsyncClient,
) -> None:
    link = {"query": QUERY}
    browser = await http.get("/graphql", params=link, headers=NAVIGATION)
    assert browser.status_code == 200
    assert browser.headers["content-type"].startswith("text/html")
    assert "parameters.q || parameters.query || EXAMPLE_QUERY" in browser.text
    for accept in ("application/json", "application/graphql-response+json", "*/*",
                   "text/html, application/json"):
        client = await http.get("/graphql", params=link, headers={"accept": accept})
        assert client.status_code == 200, accept
        assert client.json()["data"]["region"]["name"] == "深圳市", accept


@pytest.fixture
def live_url(settings: Settings, database_url: str) -> Iterator[str]:
    with uvicorn_in_thread(create_app(settings, database_url)) as url:
        yield url


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.skip("no Chromium found (Debian: apt-get install chromium); .ci/run installs it")
    async with async_playwright() as driver:
        browser = await driver.chromium.launch(executable_path=executable, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


async def test_graphiql_runs_a_query_in_chromium_without_internet(
    browser: Browser, live_url: str
) -> None:
    local: list[str] = []
    outside: list[str] = []
    page_errors: list[str] = []
    page = await browser.new_page()
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    async def only_loopback(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).hostname in LOOPBACK:
            local.append(url)
            await route.continue_()
        else:
            outside.append(url)
            await route.abort()

    await page.route("**/*", only_loopback)
    await page.goto(f"{live_url}/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await editor.wait_for(timeout=30_000)
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.press("Delete")
    await page.keyboard.type(QUERY)
    await page.locator(".graphiql-execute-button").click()
    result = page.locator(".result-window")
    await result.get_by_text("深圳市").wait_for(timeout=30_000)

    assert "广东省" in await result.inner_text()
    assert outside == [], f"requests left the machine: {outside}"
    assert page_errors == []
    loaded = {urlsplit(url).path for url in local}
    assert "/static/graphiql/graphiql@3.8.3/graphiql.min.js" in loaded
    assert "/graphql" in loaded


async def test_a_link_opens_graphiql_with_its_query_in_the_editor(
    browser: Browser, live_url: str
) -> None:
    page = await browser.new_page()
    await page.goto(f"{live_url}/graphql?{urlencode({'query': QUERY}, quote_via=quote)}")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await editor.wait_for(timeout=30_000)
    text = await page.evaluate(
        "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()"
    )
    assert text == QUERY
    await page.locator(".graphiql-execute-button").click()
    await page.locator(".result-window").get_by_text("深圳市").wait_for(timeout=30_000)
