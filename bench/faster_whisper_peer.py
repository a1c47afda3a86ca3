"""Transcribes a benchmark manifest with faster-whisper, as the peer to the scrivo CLI.

Writes a `file<TAB>hypothesis` TSV and prints one JSON object of timings on stdout.
Scoring is left to the scrivo CLI, so both engines are judged by the same normaliser.
"""

import argparse
import json
import os
import sys
import tempfile
import time
import wave
from pathlib import Path
from typing import NoReturn

# Set before faster_whisper imports huggingface_hub, which reads it once at import: the
# benchmark must never reach the network, and fails loudly instead if anything tries.
os.environ["HF_HUB_OFFLINE"] = "1"

import faster_whisper  # noqa: E402
import numpy as np  # noqa: E402

SAMPLE_RATE = 16_000


def fail(message: str) -> NoReturn:
    sys.exit(f"faster_whisper_peer: {message}")


def read_manifest(path: Path) -> list[str]:
    """Returns the `file` cell of every row (tab-separated, header line, no quoting)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not lines:
        fail(f"{path}: empty manifest (a header line is needed)")
    header = [name.strip() for name in lines[0].split("\t")]
    if "file" not in header:
        fail(f"{path}: no column 'file' in the header (found: {', '.join(header)})")
    column = header.index("file")
    files = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if column >= len(cells) or not cells[column]:
            fail(f"{path}:{number}: no 'file' cell")
        files.append(cells[column])
    return files


def read_wav(path: Path) -> np.ndarray:
    """16-bit PCM mono 16 kHz WAV as float32 in [-1, 1]; anything else is refused rather than
    resampled, so both engines are fed identical samples."""
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            if (channels, width, rate) != (1, 2, SAMPLE_RATE):
                fail(f"{path}: need 16-bit mono {SAMPLE_RATE} Hz, got {width * 8}-bit, "
                     f"{channels} channel(s), {rate} Hz")
            frames = wav.readframes(wav.getnframes())
    except (OSError, EOFError, wave.Error) as error:
        fail(f"{path}: {error}")
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def write_hypotheses(path: Path, rows: list[tuple[str, str]]) -> None:
    # Temp file + rename, so an interrupted run never leaves a half-written TSV to be scored.
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o644)  # mkstemp's 0600 would hide the results from other users
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write("file\thypothesis\n")
            for file, text in rows:
                out.write(f"{file}\t{' '.join(text.split())}\n")
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--manifest", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True,
                        help="CTranslate2 Whisper model: model.bin, config.json, tokenizer.json")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    if args.threads < 1:
        fail("--threads must be at least 1")
    # A path that is not a directory is taken by faster-whisper for a hub model name, and a
    # missing tokenizer.json makes it fetch one from the hub: refuse both up front.
    for needed in ("model.bin", "tokenizer.json"):
        if not (args.model_dir / needed).is_file():
            fail(f"{args.model_dir}: no {needed} (a local CTranslate2 Whisper model is needed)")

    files = read_manifest(args.manifest)
    base = args.manifest.parent

    started = time.perf_counter()
    model = faster_whisper.WhisperModel(str(args.model_dir), device="cpu", compute_type="int8",
                                        cpu_threads=args.threads, num_workers=1)
    load_seconds = time.perf_counter() - started

    rows: list[tuple[str, str]] = []
    audio_seconds = 0.0
    wall_seconds = 0.0
    for file in files:
        audio = read_wav(base / file)
        audio_seconds += len(audio) / SAMPLE_RATE
        started = time.perf_counter()
        segments, _ = model.transcribe(
            audio, language="en", beam_size=1, best_of=1, temperature=0.0,
            condition_on_previous_text=False, vad_filter=False, without_timestamps=False)
        # transcribe() is lazy: decoding happens while the segments are iterated.
        text = "".join(segment.text for segment in segments).strip()
        wall_seconds += time.perf_counter() - started
        rows.append((file, text))

    write_hypotheses(args.out, rows)
    print(json.dumps({
        "engine": "faster-whisper",
        "version": faster_whisper.__version__,
        "files": len(rows),
        "audio_seconds": round(audio_seconds, 3),
        "wall_seconds": round(wall_seconds, 3),
        "load_seconds": round(load_seconds, 3),
    }))


if __name__ == "__main__":
    main()
