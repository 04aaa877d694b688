#!/usr/bin/env python3
"""A history ten times today's, made by replaying the registry's real changes onto its latest
version, and what portreg costs at 60, 600 and 6,000 snapshots.

    bench/long_history.py HISTORY_DB LATEST_XML [--versions 6000] [--seed 1] [--runs 7]

HISTORY_DB is a database holding the real history (bench/run.sh makes one): each simulated
version draws, at random with SEED, the added/removed/modified counts of one real snapshot and
makes that many changes to the one before it (records added as copies of others under new
names, removed, or modified in their description and modification date), and a person's
`<updated>` changes as often as people changed in the real history. Versions are a few days
apart. They are imported 50 per process, as a backfill would; at each mark the script times,
as whole processes (medians of RUNS), on the database as it is then:

  - storing one new version (what `fetch` does from cron), next to a first import of the same
    document into no database, in the same loop;
  - `raw latest` and `raw` of the oldest snapshot;
  - `show 443` and `changes --since` one year before the latest version;
  - `verify` (once), per snapshot;
  - the database's size, and its raw bytes.

Deterministic for a SEED. Needs the release build (target/release/portreg) and sqlite3.
"""
import argparse
import datetime
import os
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time

BIN = os.path.abspath("target/release/portreg")
RECORD = re.compile(rb"<record[ >].*?</record>\n?", re.S)
PERSON = re.compile(rb"<person id=\"[^\"]*\">.*?</person>", re.S)


