#!/usr/bin/env python3
"""Polishing: `scrivo eval polish` against llama.cpp producing the same output.

Scrivo polishes the first N Disfl-QA dev sentences with the given engine and saves its outputs;
the peer (llama_cpp_peer.py, llama-cpp-python on the same GGUF file, same prompt, same thread
count) then generates exactly those outputs token by token. Rounds alternate (ours, peer, ...)
so drift in machine speed hits both. Prints per-sentence latency p50 of each, their ratio, and
each process's peak RSS (/usr/bin/time), with Scrivo's quality figures.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path


def timed(cmd: list[str], rss_file: Path, env: dict | None = None) -> tuple[dict, int]:
    out = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss_file), *cmd], capture_output=True, text=True, env=env)
    if out.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return json.loads(out.stdout), int(rss_file.read_text().split()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scrivo", required=True)
    ap.add_argument("--pairs", required=True)
    ap.add_argument("--model", required=True, help="the polishing GGUF file (the one Scrivo loads)")
    ap.add_argument("--peer-python", required=True)
    ap.add_argument("--engine", default="tagger")
    ap.add_argument("--limit", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    peer_script = Path(__file__).with_name("llama_cpp_peer.py")
    env_note = f"{args.threads} threads"
    # candle sizes its thread pool from RAYON_NUM_THREADS.
    scrivo_env = {**os.environ, "RAYON_NUM_THREADS": str(args.threads)}
    ours_p50, peer_p50, ours_rss, peer_rss = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        outputs = work / "outputs.tsv"
        for r in range(args.rounds):
            ours, rss = timed([args.scrivo, "eval", "polish", "--pairs", args.pairs, "--limit", str(args.limit), "--engine", args.engine,
                               "--save-outputs", str(outputs), "--json"], work / "ours.rss", scrivo_env)
            ours_p50.append(ours["latency_ms_p50"])
            ours_rss.append(rss)
            peer, rss = timed([args.peer_python, str(peer_script), "--model", args.model, "--outputs", str(outputs),
                               "--threads", str(args.threads)], work / "peer.rss")
            peer_p50.append(peer["latency_ms_p50"])
            peer_rss.append(rss)
            print(f"round {r + 1}: scrivo p50 {ours_p50[-1]:.1f} ms, llama.cpp p50 {peer_p50[-1]:.1f} ms", file=sys.stderr)
    ratios = [o / p for o, p in zip(ours_p50, peer_p50)]
    print(f"polishing, {ours['pairs']} Disfl-QA dev sentences, {env_note}, engine {ours['engine']}")
    print(f"{'':<22}{'scrivo':<14}llama.cpp")
    print(f"{'latency p50 ms':<22}{statistics.median(ours_p50):<14.1f}{statistics.median(peer_p50):.1f}")
    print(f"{'latency p95 ms':<22}{ours['latency_ms_p95']:<14.1f}{peer['latency_ms_p95']:.1f}")
    print(f"{'peak RSS MB (max)':<22}{max(ours_rss) / 1024:<14.0f}{max(peer_rss) / 1024:.0f}")
    print(f"latency ratio scrivo/llama.cpp: median {statistics.median(ratios):.2f} (per round: {' '.join(f'{x:.2f}' for x in ratios)})")
    print(f"peer tokens generated {peer['tokens_generated']}, its own greedy choice agreed on {peer['greedy_agreement'] * 100:.1f}%")
    print(f"scrivo quality: wer_to_fluent {ours['wer_to_fluent']:.3f} (identity {ours['identity_wer']:.3f}), "
          f"inserted {ours['inserted_words']}, content lost {ours['content_words_lost'] * 100:.2f}%")


if __name__ == "__main__":
    main()
