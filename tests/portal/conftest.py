"""Portal test settings: the sandbox offered to customers, a JWT secret, an allowed return origin."""

from __future__ import annotations

import pytest

from creditflow.config import Settings

JWT_SECRET = "portal-test-secret-of-at-least-32-bytes!"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url, jobs_enabled=False, public_url="http://creditflow.test",
        sandbox_secret="sandbox-test-secret", portal_allow_sandbox=True, portal_jwt_secret=JWT_SECRET,
        portal_return_origins="https://app.example.com", portal_signup=True, portal_first_key=True,
    )
