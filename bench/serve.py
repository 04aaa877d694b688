#!/usr/bin/env python3
"""`portreg serve` under load, against whatportis --server in the same run, with wrk.

    bench/serve.py [--portreg target/release/portreg] [--duration 10] [--runs 3]

- Builds a database of the whole real history (`import --git` of
  ../shared/data/iana-history.bundle, or BUNDLE=path), 390 versions.
- Feeds whatportis the same data: portreg's own `export csv` (IANA's CSV layout), loaded the
  way `whatportis --update` loads IANA's file, but from that file (nothing is downloaded).
- Runs `wrk -t2 -c16 -d<duration>s --latency` against whatportis's `/ports/443` and
  portreg's `/api/v1/show?q=443`, `show` of a random port each request (so the answers a
  thread keeps do not help: the cost of a query), `/api/v1/changes?since=2024` and
  `/api/v1/free?range=4700-4800&proto=tcp&never_assigned=true`, the servers taking turns,
  `--runs` times; prints medians of requests/s and p99 latency, the ratio to whatportis, and
  the peak memory (VmHWM) of each server.

Installs what it needs when it is missing: wrk (apt-get) and whatportis with Flask (pip, in a
virtual environment under the work directory). Everything listens on 127.0.0.1 only.
"""
import argparse
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BUNDLE = os.environ.get("BUNDLE", "../shared/data/iana-history.bundle")
WRK = ["wrk", "-t2", "-c16", "--latency"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def ensure_wrk():
    if shutil.which("wrk"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                   stdout=subprocess.DEVNULL)


def whatportis(work, csv_path):
    """A virtual environment with whatportis and Flask, its database loaded from csv_path."""
    venv = os.path.join(work, "venv")
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    python = os.path.join(venv, "bin", "python")
    # whatportis[server] pins Flask 1.1, which imports names later Jinja2, Werkzeug,
    # itsdangerous and MarkupSafe dropped: their versions of its time.
    subprocess.run([python, "-m", "pip", "install", "-q", "whatportis[server]", "jinja2<3.0",
                    "itsdangerous<2.0", "werkzeug<2.0", "markupsafe<2.1"], check=True)
    load = (
        "import sys, whatportis.cli as cli\n"
        "class Reply:\n"
        "    def __init__(self, data): self.content = data\n"
        "cli.requests.get = lambda url: Reply(open(sys.argv[1], 'rb').read())\n"
        "cli.populate_db()\n"
    )
    home = os.path.join(work, "home")
    os.makedirs(home)
    env = dict(os.environ, HOME=home)
    subprocess.run([python, "-c", load, csv_path], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    # Without its database, whatportis would download IANA's file on start.
    if not os.path.isfile(os.path.join(home, ".whatportis_db.json")):
        sys.exit("whatportis's database was not made")
    return python, env


# A different port each request (of 65,536): the answers a server keeps do not help.
RANDOM_PORTS = """
math.randomseed(os.time())
request = function()
  return wrk.format(nil, "/api/v1/show?q=" .. math.random(0, 65535))
end
"""


def wrk(url, duration, script=None):
    extra = ["-s", script] if script else []
    out = subprocess.run(WRK + [f"-d{duration}s"] + extra + [url], stdout=subprocess.PIPE,
                         text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        sys.exit(f"{url}: {errors.group(1)} error responses\n{out}")
    return rate, float(p99.group(1)) * scale


def peak_kb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--portreg", default="target/release/portreg")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    portreg = os.path.abspath(args.portreg)
    ensure_wrk()
    work = tempfile.mkdtemp(prefix="portreg-serve-bench-")
    servers = []
    try:
        db = os.path.join(work, "portreg.sqlite3")
        subprocess.run([portreg, "--db", db, "import", "--git", BUNDLE], check=True,
                       stdout=subprocess.DEVNULL)
        csv_path = os.path.join(work, "ports.csv")
        with open(csv_path, "wb") as csv:
            subprocess.run([portreg, "--db", db, "export", "csv"], check=True, stdout=csv)
        python, env = whatportis(work, csv_path)

        wp_port, pr_port = free_port(), free_port()
        wp = subprocess.Popen(
            [os.path.join(os.path.dirname(python), "whatportis"), "--server", "127.0.0.1",
             str(wp_port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(wp)
        pr = subprocess.Popen(
            [portreg, "--db", db, "serve", "--listen", f"127.0.0.1:{pr_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(pr)
        wait_for(wp_port)
        wait_for(pr_port)

        script = os.path.join(work, "random-ports.lua")
        with open(script, "w") as lua:
            lua.write(RANDOM_PORTS)
        targets = [
            ("whatportis /ports/443", f"http://127.0.0.1:{wp_port}/ports/443"),
            ("portreg show?q=443", f"http://127.0.0.1:{pr_port}/api/v1/show?q=443"),
            ("portreg show?q=RANDOM (a new port each request)",
             f"http://127.0.0.1:{pr_port}/api/v1/show?q=0"),
            ("portreg changes?since=2024",
             f"http://127.0.0.1:{pr_port}/api/v1/changes?since=2024"),
            ("portreg free?range=4700-4800&proto=tcp&never_assigned=true",
             f"http://127.0.0.1:{pr_port}/api/v1/free?range=4700-4800&proto=tcp"
             "&never_assigned=true"),
        ]
        results = {name: [] for name, _ in targets}
        for _ in range(args.runs):
            for name, url in targets:
                random = "RANDOM" in name
                results[name].append(wrk(url, args.duration, script if random else None))
        baseline = statistics.median(r for r, _ in results[targets[0][0]])
        print(f"wrk -t2 -c16 -d{args.duration}s, {args.runs} runs each, medians; "
              f"whole history ({BUNDLE})")
        print("| endpoint | requests/s | p99 (ms) | x whatportis |")
        print("|---|---|---|---|")
        for name, _ in targets:
            rate = statistics.median(r for r, _ in results[name])
            p99 = statistics.median(p for _, p in results[name])
            print(f"| {name} | {rate:,.0f} | {p99:.2f} | {rate / baseline:,.0f}x |")
        print(f"peak memory: portreg serve {peak_kb(pr.pid) / 1024:.1f} MB, "
              f"whatportis {peak_kb(wp.pid) / 1024:.1f} MB")
    finally:
        for server in servers:
            server.terminate()
            server.wait()
        shutil.rmtree(work)


if __name__ == "__main__":
    main()
