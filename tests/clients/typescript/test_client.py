"""clients/typescript's node:test suite, run with Node against the session's real `creditflow serve`."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from tests.served import Served

PACKAGE = Path(__file__).resolve().parents[3] / "clients" / "typescript"


def npm(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    npm_bin = shutil.which("npm")
    assert npm_bin, "Node.js and npm are needed for the TypeScript client's tests"
    return subprocess.run([npm_bin, *args], cwd=PACKAGE, env=env, capture_output=True, text=True, timeout=300)


def test_the_typescript_client_against_a_served_creditflow(served: Served) -> None:
    if not (PACKAGE / "node_modules").exists():
        installed = npm("ci", "--no-audit", "--no-fund")
        assert installed.returncode == 0, installed.stderr
    env = {**os.environ, "CREDITFLOW_BASE_URL": served.base_url, "CREDITFLOW_API_KEY": served.operator_key}
    run = npm("test", env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "# fail 0" in run.stdout and "# pass 4" in run.stdout, run.stdout
