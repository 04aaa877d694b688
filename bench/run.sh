#!/usr/bin/env bash
# Benchmarks portreg on real data (../shared/data or BUNDLE=path), whole processes, medians.
#   bench/run.sh            # all
#   BEFORE=path/to/portreg bench/run.sh   # also times another build in the same loops
# For a history ten times as long (simulated): bench/long_history.py (see its header).
# Prints: one version into an empty database (portreg vs a plain Python ElementTree + sqlite3
# loader of the same file), the whole history in date order, as a shuffled list and in
# shuffled chunks of 40 per process, with import --git, database and raw sizes, peak memory
# (of the process and any child it waited for, such as git), and query times.
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${BUNDLE:-../shared/data/iana-history.bundle}
runs=${RUNS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build --release --locked -q
bin=target/release/portreg

echo "extracting versions from $bundle"
git clone -q "$bundle" "$work/repo"
mkdir -p "$work/v"
i=0
while read -r hash time; do
  i=$((i + 1))
  f="$work/v/$(printf '%03d' "$i").xml"
  git -C "$work/repo" show "$hash:service-names-port-numbers.xml" > "$f"
  touch -d "@$time" "$f"
done < <(git -C "$work/repo" log --reverse --format='%H %ct')
latest=$(ls "$work"/v/*.xml | tail -n 1)
echo "$i versions"

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# Wall seconds and peak KB of one command: "SECONDS KB".
measure() { python3 bench/measure.py "$@" 2>/dev/null; }

before=${BEFORE:-}
one_portreg=(); one_python=(); one_mem=(); one_before=()
for r in $(seq "$runs"); do
  rm -f "$work/one.db"*
  read -r s kb < <(measure "$bin" --db "$work/one.db" import "$latest")
  one_portreg+=("$s"); one_mem+=("$kb")
  rm -f "$work/py.db"*
  read -r s _ < <(measure python3 bench/baseline.py "$latest" "$work/py.db")
  one_python+=("$s")
  if [ -n "$before" ]; then
    rm -f "$work/one.db"*
    read -r s _ < <(measure "$before" --db "$work/one.db" import "$latest")
    one_before+=("$s")
  fi
done
p=$(printf '%s\n' "${one_portreg[@]}" | median)
b=$(printf '%s\n' "${one_python[@]}" | median)
echo "one version, empty db: portreg median ${p}s, python baseline median ${b}s, ratio $(echo "$b / $p" | bc -l | cut -c1-5)x, peak $(printf '%s\n' "${one_mem[@]}" | median) KB"
if [ -n "$before" ]; then
  o=$(printf '%s\n' "${one_before[@]}" | median)
  echo "  the build in BEFORE, same loop: median ${o}s, ratio $(echo "$b / $o" | bc -l | cut -c1-5)x"
fi

hist=(); hist_mem=(); hist_before=(); hist_before_mem=()
for r in $(seq "${HISTORY_RUNS:-3}"); do
  rm -f "$work/h.db"*
  read -r s kb < <(measure "$bin" --db "$work/h.db" import "$work"/v/*.xml)
  hist+=("$s"); hist_mem+=("$kb")
  if [ -n "$before" ]; then
    rm -f "$work/hb.db"*
    read -r s kb < <(measure "$before" --db "$work/hb.db" import "$work"/v/*.xml)
    hist_before+=("$s"); hist_before_mem+=("$kb")
  fi
done
echo "whole history in date order: median $(printf '%s\n' "${hist[@]}" | median)s, peak $(printf '%s\n' "${hist_mem[@]}" | median) KB"
if [ -n "$before" ]; then
  echo "  the build in BEFORE, same loop: median $(printf '%s\n' "${hist_before[@]}" | median)s, peak $(printf '%s\n' "${hist_before_mem[@]}" | median) KB"
fi
sqlite3 "$work/h.db" "PRAGMA wal_checkpoint(TRUNCATE);" >/dev/null 2>&1 || true
echo "database: $(stat -c %s "$work/h.db") bytes, raw frames: $(sqlite3 "$work/h.db" 'SELECT sum(length(zstd)) FROM snapshot_raw') bytes, record versions: $(sqlite3 "$work/h.db" 'SELECT count(*) FROM record_version')"

ls "$work"/v/*.xml | shuf --random-source=<(yes) > "$work/shuffled"
# A shuffled list of files given to one process.
shuf_runs=(); shuf_mem=()
for r in $(seq "${HISTORY_RUNS:-3}"); do
  rm -f "$work/l.db"*
  read -r s kb < <(measure "$bin" --db "$work/l.db" import $(cat "$work/shuffled"))
  shuf_runs+=("$s"); shuf_mem+=("$kb")
done
echo "whole history, shuffled list in one process: median $(printf '%s\n' "${shuf_runs[@]}" | median)s, peak $(printf '%s\n' "${shuf_mem[@]}" | median) KB"
cmp -s <("$bin" --db "$work/h.db" snapshots --format json) <("$bin" --db "$work/l.db" snapshots --format json) ||
  { echo "MISMATCH between the shuffled list and date order"; exit 1; }

# Harder: the shuffled files in chunks of 40 per process, so older versions keep landing in
# the middle of the history (each such import shifts later rows and re-bases a raw frame).
rm -f "$work/s.db"*
start=$(date +%s.%N)
split -l 40 "$work/shuffled" "$work/chunk."
peak=0
for chunk in "$work"/chunk.*; do
  read -r _ kb < <(measure "$bin" --db "$work/s.db" import $(cat "$chunk"))
  [ "$kb" -gt "$peak" ] && peak=$kb
done
end=$(date +%s.%N)
echo "whole history shuffled (chunks of 40): $(echo "$end - $start" | bc -l | cut -c1-6)s, peak $peak KB"
if cmp -s <("$bin" --db "$work/h.db" snapshots --format json | grep -v '"id"') \
          <("$bin" --db "$work/s.db" snapshots --format json | grep -v '"id"'); then
  echo "shuffled snapshots == date-order snapshots"
else
  echo "MISMATCH between shuffled and date-order snapshots"; exit 1
fi

git_runs=(); git_mem=()
for r in $(seq "${HISTORY_RUNS:-3}"); do
  rm -f "$work/g.db"*
  read -r s kb < <(measure "$bin" --db "$work/g.db" import --git "$bundle")
  git_runs+=("$s"); git_mem+=("$kb")
done
echo "whole history with import --git (bundle cloned included): median $(printf '%s\n' "${git_runs[@]}" | median)s, peak $(printf '%s\n' "${git_mem[@]}" | median) KB (git's own processes included)"
if cmp -s <("$bin" --db "$work/h.db" snapshots --format json | grep -v '"source"') \
          <("$bin" --db "$work/g.db" snapshots --format json | grep -v '"source"') &&
   cmp -s <("$bin" --db "$work/h.db" diff 2019-01-01 latest --format json) \
          <("$bin" --db "$work/g.db" diff 2019-01-01 latest --format json); then
  echo "import --git snapshots and diffs == files imported in date order"
else
  echo "MISMATCH between import --git and the files"; exit 1
fi
read -r s kb < <(measure "$bin" --db "$work/g.db" import --git "$bundle")
echo "import --git again (all stored, resumed): ${s}s"

# The history's head: what cron's fetch does (one new version into the whole history), next to
# a first import of the same file in the same loop; raw latest and raw oldest; verify.
ls "$work"/v/*.xml | head -n -1 > "$work/all-but-latest"
rm -f "$work/head.db"*
"$bin" --db "$work/head.db" import $(cat "$work/all-but-latest") > /dev/null
sqlite3 "$work/head.db" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
store=(); first=()
for r in $(seq "$runs"); do
  rm -f "$work/next.db"*; cp "$work/head.db" "$work/next.db"
  read -r s _ < <(measure "$bin" --db "$work/next.db" import "$latest"); store+=("$s")
  rm -f "$work/first.db"*
  read -r s _ < <(measure "$bin" --db "$work/first.db" import "$latest"); first+=("$s")
done
st=$(printf '%s\n' "${store[@]}" | median); fi=$(printf '%s\n' "${first[@]}" | median)
echo "storing the latest version into the rest of the history: median ${st}s, a first import of it ${fi}s: $(echo "$st / $fi" | bc -l | cut -c1-4)x"
oldest=$(sqlite3 "$work/h.db" "SELECT id FROM snapshot WHERE seq = 1")
for what in latest "$oldest"; do
  t=(); for r in $(seq "$runs"); do read -r s _ < <(measure "$bin" --db "$work/h.db" raw "$what"); t+=("$s"); done
  echo "raw $what: median $(printf '%s\n' "${t[@]}" | median)s"
done
read -r s kb < <(measure "$bin" --db "$work/h.db" verify)
echo "verify the whole history: ${s}s, peak $kb KB"

echo "queries on the whole history (whole processes, medians):"
python3 bench/queries.py "$work/h.db"
