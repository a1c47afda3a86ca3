#!/usr/bin/env python3
"""Batch transcription: `scrivo eval asr` against faster-whisper on the same manifest.

Both engines run tiny.en on CPU with the same thread count, greedy, in alternating rounds
(ours, peer, ours, peer, ...) so drift in machine speed hits both. Reports the median
transcription wall time (model load excluded, as each engine reports it), the time ratio,
each process's peak RSS (/usr/bin/time) and both WERs from the same normaliser (the peer's
hypotheses are scored by `scrivo eval asr --hypotheses`).
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def timed(cmd: list[str], workdir: Path, name: str) -> tuple[dict, int]:
    """Runs cmd under /usr/bin/time; returns its JSON stdout and its peak RSS in KiB."""
    rss_file = workdir / f"{name}.rss"
    out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{name} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout), int(rss_file.read_text().split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scrivo", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--model", default="whisper-tiny.en-q8_0")
    ap.add_argument("--peer-python", required=True)
    ap.add_argument("--peer-model-dir", required=True)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    peer_script = Path(__file__).with_name("faster_whisper_peer.py")

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        hyp = work / "peer.tsv"
        ours_wall, peer_wall, ours_rss, peer_rss = [], [], [], []
        ours = peer = None
        for r in range(args.rounds):
            # The same number of threads for both: Scrivo's as it splits them by default, one
            # job per thread (see ARCHITECTURE.md, "Jobs and threads").
            ours, rss = timed([args.scrivo, "eval", "asr", "--manifest", args.manifest, "--model", args.model,
                               "--jobs", str(args.threads), "--threads", "1", "--json"], work, "scrivo")
            ours_wall.append(ours["wall_seconds"])
            ours_rss.append(rss)
            peer, rss = timed([args.peer_python, str(peer_script), "--manifest", args.manifest, "--model-dir",
                               args.peer_model_dir, "--threads", str(args.threads), "--out", str(hyp)], work, "peer")
            peer_wall.append(peer["wall_seconds"])
            peer_rss.append(rss)
            print(f"round {r + 1}: scrivo {ours_wall[-1]:.2f} s, faster-whisper {peer_wall[-1]:.2f} s", file=sys.stderr)
        peer_score = json.loads(subprocess.run([args.scrivo, "eval", "asr", "--manifest", args.manifest, "--hypotheses",
                                                str(hyp), "--json"], capture_output=True, text=True, check=True).stdout)

    ratios = [o / p for o, p in zip(ours_wall, peer_wall)]
    rows = [
        ("engine", "scrivo (" + ours["engine"] + ")", f"faster-whisper {peer['version']} int8"),
        ("files / audio s", f"{ours['files']} / {ours['audio_seconds']:.1f}", f"{peer['files']} / {peer['audio_seconds']:.1f}"),
        ("threads", f"{args.threads} ({args.threads} jobs x 1)", str(args.threads)),
        ("wall s (median)", f"{statistics.median(ours_wall):.2f}", f"{statistics.median(peer_wall):.2f}"),
        ("wall s (all runs)", " ".join(f"{w:.2f}" for w in ours_wall), " ".join(f"{w:.2f}" for w in peer_wall)),
        ("peak RSS MB (max)", f"{max(ours_rss) / 1024:.0f}", f"{max(peer_rss) / 1024:.0f}"),
        ("WER", f"{ours['wer'] * 100:.2f}%", f"{peer_score['wer'] * 100:.2f}%"),
    ]
    width = max(len(r[1]) for r in rows) + 2
    for label, a, b in rows:
        print(f"{label:<20}{a:<{width}}{b}")
    print(f"time ratio scrivo/faster-whisper: median {statistics.median(ratios):.2f} "
          f"(per round: {' '.join(f'{x:.2f}' for x in ratios)})")
    print(f"peak RSS ratio: {max(ours_rss) / max(peer_rss):.2f}; "
          f"WER difference: {(ours['wer'] - peer_score['wer']) * 100:+.2f} points")


if __name__ == "__main__":
    main()
