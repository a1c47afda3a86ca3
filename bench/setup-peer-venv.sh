#!/usr/bin/env bash
# Creates (or refreshes) the Python venv that runs the peers: bench/faster_whisper_peer.py
# and bench/llama_cpp_peer.py.
# Usage: bench/setup-peer-venv.sh VENV_DIR
# Idempotent: reinstalls only when requirements-peer.txt changed since the last install.
set -euo pipefail

if [[ $# -ne 1 ]]; then
    echo "usage: $0 VENV_DIR" >&2
    exit 2
fi
venv=$1
requirements="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/requirements-peer.txt"
stamp="$venv/.requirements.sha256"

# A venv whose interpreter went away (e.g. the base Python was upgraded) is rebuilt.
if [[ -f "$venv/pyvenv.cfg" ]] && ! "$venv/bin/python" -c '' 2>/dev/null; then
    echo "venv at $venv is broken; recreating" >&2
    rm -rf "$venv"
fi

# bin/pip, not bin/python: a venv made without ensurepip has python but no pip.
if [[ ! -x "$venv/bin/pip" ]]; then
    if ! python3 -m venv "$venv"; then
        # Debian's python3 has no ensurepip until python3-venv is installed; the retry
        # completes the half-made venv the failed attempt left.
        apt-get update
        apt-get install -y python3-venv
        python3 -m venv "$venv"
    fi
fi

want=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    exit 0
fi

"$venv/bin/python" -m pip install --quiet --require-virtualenv -r "$requirements"
"$venv/bin/python" -m pip check
# Written last, so an interrupted install is retried on the next run.
echo "$want" > "$stamp"
