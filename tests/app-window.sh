#!/usr/bin/env bash
# Smoke test of the desktop window: starts the real app under Xvfb, waits for its window, takes a
# screenshot and checks it is not blank.
#
#   tests/app-window.sh [APP_BINARY]     (default: target/release/scrivo-app)
#
# Build first: cargo build --release -p scrivo-app
# Needs: xvfb-run (xvfb, xauth), xdotool, ImageMagick (import, convert).
# Leaves target/e2e-screens/placeholder.png (the screenshot) and app.log (the app's output).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SHOTS="$ROOT/target/e2e-screens"
SHOT="$SHOTS/placeholder.png"
LOG="$SHOTS/app.log"
WINDOW_TIMEOUT_S=30   # how long the window may take to appear
RENDER_TIMEOUT_S=15   # then how long the page may take to draw
MIN_COLOURS=32        # a blank or single-colour screen has a handful at most

fail() {
  echo "app-window: FAIL: $*" >&2
  exit 1
}

# Runs inside the Xvfb display that xvfb-run made: start the app, wait, screenshot, check.
inside_display() {
  local app="$1" window="" colours=0 started
  "$app" >"$LOG" 2>&1 &
  APP_PID=$!
  trap 'kill "$APP_PID" 2>/dev/null || true; wait "$APP_PID" 2>/dev/null || true' EXIT

  started=$SECONDS
  while (( SECONDS - started < WINDOW_TIMEOUT_S )); do
    if ! kill -0 "$APP_PID" 2>/dev/null; then
      echo "--- app output ($LOG) ---" >&2; cat "$LOG" >&2
      fail "the app exited before its window appeared"
    fi
    window="$(xdotool search --onlyvisible --name '^Scrivo$' 2>/dev/null | head -n 1 || true)"
    if [[ -n "$window" ]]; then break; fi
    sleep 0.5
  done
  [[ -n "$window" ]] || fail "no window named 'Scrivo' appeared within ${WINDOW_TIMEOUT_S}s (app output in $LOG)"
  echo "app-window: window $window appeared after $(( SECONDS - started ))s"

  # The window maps before the web page has drawn: retake the screenshot until it shows content.
  started=$SECONDS
  while (( SECONDS - started < RENDER_TIMEOUT_S )); do
    sleep 1
    import -window root "$SHOT" || fail "import could not take a screenshot of display $DISPLAY"
    colours="$(convert "$SHOT" -format %k info:)" || fail "convert could not read $SHOT"
    if (( colours > MIN_COLOURS )); then break; fi
  done
  (( colours > MIN_COLOURS )) \
    || fail "the screen looks blank after ${RENDER_TIMEOUT_S}s: $colours colours in $SHOT (need more than $MIN_COLOURS)"
  kill -0 "$APP_PID" 2>/dev/null || fail "the app exited while its page was drawing (output in $LOG)"
  echo "app-window: PASS: screenshot $SHOT has $colours colours"
}

if [[ "${1:-}" == "--inside-display" ]]; then
  inside_display "$2"
  exit 0
fi

APP="${1:-$ROOT/target/release/scrivo-app}"
[[ -x "$APP" ]] || fail "no app binary at $APP (build it: cargo build --release -p scrivo-app)"
APP="$(cd "$(dirname "$APP")" && pwd)/$(basename "$APP")"

missing=()
for tool in xvfb-run xauth xdotool import convert; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if (( ${#missing[@]} > 0 )); then
  fail "missing display tools: ${missing[*]} (apt-get install xvfb xauth xdotool imagemagick)"
fi

mkdir -p "$SHOTS"
rm -f "$SHOT"
echo "app-window: starting $APP under Xvfb"
xvfb-run -a -s "-screen 0 1280x800x24" bash "${BASH_SOURCE[0]}" --inside-display "$APP"
