#!/usr/bin/env python3
"""Times builds of portreg against each other in the same loops, on the real history: the
figures a change must not make worse, each as a median of whole processes, the builds taking
turns in every round so that a noisy machine weighs on all of them alike.

    bench/compare.py [--runs 5] [--history-runs 3] NAME=BINARY [NAME=BINARY ...]
    bench/compare.py after=target/release/portreg before=/tmp/portreg-before

Measured for each build (a table, one column per build, ratios against the first):
  - a first import: the newest version into no database (and the plain Python baseline,
    bench/baseline.py, in the same loop);
  - the whole history: every version as files in date order, one process; its peak memory;
  - the bundle with `import --git`, its clone by git included; the peak memory of its largest
    process (portreg or a git);
  - a cron import: the newest version into a database holding all the others (made by that
    build);
  - `raw latest` on the whole history;
  - `verify` of the whole history (once per build);
  - the whole history's database size and raw bytes;
  - the Protocol Numbers history (17 versions): as files into no database, as files into the
    whole port history's database (the second registry must not pay for the first), and its
    bundle with `import --git --path protocol-numbers.xml`; n/a for builds without it.

Reads ../shared/data/iana-history.bundle (or BUNDLE=path) and
../shared/data/protocol-numbers-history.bundle (or PROTOCOLS_BUNDLE=path); nothing leaves the
machine.
"""
import argparse
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

BUNDLE = os.environ.get("BUNDLE", "../shared/data/iana-history.bundle")
PROTOCOLS_BUNDLE = os.environ.get(
    "PROTOCOLS_BUNDLE", "../shared/data/protocol-numbers-history.bundle")


def run(argv):
    """Wall seconds and the peak memory (KB) of the largest process of one command's tree
    (portreg, or a git it ran)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    seconds = time.perf_counter() - start
    # ru_maxrss of children is the largest of any child so far: run() is called in a fresh
    # process (see measure) so that it is this command's.
    return seconds, max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)


def measure(argv, stderr=None):
    """Runs `argv` in a child Python process, so its peak memory is its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--measure", *argv],
        stdout=subprocess.PIPE,
        stderr=stderr,
        check=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def measure_or_none(argv):
    """As measure, or (None, None) when the build refuses (one without the registry)."""
    try:
        return measure(argv, stderr=subprocess.DEVNULL)
    except subprocess.CalledProcessError:
        return None, None


def extract(bundle, into, file_name="service-names-port-numbers.xml"):
    """Every version of the bundle as a file, observed at its commit time, oldest first."""
    repo = os.path.join(into, "repo")
    subprocess.run(["git", "clone", "-q", bundle, repo], check=True, stderr=subprocess.DEVNULL)
    log = subprocess.run(
        ["git", "-C", repo, "log", "--reverse", "--format=%H %ct"],
        stdout=subprocess.PIPE, check=True, text=True,
    ).stdout.split("\n")
    files = []
    for n, line in enumerate(filter(None, log), 1):
        commit, stamp = line.split()
        path = os.path.join(into, f"{n:03d}.xml")
        with open(path, "wb") as f:
            f.write(subprocess.run(
                ["git", "-C", repo, "show", f"{commit}:{file_name}"],
                stdout=subprocess.PIPE, check=True,
            ).stdout)
        os.utime(path, (int(stamp), int(stamp)))
        files.append(path)
    return files


def fresh(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)
    return path


def sizes(db):
    """The database's size (its log written into it first) and its raw bytes, skips included
    where the schema has them."""
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    raw = sum(
        conn.execute(f"SELECT ifnull(sum(length(zstd)), 0) FROM {table}").fetchone()[0]
        for table in ("snapshot_raw", "snapshot_raw_skip")
        if table in tables
    )
    conn.close()
    return os.path.getsize(db), raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--history-runs", type=int, default=3)
    parser.add_argument("builds", nargs="+", metavar="NAME=BINARY")
    args = parser.parse_args()
    builds = [tuple(b.split("=", 1)) for b in args.builds]
    builds = [(name, os.path.abspath(binary)) for name, binary in builds]
    work = tempfile.mkdtemp(prefix="portreg-compare-")
    try:
        compare(builds, args, work)
    finally:
        shutil.rmtree(work)


