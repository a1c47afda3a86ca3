#!/usr/bin/env bash
# End to end from a microphone: a private PulseAudio server with a null sink whose monitor is
# the default input, so cpal's default ALSA device hears whatever is played into the sink.
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
for tool in pulseaudio pactl pacat paplay; do
  command -v "$tool" >/dev/null || fail "$tool is not installed (make deps installs it)"
done
[ -f "$CLIP" ] || fail "clip $CLIP not found"

RUN="$(mktemp -d)"
KEEPER=""
cleanup() {
  [ -n "$KEEPER" ] && kill "$KEEPER" 2>/dev/null || true
  PULSE_SERVER="unix:$RUN/native" pactl exit 2>/dev/null || true
  rm -rf "$RUN"
}
trap cleanup EXIT

cat >"$RUN/fake-mic.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$RUN/native
load-module module-null-sink sink_name=vspk rate=48000 sink_properties=device.description=VirtualSpeaker
set-default-sink vspk
set-default-source vspk.monitor
PA
mkdir -p "$RUN/home"
HOME="$RUN/home" XDG_RUNTIME_DIR="$RUN" pulseaudio -n -F "$RUN/fake-mic.pa" --daemonize=yes --exit-idle-time=-1 \
  --log-target=file:"$RUN/pulse.log" || fail "pulseaudio did not start: $(cat "$RUN/pulse.log" 2>/dev/null)"
export PULSE_SERVER="unix:$RUN/native"
for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
pactl info >/dev/null 2>&1 || fail "pulseaudio does not answer"
# Keep the sink clocked at low latency, or its monitor lags and drops the start.
pacat --latency-msec=20 --raw --format=s16le --rate=16000 --channels=1 /dev/zero &
KEEPER=$!
sleep 2.5

echo "dictate-mic: input devices:"; "$SCRIVO" devices | sed 's/^/  /'
export SCRIVO_HISTORY_DIR="$RUN/history" SCRIVO_BIAS_DIR="$RUN/lists" SCRIVO_SETTINGS="$RUN/settings.toml"
norm() { tr '[:upper:]' '[:lower:]' | tr -d '.,?!'; }

# 1. Hands-free: the voice activity detector ends the recording when the speech ends.
( sleep 1; paplay --latency-msec=50 "$CLIP" ) &
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
( sleep 1; paplay --latency-msec=50 "$CLIP" ) &
PLAYER=$!
( sleep 7; pkill -KILL -f "pulseaudio -n -F $RUN/fake-mic.pa" ) &
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
