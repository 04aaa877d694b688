#!/usr/bin/env python3
"""Times portreg's query commands as whole processes on a database holding the whole history.

    bench/queries.py DB [RUNS]

Prints the median wall time of each command over RUNS runs (default 31), next to two baselines
measured in the same run: `portreg --version` (process start, no database) and the sqlite3
command-line shell answering the same port lookup from the `latest_records` view.
"""
import shutil
import statistics
import subprocess
import sys
import time

BIN = "target/release/portreg"


def median_ms(argv, runs):
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main():
    db = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 31
    cases = [
        ("baseline: portreg --version", [BIN, "--version"]),
        ("show 443 (goal <= 15 ms)", [BIN, "--db", db, "show", "443"]),
        ("show https --as-of 2019-06-01", [BIN, "--db", db, "show", "https", "--as-of", "2019-06-01"]),
        ("changes --since 2024 (goal <= 50 ms)", [BIN, "--db", db, "changes", "--since", "2024"]),
        ("changes --since 2024 --format json", [BIN, "--db", db, "changes", "--since", "2024", "--format", "json"]),
        ("search kerberos", [BIN, "--db", db, "search", "kerberos"]),
        ("history 443/tcp", [BIN, "--db", db, "history", "443/tcp"]),
        ("export services", [BIN, "--db", db, "export", "services"]),
    ]
    if shutil.which("sqlite3"):
        cases.insert(1, ("baseline: sqlite3 port 443 from latest_records",
                         ["sqlite3", db, "SELECT * FROM latest_records WHERE port = '443'"]))
    floor = None
    for label, argv in cases:
        ms = median_ms(argv, runs)
        floor = floor or ms
        print(f"{label:45} median {ms:6.1f} ms  ({ms / floor:4.1f}x process start)")


if __name__ == "__main__":
    main()
