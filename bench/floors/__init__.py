"""The floors each benchmark is measured against, on the same machine in the same run: plain
DuckDB / SQLite doing the least work that answers the same question (the scripts came from the
planning team's tools, ../shared/tools/, unchanged). `floor(name)` runs one from the checkout with
this interpreter and returns the numbers it printed."""

import subprocess
import sys
from pathlib import Path

BASE = Path(__file__).resolve().parents[2]


def floor(name: str, *, timeout: int = 1800) -> list[float]:
    run = subprocess.run(
        [sys.executable, str(Path(__file__).with_name(f"{name}_floor.py"))],
        cwd=BASE,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )
    return [float(x) for x in run.stdout.split()]