def compare(builds, args, work):
    os.makedirs(os.path.join(work, "v"))
    files = extract(BUNDLE, os.path.join(work, "v"))
    latest = files[-1]
    print(f"{len(files)} versions from {BUNDLE}; builds: {', '.join(n for n, _ in builds)}",
          flush=True)
    times = {name: {} for name, _ in builds}

    def note(name, what, value):
        times[name].setdefault(what, []).append(value)

    db = lambda name, what: os.path.join(work, f"{name}-{what}.db")
    for _ in range(args.runs):
        for name, binary in builds:
            s, _ = measure([binary, "--db", fresh(db(name, "first")), "import", latest])
            note(name, "first import (s)", s)
        s, _ = measure([sys.executable, "bench/baseline.py", latest, fresh(db("python", "py"))])
        for name, _ in builds:
            note(name, "python baseline, same loop (s)", s)
    for _ in range(args.history_runs):
        for name, binary in builds:
            s, kb = measure([binary, "--db", fresh(db(name, "history")), "import", *files])
            note(name, "whole history, files (s)", s)
            note(name, "whole history, peak (MB)", kb / 1024)
            s, kb = measure([binary, "--db", fresh(db(name, "git")), "import", "--git", BUNDLE])
            note(name, "bundle, import --git (s)", s)
            note(name, "bundle, peak (MB)", kb / 1024)
    for name, binary in builds:
        head = fresh(db(name, "head"))
        subprocess.run([binary, "--db", head, "import", *files[:-1]],
                       stdout=subprocess.DEVNULL, check=True)
        sizes(head)
    for _ in range(args.runs):
        for name, binary in builds:
            cron = fresh(db(name, "cron"))
            shutil.copy(db(name, "head"), cron)
            s, _ = measure([binary, "--db", cron, "import", latest])
            note(name, "cron import: newest into the rest (s)", s)
            s, _ = measure([binary, "--db", db(name, "history"), "raw", "latest"])
            note(name, "raw latest (s)", s)
    for name, binary in builds:
        s, kb = measure([binary, "--db", db(name, "history"), "verify"])
        note(name, "verify (s)", s)
        size, raw = sizes(db(name, "history"))
        note(name, "database (bytes)", size)
        note(name, "raw bytes (bytes)", raw)
    protocols(builds, args, work, db, note)
    report(builds, times, len(files))


def protocols(builds, args, work, db, note):
    """The second registry's figures, for the builds that keep it."""
    os.makedirs(os.path.join(work, "p"))
    files = extract(PROTOCOLS_BUNDLE, os.path.join(work, "p"), "protocol-numbers.xml")
    for _ in range(args.runs):
        for name, binary in builds:
            s, _ = measure_or_none([binary, "--db", fresh(db(name, "p")), "import", *files])
            note(name, f"protocols: {len(files)} versions, files (s)", s)
            beside = fresh(db(name, "beside"))
            shutil.copy(db(name, "history"), beside)
            s, _ = measure_or_none([binary, "--db", beside, "import", *files])
            note(name, "protocols: the same beside the port history (s)", s)
            s, _ = measure_or_none([binary, "--db", fresh(db(name, "pgit")), "import", "--git",
                                    PROTOCOLS_BUNDLE, "--path", "protocol-numbers.xml"])
            note(name, "protocols: bundle, import --git (s)", s)


def report(builds, times, versions):
    names = [name for name, _ in builds]
    first = names[0]
    header = "| measure | " + " | ".join(names)
    header += "".join(f" | {n}/{first}" for n in names[1:]) + " |"
    print(header)
    print("|---" * (1 + 2 * len(names) - 1) + "|")
    def median(values):
        return None if None in values else statistics.median(values)

    def cell(m):
        if m is None:
            return "n/a"
        return f"{m:,.0f}" if m >= 1000 else f"{m:.3f}" if m < 10 else f"{m:.1f}"

    for what in times[first]:
        medians = [median(times[n][what]) for n in names]
        cells = [cell(m) for m in medians]
        ratios = [f"{m / medians[0]:.2f}x" if medians[0] and m is not None else "-"
                  for m in medians[1:]]
        print(f"| {what} | " + " | ".join(cells + ratios) + " |")
    for name in names:
        history = statistics.median(times[name]["whole history, files (s)"])
        python = statistics.median(times[name]["python baseline, same loop (s)"])
        one = statistics.median(times[name]["first import (s)"])
        print(f"{name}: {history / versions * 1000:.1f} ms per version of the whole history; "
              f"first import {python / one:.1f}x the Python baseline")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--measure":
        seconds, kb = run(sys.argv[2:])
        print(f"{seconds:.6f} {kb}")
    else:
        main()
