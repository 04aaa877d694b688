#!/usr/bin/env bash
# The page of `portreg serve` in a real headless browser (Chromium): rendered on a desktop and
# on a phone, screenshot taken, the DOM asserted on; the page has no script at all (its lookup
# is a plain GET form answered by the server), which the DOM shows.
# Installs Chromium when it is missing (Debian: apt-get). Run by .ci/run after the tests;
# `cargo test` needs no browser. Usage: tests/browser/page.sh [path/to/portreg]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
portreg=${1:-$root/target/release/portreg}
out=${PAGE_SHOTS:-$root/target/page}
mkdir -p "$out"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium > /dev/null
  browser=$(command -v chromium)
fi

work=$(mktemp -d)
server=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Two real versions with changes between them: the oldest shipped with the tests, and the
# newest of the shared data when it is there.
db="$work/portreg.sqlite3"
"$portreg" --db "$db" import "$root/tests/fixtures/registry-2017-03-10.xml.gz" > /dev/null
shared="$root/../shared/data/service-names-port-numbers-2025-12-15.xml.gz"
if [ -f "$shared" ]; then
  "$portreg" --db "$db" import "$shared" > /dev/null
fi

"$portreg" --db "$db" serve --listen 127.0.0.1:0 > "$work/serve.out" &
server=$!
for _ in $(seq 50); do
  grep -q '^listening on' "$work/serve.out" 2> /dev/null && break
  sleep 0.1
done
base=$(sed -n 's/^listening on \(http:[^ ]*\)\/ .*/\1/p' "$work/serve.out")
[ -n "$base" ] || { echo "page.sh: the server did not start" >&2; exit 1; }

fail() { echo "page.sh: $*" >&2; exit 1; }
render() { # SIZE URL NAME: a screenshot and the DOM after layout
  "$browser" --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size="$1" \
    --screenshot="$out/$3.png" "$2" > /dev/null 2>&1
  "$browser" --headless=new --no-sandbox --disable-gpu --window-size="$1" \
    --dump-dom "$2" 2> /dev/null > "$out/$3.html"
  if grep -q '<script' "$out/$3.html"; then fail "$3: the page has a script"; fi
  [ -s "$out/$3.png" ] || fail "no screenshot of $2"
  [ "$(head -c 8 "$out/$3.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$3.png is not a PNG"
}
has() { grep -q -- "$2" "$out/$1.html" || fail "$1: no $2"; }

render 1280,1600 "$base/?q=443" desktop
has desktop '<td>443/tcp</td><td>https</td>'
has desktop '<img src="/stats.svg"'
has desktop '<h2>Latest changes</h2>'
has desktop 'href="/feed.atom"'
has desktop 'href="/export/services"'
has desktop '<input type="search" id="q" name="q" value="443"'

render 390,844 "$base/?q=https" phone
has phone 'name="viewport" content="width=device-width'
has phone '<h2>Look up</h2>'

render 1280,1600 "$base/?q=99999" bad
has bad 'class="error">port 99999 is above 65535'

# The chart it shows is served (asked with bash alone: no curl needed).
port=${base##*:}
exec 3<> "/dev/tcp/127.0.0.1/$port"
printf 'GET /stats.svg HTTP/1.0\r\nHost: localhost\r\n\r\n' >&3
cat <&3 > "$out/stats.http"
exec 3<&-
head -1 "$out/stats.http" | grep -q ' 200 ' || fail "no chart"
grep -q '<svg' "$out/stats.http" || fail "the chart is not SVG"
echo "page.sh: the page renders in $("$browser" --version 2> /dev/null | head -1); screenshots in $out"
