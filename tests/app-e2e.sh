#!/usr/bin/env bash
# End-to-end tests of the desktop app (tests/app_e2e.py): the real app under Xvfb, driven by
# WebDriver (tauri-driver + WebKitWebDriver), hearing a fake PulseAudio microphone, with its
# own history, lists and settings in a temporary folder and the checkout's models.
#
#   tests/app-e2e.sh APP_BINARY CLIP.wav PYTHON
#
# PYTHON has selenium (make builds it). Screenshots go to target/e2e-screens/.
# Needs: xvfb-run, tauri-driver (cargo install tauri-driver), WebKitWebDriver (webkit2gtk-driver),
# espeak-ng and the fake microphone's tools.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fail() { echo "app-e2e: FAIL: $*" >&2; exit 1; }

if [[ "${1:-}" == "--inside-display" ]]; then
  shift
  APP="$1" CLIP="$2" PYTHON="$3" RUN="$4"
  tauri-driver --port 4444 --native-port 4445 >"$RUN/tauri-driver.log" 2>&1 &
  DRIVER=$!
  trap 'kill "$DRIVER" 2>/dev/null || true' EXIT
  for _ in $(seq 50); do curl -sf http://127.0.0.1:4444/status >/dev/null 2>&1 && break; sleep 0.2; done
  "$PYTHON" "$ROOT/tests/app_e2e.py" --app "$APP" --clip "$CLIP" --work "$RUN/work" \
    --lists-dir "$SCRIVO_BIAS_DIR" --settings "$SCRIVO_SETTINGS" --shots "$ROOT/target/e2e-screens" ${E2E_ONLY:+--only $E2E_ONLY}
  exit $?
fi

APP="${1:?usage: tests/app-e2e.sh APP_BINARY CLIP.wav PYTHON}"
CLIP="${2:?clip}"
PYTHON="${3:?python with selenium}"
[[ -x "$APP" ]] || fail "no app binary at $APP"
[[ -f "$CLIP" ]] || fail "clip $CLIP not found"
for tool in xvfb-run tauri-driver WebKitWebDriver espeak-ng curl xdotool; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (make deps installs it)"
done
APP="$(cd "$(dirname "$APP")" && pwd)/$(basename "$APP")"
CLIP="$(cd "$(dirname "$CLIP")" && pwd)/$(basename "$CLIP")"

# shellcheck source=lib/fake-mic.sh
. "$ROOT/tests/lib/fake-mic.sh"
RUN="$(mktemp -d)"
cleanup() {
  fake_mic_stop
  if [[ -n "${KEEP_E2E:-}" ]]; then echo "app-e2e: kept $RUN"; else rm -rf "$RUN"; fi
}
trap cleanup EXIT
mkdir -p "$RUN/work" "$RUN/lists" "$RUN/home" "$RUN/history"
fake_mic_start "$RUN" || fail "no fake microphone"
# The app starts on a damaged settings file and a damaged history database: it must say so,
# keep both aside and work (app_e2e.py's "startup" check).
printf 'memory_budget_mb = "lots"\n' >"$RUN/settings.toml"
head -c 8192 /dev/urandom >"$RUN/history/history.sqlite3"

export SCRIVO_MODELS_DIR="${SCRIVO_MODELS_DIR:-$ROOT/models}"
export SCRIVO_HISTORY_DIR="$RUN/history" SCRIVO_BIAS_DIR="$RUN/lists" SCRIVO_SETTINGS="$RUN/settings.toml"
export XDG_CONFIG_HOME="$RUN/home/.config" XDG_DATA_HOME="$RUN/home/.local/share"
rm -rf "$ROOT/target/e2e-screens"
mkdir -p "$ROOT/target/e2e-screens"
echo "app-e2e: starting $APP under Xvfb"
set +e
xvfb-run -a -s "-screen 0 1280x800x24" bash "${BASH_SOURCE[0]}" --inside-display "$APP" "$CLIP" "$PYTHON" "$RUN"
status=$?
set -e
if (( status != 0 )); then
  echo "--- tauri-driver and app output ---" >&2
  tail -n 60 "$RUN/tauri-driver.log" >&2 || true
  fail "see above (screenshots in target/e2e-screens/)"
fi
