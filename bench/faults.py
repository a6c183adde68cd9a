"""The long fault run: the same SIGKILL suite as tests/faults/, with 100 kills instead of CI's 10.

    python bench/faults.py [--kills 100]

Runs pytest on tests/faults/ with CREDITFLOW_FAULT_KILLS set and prints what was injected and verified.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    args = parser.parse_args()
    env = {**os.environ, "CREDITFLOW_FAULT_KILLS": str(args.kills)}
    command = [sys.executable, "-m", "pytest", "tests/faults", "-p", "no:xdist", "-q", "-s"]
    sys.exit(subprocess.run(command, cwd=ROOT, env=env).returncode)
