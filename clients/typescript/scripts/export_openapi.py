"""Write creditflow's OpenAPI document to clients/typescript/openapi.json (then `npm run generate`)."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from creditflow.app import create_app
from creditflow.config import Settings


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{scratch}/openapi.db", jobs_enabled=False))
        document = app.openapi()
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "openapi.json"
    target.write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
