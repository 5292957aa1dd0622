#!/usr/bin/env bash
# Open a report's index.html in headless Chromium, offline, and check that it renders: a
# non-empty screenshot, no console errors, no request to anything but local files.
#
#   scripts/check-report.sh REPORT_DIR [SCREENSHOT.png]
#
# Needs Debian's `chromium` (apt-get install -y chromium). Exit 0 when the page is fine.
set -euo pipefail

dir=${1:?usage: scripts/check-report.sh REPORT_DIR [SCREENSHOT.png]}
page="$(cd "$dir" && pwd)/index.html"
[ -f "$page" ] || { echo "check-report: no index.html in $dir" >&2; exit 2; }
shot=${2:-"$(dirname "$page")/screenshot.png"}
case "$shot" in /*) ;; *) shot="$(pwd)/$shot" ;; esac

browser=""
for b in chromium chromium-browser google-chrome; do
    if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
[ -n "$browser" ] || { echo "check-report: chromium not found (apt-get install -y chromium)" >&2; exit 2; }

profile=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$profile" "$log"' EXIT
rm -f "$shot"

# --enable-logging=stderr --v=0 prints console messages ("CONSOLE" lines) and load errors.
status=0
timeout 120 "$browser" --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --no-default-browser-check --user-data-dir="$profile" \
    --host-resolver-rules="MAP * ~NOTFOUND" \
    --enable-logging=stderr --v=0 \
    --window-size=1280,2000 --screenshot="$shot" "file://$page" >"$log" 2>&1 || status=$?

fail=0
if [ "$status" -ne 0 ]; then
    echo "check-report: $browser exited with status $status" >&2
    fail=1
fi
if [ ! -s "$shot" ]; then
    echo "check-report: no screenshot written" >&2
    fail=1
elif [ "$(head -c 8 "$shot" | od -An -tx1 | tr -d ' \n')" != "89504e470d0a1a0a" ]; then
    echo "check-report: screenshot is not a PNG" >&2
    fail=1
fi
# The page has no script, so any console message is a problem (Chromium logs them as
# "INFO:CONSOLE" or "CONSOLE(n)" lines); so are failed loads.
if grep -E "Uncaught|CONSOLE|net::ERR_|Failed to load resource" "$log" >&2; then
    echo "check-report: the page logged errors (above)" >&2
    fail=1
fi
# Links and sources must be relative paths to files of the report (nothing fetched from afar).
while IFS= read -r url; do
    case "$url" in
        *:* | //*) echo "check-report: non-local URL in index.html: $url" >&2; fail=1 ;;
        *) [ -e "$(dirname "$page")/$url" ] || { echo "check-report: broken link: $url" >&2; fail=1; } ;;
    esac
done < <(grep -oiE '(src|href)="[^"]*"' "$page" | sed -E 's/^[^"]*"//; s/"$//')
if grep -qiE '<script|<link|@import|url\(' "$page"; then
    echo "check-report: index.html loads scripts or styles" >&2
    fail=1
fi
if [ "$fail" -ne 0 ]; then
    echo "--- browser log ---" >&2
    cat "$log" >&2
    exit 1
fi
echo "check-report: ok, screenshot $shot ($(wc -c <"$shot") bytes)"
