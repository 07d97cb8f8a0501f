"""The benchmark scripts run (a smoke test with tiny sizes; their numbers are for people)."""
from __future__ import annotations

import subprocess
import sys

from conftest import REPO


def test_false_failure_rates_script_measures_the_stochastic_checks():
    proc = subprocess.run([sys.executable, "benchmarks/false_failure_rates.py", "--seeds", "3"], cwd=REPO,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    for exercise in ("| 4.2", "| 8.3"):
        rows = [line for line in proc.stdout.splitlines() if line.startswith(exercise)]
        assert len(rows) >= 2 and all("| 3 | 0 |" in row for row in rows), proc.stdout
