"""End of speech to final polished text: Scrivo against the peer pipeline, in one run.

Scrivo: `scrivo eval dictation` dictates the clip (simulated input: VAD, partial passes each
second, models preloaded as in `scrivo dictate`) and reports the median time from the end of
an utterance's audio to its polished text. The peer: `dictation_peer.py` (faster-whisper int8,
then llama.cpp on the same GGUF file), models loaded first, timed after the speech ends.
Prints both and the ratio.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--scrivo", required=True)
    ap.add_argument("--wav", required=True)
    ap.add_argument("--peer-python", required=True)
    ap.add_argument("--peer-model-dir", required=True)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--rounds", type=int, default=6)
    args = ap.parse_args()
    here = Path(__file__).resolve().parent
    minutes = 11.0 * args.rounds / 60.0
    ours = json.loads(subprocess.run([args.scrivo, "eval", "dictation", "--wav", args.wav, "--minutes", f"{minutes:.3f}",
                                      "--idle-seconds", "1", "--json"], check=True, capture_output=True, text=True).stdout)
    peer = json.loads(subprocess.run([args.peer_python, str(here / "dictation_peer.py"), "--wav", args.wav, "--model-dir", args.peer_model_dir,
                                      "--gguf", args.gguf, "--rounds", str(args.rounds)], check=True, capture_output=True, text=True).stdout)
    s, p = ours["final_seconds_p50"], peer["seconds_p50"]
    print(f"end of speech -> final polished text, median of {ours['utterances']} / {len(peer['rounds'])} utterances:")
    print(f"  scrivo {s:.3f} s   peer (faster-whisper int8 + llama.cpp) {p:.3f} s   ratio {s / p:.2f}")
    print(f"  scrivo: {ours['last_text']}")
    if ours["last_text"].strip() == "":
        sys.exit("dictation_bench: scrivo produced no text")


if __name__ == "__main__":
    main()
