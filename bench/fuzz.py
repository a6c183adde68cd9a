"""A long schemathesis run over every /v1 operation (tests/fuzz/runner.py), on SQLite or PostgreSQL.

    python bench/fuzz.py --cases 200                                   # SQLite, in a temporary file
    python bench/fuzz.py --cases 200 --database-url postgresql+asyncpg://postgres@127.0.0.1/fuzz

The database must be empty (it is migrated here). Prints the cases sent, the statuses answered, every
failure (a 5xx or an answer outside its documented schema) and the ledger check; exit 1 on any of them.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from creditflow.app import create_app
from creditflow.clock import ManualClock
from creditflow.config import Settings
from creditflow.db.migrate import upgrade
from tests.fuzz.runner import run_fuzz


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200, help="Generated cases per operation.")
    parser.add_argument("--database-url", default=None, help="Default: a new SQLite file.")
    args = parser.parse_args()
    url = args.database_url or f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/fuzz.db"
    loop = asyncio.new_event_loop()
    app = create_app(Settings(database_url=url, jobs_enabled=False), clock=ManualClock())
    loop.run_until_complete(upgrade(app.state.engine))
    try:
        report = run_fuzz(app, loop, args.cases)
    finally:
        loop.run_until_complete(app.state.debit_committer.stop())
        loop.run_until_complete(app.state.engine.dispose())
    print(f"{report.cases} cases in {report.seconds:.1f} s ({report.cases / report.seconds:.0f}/s) on {url}")
    print("statuses: " + ", ".join(f"{status}: {n}" for status, n in sorted(report.statuses.items())))
    for failure in report.failures:
        print("FAILURE " + failure, end="\n\n")
    print(f"{len(report.failures)} failures; ledger check: {report.discrepancies or 'consistent'}")
    return 1 if report.failures or report.discrepancies else 0


if __name__ == "__main__":
    sys.exit(main())
