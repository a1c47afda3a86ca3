# A microphone that plays what a test plays into it: a private PulseAudio server with a null
# sink whose monitor is the default input, so cpal's default ALSA device hears the sink.
# Source it, then:
#   fake_mic_start DIR     starts the server (socket and logs in DIR), exports PULSE_SERVER
#   fake_mic_play CLIP     plays a WAV into the sink (blocks until it ends)
#   fake_mic_kill          kills the server abruptly (a device lost mid-recording)
#   fake_mic_stop          stops the server and its keeper (safe to call twice)
# Needs: pulseaudio, pulseaudio-utils (pactl, pacat, paplay), libasound2-plugins.

FAKE_MIC_DIR=""
FAKE_MIC_KEEPER=""

fake_mic_start() {
  FAKE_MIC_DIR="$1"
  local tool
  for tool in pulseaudio pactl pacat paplay; do
    command -v "$tool" >/dev/null || { echo "fake-mic: $tool is not installed (make deps installs it)" >&2; return 1; }
  done
  cat >"$FAKE_MIC_DIR/fake-mic.pa" <<PA
load-module module-native-protocol-unix auth-anonymous=1 socket=$FAKE_MIC_DIR/native
load-module module-null-sink sink_name=vspk rate=48000 sink_properties=device.description=VirtualSpeaker
set-default-sink vspk
set-default-source vspk.monitor
PA
  mkdir -p "$FAKE_MIC_DIR/pulse-home"
  HOME="$FAKE_MIC_DIR/pulse-home" XDG_RUNTIME_DIR="$FAKE_MIC_DIR" pulseaudio -n -F "$FAKE_MIC_DIR/fake-mic.pa" \
    --daemonize=yes --exit-idle-time=-1 --log-target=file:"$FAKE_MIC_DIR/pulse.log" \
    || { echo "fake-mic: pulseaudio did not start: $(cat "$FAKE_MIC_DIR/pulse.log" 2>/dev/null)" >&2; return 1; }
  export PULSE_SERVER="unix:$FAKE_MIC_DIR/native"
  local _
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
  pactl info >/dev/null 2>&1 || { echo "fake-mic: pulseaudio does not answer" >&2; return 1; }
  # Keep the sink clocked at low latency, or its monitor lags and drops the start.
  pacat --latency-msec=20 --raw --format=s16le --rate=16000 --channels=1 /dev/zero &
  FAKE_MIC_KEEPER=$!
  sleep 2.5
}

fake_mic_play() {
  paplay --latency-msec=50 "$1"
}

fake_mic_kill() {
  pkill -KILL -f "pulseaudio -n -F $FAKE_MIC_DIR/fake-mic.pa"
}

fake_mic_stop() {
  [ -n "$FAKE_MIC_KEEPER" ] && kill "$FAKE_MIC_KEEPER" 2>/dev/null || true
  FAKE_MIC_KEEPER=""
  [ -n "$FAKE_MIC_DIR" ] && PULSE_SERVER="unix:$FAKE_MIC_DIR/native" pactl exit 2>/dev/null || true
}