def run(argv, stdout=subprocess.DEVNULL):
    start = time.perf_counter()
    subprocess.run(argv, stdout=stdout, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def median_ms(argv, runs):
    return statistics.median(run(argv) for _ in range(runs)) * 1000


class Simulation:
    """The latest real version, as text cut into records, and the changes to replay."""

    def __init__(self, latest_xml, history_db, seed):
        self.random = random.Random(seed)
        text = open(latest_xml, "rb").read()
        spans = [m.span() for m in RECORD.finditer(text)]
        self.head = text[: spans[0][0]]
        self.records = [text[a:b] for a, b in spans]
        self.tail = text[spans[-1][1]:]
        db = sqlite3.connect(history_db)
        self.changes = db.execute(
            "SELECT added, removed, modified FROM snapshots WHERE added IS NOT NULL"
        ).fetchall()
        # How often people changed: person versions that start after the first snapshot.
        people_changes, snapshots = db.execute(
            "SELECT (SELECT count(*) FROM person_version WHERE first_seq > 1),"
            " (SELECT count(*) FROM snapshot)"
        ).fetchone()
        self.people_per_version = people_changes / max(snapshots - 1, 1)
        self.date = datetime.date.fromisoformat(
            re.search(rb"<updated>(\d{4}-\d{2}-\d{2})</updated>", self.head).group(1).decode()
        )
        self.serial = 0

    def document(self):
        updated = self.date.isoformat().encode()
        head = re.sub(rb"<updated>[^<]*</updated>", b"<updated>" + updated + b"</updated>",
                      self.head, count=1)
        return head + b"".join(self.records) + self.tail

    def change_people(self, stamp):
        """Some people's `<updated>` dates change, as often as people changed in real life."""
        rate = self.people_per_version
        count = int(rate) + (self.random.random() < rate % 1)
        for _ in range(count):
            people = list(PERSON.finditer(self.tail))
            if not people:
                return
            m = self.random.choice(people)
            person = m.group(0)
            if b"<updated>" in person:
                person = re.sub(rb"<updated>[^<]*</updated>", b"<updated>" + stamp + b"</updated>",
                                person, count=1)
            else:
                person = person.replace(b"</person>", b"<updated>" + stamp + b"</updated></person>")
            self.tail = self.tail[: m.start()] + person + self.tail[m.end():]

    def next_version(self):
        """The next version's document, a few days after the one before."""
        added, removed, modified = self.random.choice(self.changes)
        self.date += datetime.timedelta(days=self.random.randint(1, 4))
        stamp = self.date.isoformat().encode()
        for _ in range(min(removed, len(self.records) // 2)):
            del self.records[self.random.randrange(len(self.records))]
        for _ in range(modified):
            i = self.random.randrange(len(self.records))
            record = re.sub(rb' updated="[^"]*"', b"", self.records[i])
            record = record.replace(b"<record", b'<record updated="' + stamp + b'"', 1)
            record = re.sub(rb"</description>", b" (rev " + stamp + b")</description>", record, count=1)
            self.records[i] = record
        for _ in range(added):
            self.serial += 1
            template = self.records[self.random.randrange(len(self.records))]
            name = b"sim-%d" % self.serial
            record = re.sub(rb"<name>[^<]*</name>", b"<name>" + name + b"</name>", template, count=1)
            if b"<name>" not in record:
                record = record.replace(b">", b"><name>" + name + b"</name>", 1)
            self.records.insert(self.random.randrange(len(self.records) + 1), record)
        self.change_people(stamp)
        return self.document()


def database_size(db):
    subprocess.run(["sqlite3", db, "PRAGMA wal_checkpoint(TRUNCATE);"],
                   stdout=subprocess.DEVNULL, check=True)
    raw = subprocess.run(
        ["sqlite3", db, "SELECT (SELECT sum(length(zstd)) FROM snapshot_raw)"
                        " + (SELECT ifnull(sum(length(zstd)), 0) FROM snapshot_raw_skip)"],
        capture_output=True, text=True, check=True).stdout.strip()
    return os.path.getsize(db), int(raw or 0)


def measure(mark, db, work, sim, runs):
    size, raw = database_size(db)
    next_xml = os.path.join(work, "next.xml")
    state = (sim.random.getstate(), list(sim.records), sim.tail, sim.date, sim.serial)
    open(next_xml, "wb").write(sim.next_version())
    sim.random.setstate(state[0])
    sim.records, sim.tail, sim.date, sim.serial = state[1], state[2], state[3], state[4]
    copy = os.path.join(work, "copy.db")
    fresh = os.path.join(work, "fresh.db")
    store, first = [], []
    for _ in range(runs):
        shutil.copyfile(db, copy)
        store.append(run([BIN, "--db", copy, "import", next_xml]))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(fresh + suffix):
                os.remove(fresh + suffix)
        first.append(run([BIN, "--db", fresh, "import", next_xml]))
    store_ms, first_ms = statistics.median(store) * 1000, statistics.median(first) * 1000
    oldest = subprocess.run(["sqlite3", db, "SELECT id FROM snapshot WHERE seq = 1"],
                            capture_output=True, text=True, check=True).stdout.strip()
    latest_date = subprocess.run(["sqlite3", db, "SELECT max(registry_date) FROM snapshot"],
                                 capture_output=True, text=True, check=True).stdout.strip()
    year_back = (datetime.date.fromisoformat(latest_date) - datetime.timedelta(days=365)).isoformat()
    raw_latest = median_ms([BIN, "--db", db, "raw", "latest"], runs)
    raw_oldest = median_ms([BIN, "--db", db, "raw", oldest], runs)
    show = median_ms([BIN, "--db", db, "show", "443"], runs)
    changes = median_ms([BIN, "--db", db, "changes", "--since", year_back], runs)
    verify = run([BIN, "--db", db, "verify"]) * 1000
    print(f"| {mark} | {store_ms:.0f} ms ({store_ms / first_ms:.2f}x a first import, "
          f"{first_ms:.0f} ms) | {raw_latest:.1f} ms | {raw_oldest:.1f} ms | {show:.1f} ms | "
          f"{changes:.1f} ms | {verify / mark:.1f} ms ({verify / 1000:.1f} s) | "
          f"{size / 2**20:.2f} MiB, raw {raw / 1000:.0f} KB |", flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("history_db")
    parser.add_argument("latest_xml")
    parser.add_argument("--versions", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--marks", default="60,600,6000")
    args = parser.parse_args()
    marks = sorted(int(m) for m in args.marks.split(",") if int(m) <= args.versions)
    sim = Simulation(args.latest_xml, args.history_db, args.seed)
    work = tempfile.mkdtemp()
    db = os.path.join(work, "long.db")
    print("| snapshots | storing a new version | raw latest | raw oldest | show 443 |"
          " changes --since (a year back) | verify per snapshot | database |")
    print("|---|---|---|---|---|---|---|---|")
    try:
        version, batch = 0, []
        while version < args.versions:
            path = os.path.join(work, f"v{version:05d}.xml")
            open(path, "wb").write(sim.document() if version == 0 else sim.next_version())
            batch.append(path)
            version += 1
            if len(batch) == 50 or version in marks or version == args.versions:
                run([BIN, "--db", db, "import", *batch])
                for path in batch:
                    os.remove(path)
                batch = []
            if version in marks:
                measure(version, db, work, sim, args.runs)
    finally:
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
