"""Process kills on SQLite: one `serve`, SIGKILLed at random points under retrying clients, restarted.

Afterwards the file passes PRAGMA integrity_check, `creditflow check` is clean, every 2xx answer is in
the ledger exactly once (and nothing else is), and each wallet's balance is what the clients were told:
grants - debits - captures. The long run is bench/faults.py; this one is bounded for CI.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time
from contextlib import closing
from pathlib import Path

import httpx

from tests.faults.clients import Record, send, spend
from tests.test_cli import CLI, START_TIMEOUT, cli_env, free_port, run_cli

KILLS = int(os.environ.get("CREDITFLOW_FAULT_KILLS", "10"))
CLIENTS = 4
GRANT = 1_000 * 10**6


class Server:
    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.cwd, self.env, self.port = cwd, env, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = (cwd / "serve.log").open("a")

    def start(self) -> None:
        self.process = subprocess.Popen([CLI, "serve", "--port", str(self.port)], cwd=self.cwd, env=self.env,
                                        stdout=self.log, stderr=self.log, text=True)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert self.process.poll() is None, (self.cwd / "serve.log").read_text()[-2000:]
            try:
                if httpx.get(f"{self.base}/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "serve did not come back"
            time.sleep(0.1)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.log.close()


async def _run(server: Server, token: str, customers: list[str], record: Record) -> int:
    stop = asyncio.Event()
    workers = [asyncio.create_task(spend(server.base, token, c, record, stop)) for c in customers]
    kills = 0
    try:
        for _ in range(KILLS):
            await asyncio.sleep(random.uniform(0.3, 1.2))
            server.kill()
            kills += 1
            await asyncio.to_thread(server.start)
    finally:
        stop.set()
        await asyncio.gather(*workers)
    return kills


async def _fund(base: str, token: str, record: Record) -> list[str]:
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        customers = []
        for n in range(CLIENTS):
            customer = (await send(http, record, "customer", "", 0, "/v1/customers", {"external_id": f"k{n}"}))
            assert customer is not None
            await send(http, record, "grant", customer["id"], GRANT, "/v1/credit_grants",
                       {"customer": customer["id"], "amount": "1000", "category": "paid"})
            customers.append(customer["id"])
        return customers


def test_kill_9_under_retrying_clients_loses_and_doubles_nothing(tmp_path, sqlite_template):
    database = tmp_path / "creditflow.db"
    shutil.copyfile(sqlite_template, database)
    # A killed request's key is leased until it expires; a short lease lets its retry through soon.
    env = cli_env(database_url=f"sqlite+aiosqlite:///{database}", idempotency_lease_seconds="1")
    token = run_cli("keys", "create", "--name", "faults", cwd=tmp_path, env=env).stdout.strip().splitlines()[-1]
    server = Server(tmp_path, env)
    record = Record()
    server.start()
    try:
        customers = asyncio.run(_fund(server.base, token, record))
        kills = asyncio.run(_run(server, token, customers, record))
    finally:
        server.stop()

    with closing(sqlite3.connect(database)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kinds = dict(conn.execute("SELECT kind, COUNT(*) FROM operations GROUP BY kind").fetchall())
        debit_ids = {row[0] for row in conn.execute("SELECT id FROM operations WHERE kind = 'debit'")}
        posted = dict(conn.execute("SELECT customer_id, posted FROM wallets").fetchall())
    assert len(record.of_kind("grant")) == CLIENTS and record.of_kind("debit") and record.of_kind("capture")
    checked = run_cli("check", cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert debit_ids == {body["id"] for _, _, _, body in record.of_kind("debit")}
    for kind in ("grant", "hold", "capture"):
        assert kinds.get(kind, 0) == len(record.of_kind(kind)), kind
    for customer in customers:
        told = sum(m for k, c, m, _ in record.answered.values() if c == customer and k == "grant") - sum(
            m for k, c, m, _ in record.answered.values() if c == customer and k in ("debit", "capture")
        )
        assert posted[customer] == told
    print(f"\ninjected {kills} SIGKILLs; {record.retries} retries; verified {len(record.answered)} answers: "
          f"{kinds}; integrity ok; check clean; balances as told")
