"""Audio check for biasing lists: sentences with software and company names, spoken by
espeak-ng, transcribed by `scrivo eval asr` without and with a biasing list of those names
(plus distractors that are never spoken). Prints term recall and WER both ways.

Usage: bias_audio.py --scrivo target/release/scrivo --cspell ../shared/eval/biasing/cspell
       [--terms 40] [--distractors 60] [--seed 7] [--work DIR]
"""

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCES = ["software-terms_software-tools.txt", "companies.txt"]
TEMPLATES = [
    "Please open {} before the meeting starts.",
    "We moved the whole build to {} last week.",
    "Ask the team whether {} is ready for the release.",
    "The report says {} handled most of the traffic.",
    "I think {} should be the first thing we try tomorrow.",
    "Our customers keep asking about {} in their emails.",
]


def candidates(cspell: Path) -> list[str]:
    """Single-word names a listener would spell one way: 5-12 letters, capitalised, not all
    capitals (espeak spells acronyms letter by letter)."""
    out = set()
    for name in SOURCES:
        for line in (cspell / name).read_text(encoding="utf-8").splitlines():
            term = line.strip()
            if re.fullmatch(r"[A-Z][a-zA-Z]{4,11}", term) and not term.isupper():
                out.add(term)
    return sorted(out)


def synthesize(text: str, path: Path) -> None:
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), text], check=True)


def evaluate(scrivo: str, manifest: Path, extra: list[str]) -> dict:
    cmd = [scrivo, "eval", "asr", "--manifest", str(manifest), "--json", *extra]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if done.returncode not in (0, 1) or not done.stdout.strip():
        sys.exit(f"bias_audio: {' '.join(cmd)} failed:\n{done.stderr}")
    return json.loads(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scrivo", required=True)
    ap.add_argument("--cspell", required=True, type=Path)
    ap.add_argument("--terms", type=int, default=40)
    ap.add_argument("--distractors", type=int, default=60)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--work", type=Path)
    ap.add_argument("--with-list-args", default="", help="more `scrivo eval asr` arguments for the run with the list, e.g. '--term-boost 0'")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    pool = candidates(args.cspell)
    chosen = rng.sample(pool, args.terms + args.distractors)
    spoken, distractors = chosen[: args.terms], chosen[args.terms :]
    work = args.work or Path(tempfile.mkdtemp(prefix="scrivo-bias-audio-"))
    work.mkdir(parents=True, exist_ok=True)
    rows = ["file\treference\tterms\tset"]
    for i, term in enumerate(spoken):
        sentence = TEMPLATES[i % len(TEMPLATES)].format(term)
        wav = work / f"term-{i:03d}.wav"
        if not wav.exists():
            synthesize(sentence, wav)
        rows.append(f"{wav.name}\t{sentence}\t{term}\tespeak-ng")
    manifest = work / "manifest.tsv"
    manifest.write_text("\n".join(rows) + "\n", encoding="utf-8")
    listing = ["name = \"audio check\"", "enabled = true", ""]
    # The company names hold spellings that differ only in case ("CarMax", "Carmax"), which a
    # list refuses as one term given twice: each goes in once, the first drawn.
    seen, kept = set(), []
    for term in spoken + distractors:
        if term.casefold() not in seen:
            seen.add(term.casefold())
            kept.append(term)
    for term in sorted(kept):
        listing += ["[[entry]]", f"term = {json.dumps(term)}", ""]
    bias_list = work / "list.toml"
    bias_list.write_text("\n".join(listing), encoding="utf-8")

    without = evaluate(args.scrivo, manifest, [])
    with_list = evaluate(args.scrivo, manifest, ["--bias-list", str(bias_list), *args.with_list_args.split()])
    print(f"{args.terms} sentences spoken by espeak-ng (seed {args.seed}), list of "
          f"{args.terms} spoken terms + {args.distractors} distractors ({len(kept)} terms once each); files in {work}")
    print(f"{'':16} {'term recall':>12} {'WER':>8}")
    for name, r in (("without list", without), ("with list", with_list)):
        print(f"{name:16} {r['term_recall'] * 100:11.1f}% {r['wer'] * 100:7.2f}%")
    gain = (with_list["term_recall"] - without["term_recall"]) * 100
    print(f"term recall gain: {gain:+.1f} points")


if __name__ == "__main__":
    main()
