"""Browser tests: one served app per module and engine (uvicorn in a thread), driven by Debian's chromium
through Playwright. Screenshots go to tests/browser/screenshots/ (gitignored; CI keeps them as artefacts)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from creditflow.app import create_app
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key
from tests.conftest import _truncate

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).parent / "screenshots"
JWT_SECRET = "browser-test-secret-of-at-least-32-bytes"


@dataclass
class Served:
    engine: str
    url: str
    settings: Settings
    operator: httpx.Client

    def shot(self, page: Page, name: str) -> None:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{self.engine}-{name}.png"), full_page=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _operator_key(settings: Settings) -> str:
    engine = create_engine(settings, pooled=False)
    async with engine.begin() as conn:
        _, secret = await create_key(Tx(conn=conn, now=datetime.now(UTC), actor="test"), "browser tests")
    await engine.dispose()
    return secret


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path):
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("browser") / "creditflow.db"
        shutil.copyfile(sqlite_template, path)
        url = f"sqlite+aiosqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_database")
        asyncio.run(_truncate(url))
    port = _free_port()
    settings = Settings(
        database_url=url, jobs_enabled=False, public_url=f"http://127.0.0.1:{port}", port=port,
        sandbox_secret="browser-sandbox-secret", portal_allow_sandbox=True, portal_signup=True,
        portal_first_key=True, portal_jwt_secret=JWT_SECRET, events_late_window_hours=24 * 31,
        brand_name="Acme AI",
    )
    secret = asyncio.run(_operator_key(settings))
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    operator = httpx.Client(base_url=settings.public_url, headers={"Authorization": f"Bearer {secret}"}, timeout=20)
    yield Served(request.param, settings.public_url or "", settings, operator)
    operator.close()
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(served: Served) -> Iterator[Browser]:
    """After `served`: Playwright's sync API keeps an event loop running, so set-up that needs asyncio.run
    (migrations, keys) must be done before it starts."""
    del served
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, locale="en-US", accept_downloads=True)
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()
