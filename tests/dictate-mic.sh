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
( sleep 1; paplay --latency-msec=50 "$CLIP" ) &
PLAYER=$!
OUT="$(SCRIVO_DICTATIONS_DIR="$RUN/dictations" SCRIVO_BIAS_DIR="$RUN/lists" "$SCRIVO" dictate --seconds 14 2>"$RUN/dictate.err")" \
  || fail "scrivo dictate failed: $(cat "$RUN/dictate.err")"
wait "$PLAYER"
echo "dictate-mic: text: $OUT"
grep -q "$EXPECTED" <<<"$(tr '[:upper:]' '[:lower:]' <<<"$OUT" | tr -d '.,?!')" || fail "expected \"$EXPECTED\" in the text"
ls "$RUN"/dictations/dictation-*.wav >/dev/null 2>&1 || fail "the recording was not saved"
echo "dictate-mic: PASS ($(grep -o 'recorded.*' "$RUN/dictate.err" | head -1))"
