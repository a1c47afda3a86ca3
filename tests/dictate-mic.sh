#!/usr/bin/env bash
# End to end from a microphone: a fake PulseAudio microphone (tests/lib/fake-mic.sh) that cpal's
# default ALSA device hears.
# `scrivo dictate` records while the clip plays; its polished text must hold the clip's words.
#
#   tests/dictate-mic.sh [SCRIVO_BINARY] [CLIP.wav]
#
# Needs: pulseaudio, pulseaudio-utils (pactl, pacat, paplay), libasound2-plugins.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCRIVO="${1:-$ROOT/target/release/scrivo}"
CLIP="${2:-${SCRIVO_TEST_DATA:-$HOME/.cache/scrivo/test-data}/jfk.wav}"
EXPECTED="ask not what your country can do for you"

fail() { echo "dictate-mic: FAIL: $*" >&2; exit 1; }
[ -f "$CLIP" ] || fail "clip $CLIP not found"
# shellcheck source=lib/fake-mic.sh
. "$ROOT/tests/lib/fake-mic.sh"

RUN="$(mktemp -d)"
cleanup() {
  fake_mic_stop
  rm -rf "$RUN"
}
trap cleanup EXIT
fake_mic_start "$RUN" || fail "no fake microphone"

echo "dictate-mic: input devices:"; "$SCRIVO" devices | sed 's/^/  /'
export SCRIVO_HISTORY_DIR="$RUN/history" SCRIVO_BIAS_DIR="$RUN/lists" SCRIVO_SETTINGS="$RUN/settings.toml"
norm() { tr '[:upper:]' '[:lower:]' | tr -d '.,?!'; }

# 1. Hands-free: the voice activity detector ends the recording when the speech ends.
( sleep 1; fake_mic_play "$CLIP" ) &
PLAYER=$!
START=$(date +%s)
OUT="$("$SCRIVO" dictate --until-silence --seconds 30 2>"$RUN/dictate.err")" \
  || fail "scrivo dictate failed: $(cat "$RUN/dictate.err")"
ELAPSED=$(( $(date +%s) - START ))
wait "$PLAYER"
echo "dictate-mic: text: $OUT"
grep -q "$EXPECTED" <<<"$(norm <<<"$OUT")" || fail "expected \"$EXPECTED\" in the text"
grep -q "speech ended" "$RUN/dictate.err" || fail "the recording did not end on silence: $(cat "$RUN/dictate.err")"
ls "$RUN"/history/audio/dictation-*.wav >/dev/null 2>&1 || fail "the recording was not saved"
"$SCRIVO" history list | grep -q "transcribed" || fail "the dictation is not in the history: $("$SCRIVO" history list)"
grep -q "^partial " "$RUN/dictate.err" || fail "no partial text while speaking: $(cat "$RUN/dictate.err")"
grep "^partial " "$RUN/dictate.err" | sed -n '1p;$p' | sed 's/^/  /'
grep "^first partial" "$RUN/dictate.err" | sed 's/^/  /'
echo "dictate-mic: PASS hands-free ($(grep -o '[0-9.]* s recorded.*), saved' "$RUN/dictate.err" | head -1); ${ELAPSED} s in all)"

# 2. The audio server dies mid-dictation: what was recorded is saved and transcribed.
( sleep 1; fake_mic_play "$CLIP" ) &
PLAYER=$!
( sleep 7; fake_mic_kill ) &
KILLER=$!
OUT="$("$SCRIVO" dictate --seconds 20 2>"$RUN/dictate2.err")" \
  || fail "scrivo dictate failed after the audio server died: $(cat "$RUN/dictate2.err")"
wait "$KILLER" || true
wait "$PLAYER" 2>/dev/null || true
echo "dictate-mic: text after the server died: $OUT"
grep -q "fellow americans" <<<"$(norm <<<"$OUT")" || fail "expected the words before the server died in the text"
grep -q "input device lost" "$RUN/dictate2.err" || fail "the lost device was not reported: $(tr "\r" "\n" < "$RUN/dictate2.err" | tail -5)"
LAST="$("$SCRIVO" history list --limit 1 --json)"
grep -q '"status": "transcribed"' <<<"$LAST" || fail "the last dictation is not transcribed in the history: $LAST"
grep -qi "fellow americans" <<<"$LAST" || fail "the history entry lacks the text: $LAST"
echo "dictate-mic: PASS server killed ($(grep -o '[0-9.]* s recorded.*), saved' "$RUN/dictate2.err" | head -1))"
