"""The dictation peer: after the speech ends, faster-whisper (int8) transcribes the clip and
llama.cpp polishes the text with the same GGUF model and prompt as Scrivo's tagger,
generating greedily until <|im_end|> (at most the raw text's length plus 4 tokens). Both models are loaded first, as an app would keep
them; only the work after the speech ends is timed.

Prints one JSON object: seconds per round (p50, all rounds) and the last round's texts.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import faster_whisper_peer  # noqa: E402  (sets HF_HUB_OFFLINE before faster_whisper loads)
import llama_cpp_peer  # noqa: E402  (turns llama.cpp's weight repacking off on this CPU)
import faster_whisper  # noqa: E402
import numpy as np  # noqa: E402
from llama_cpp import Llama  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--wav", type=Path, required=True)
    ap.add_argument("--model-dir", type=Path, required=True, help="CTranslate2 tiny.en")
    ap.add_argument("--gguf", required=True, help="the polishing model Scrivo uses")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    audio = faster_whisper_peer.read_wav(args.wav)
    asr = faster_whisper.WhisperModel(str(args.model_dir), device="cpu", compute_type="int8", cpu_threads=args.threads, num_workers=1)
    llm = Llama(model_path=args.gguf, n_ctx=1024, n_threads=args.threads, n_threads_batch=args.threads, n_batch=512, verbose=False)
    end = llm.tokenize(b"<|im_end|>", add_bos=False, special=True)[0]
    vocab = llm.n_vocab()
    rounds, raw, polished = [], "", ""
    for _ in range(args.rounds):
        started = time.perf_counter()
        segments, _ = asr.transcribe(audio, language="en", beam_size=1, best_of=1, temperature=0.0,
                                     condition_on_previous_text=False, vad_filter=False)
        raw = "".join(s.text for s in segments).strip()
        prompt = llm.tokenize((llama_cpp_peer.PREFIX + raw + llama_cpp_peer.MIDDLE).encode(), add_bos=False, special=True)
        llm.reset()
        llm.eval(prompt)
        out = []
        # A polished text is no longer than the raw one: the generation is capped there (a
        # prompted 135M model may otherwise run on; the cap only makes the peer faster).
        for _ in range(len(llm.tokenize(raw.encode(), add_bos=False, special=False)) + 4):
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,))
            token = int(np.argmax(logits))
            if token == end:
                break
            out.append(token)
            llm.eval([token])
        polished = llm.detokenize(out).decode("utf-8", errors="replace").strip()
        rounds.append(time.perf_counter() - started)
    print(json.dumps({"engine": "faster-whisper int8 + llama.cpp", "seconds_p50": statistics.median(rounds),
                      "rounds": rounds, "raw": raw, "polished": polished}))


if __name__ == "__main__":
    main()
