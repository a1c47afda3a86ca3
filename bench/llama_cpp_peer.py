"""The polishing peer: llama.cpp (llama-cpp-python) producing Scrivo's polished output.

For every row of a `disfluent<TAB>fluent<TAB>output` TSV (written by `scrivo eval polish
--save-outputs`), the same GGUF model gets the same prompt as Scrivo's tagger (system message,
the text as the user turn) and then produces Scrivo's output after `<|im_start|>assistant\n`
token by token, greedy: at each step the model runs once and its argmax is read, and the token
fed back is the output's own, so the peer does exactly the work of generating that output.
llama-cpp-python keeps the key/value cache of the longest prompt prefix shared with the
previous call (done here by hand), which gives the peer the same fixed-prefix cache Scrivo has.

Prints one JSON object: per-sentence latency p50/p95 in ms, sentences, tokens generated and how
often the peer's own greedy choice agreed with the output.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import llama_cpp
import numpy as np
from llama_cpp import Llama

# llama.cpp's repacked CPU weights ("extra buffer types", --no-repack turns them off) crash in
# llama_decode on this machine's AVX-512/AMX CPU for any batch of two or more tokens (seen
# with llama-cpp-python 0.3.36, for the Q8_0 and the original Q4_1 file alike). The plain CPU
# buffers work; llama-cpp-python has no argument for it, so its default model parameters are
# wrapped.
_default_model_params = llama_cpp.llama_model_default_params


def _model_params_without_repack():
    params = _default_model_params()
    params.use_extra_bufts = False
    return params


llama_cpp.llama_cpp.llama_model_default_params = _model_params_without_repack

# Scrivo's tagger prompt (crates/llm/src/tagger.rs, PREFIX and MIDDLE).
PREFIX = "<|im_start|>system\nRepeat the user's words without fillers, repetitions or false starts.<|im_end|>\n<|im_start|>user\n"
MIDDLE = "<|im_end|>\n<|im_start|>assistant\n"


def read_rows(path: Path) -> list[tuple[str, str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    if "disfluent" not in header or "output" not in header:
        sys.exit(f"llama_cpp_peer: {path}: need `disfluent` and `output` columns, found {header}")
    d, o = header.index("disfluent"), header.index("output")
    return [(cells[d], cells[o]) for cells in (line.split("\t") for line in lines[1:] if line.strip())]


def percentile(sorted_values: list[float], p: float) -> float:
    rank = round(p / 100 * (len(sorted_values) - 1))
    return sorted_values[min(rank, len(sorted_values) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", required=True, help="the GGUF file Scrivo uses")
    ap.add_argument("--outputs", required=True, help="TSV from scrivo eval polish --save-outputs")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    rows = read_rows(Path(args.outputs))
    llm = Llama(model_path=args.model, n_ctx=1024, n_threads=args.threads, n_threads_batch=args.threads,
                n_batch=512, logits_all=False, verbose=False)
    end = llm.tokenize(b"<|im_end|>", add_bos=False, special=True)
    vocab = llm.n_vocab()
    latencies, generated, agreed = [], 0, 0
    for disfluent, output in rows:
        prompt = llm.tokenize((PREFIX + disfluent + MIDDLE).encode(), add_bos=False, special=True)
        target = llm.tokenize(output.encode(), add_bos=False, special=False) + end
        started = time.perf_counter()
        # Reuse the cached positions shared with the previous prompt (at least the fixed
        # prefix); eval() drops the cache past n_tokens before it runs.
        shared = 0
        for a, b in zip(llm.input_ids[:llm.n_tokens], prompt[:-1]):
            if a != b:
                break
            shared += 1
        llm.n_tokens = shared
        llm.eval(prompt[shared:])
        for token in target:
            # The last position's logits (logits_all is off, so only that row exists).
            logits = np.ctypeslib.as_array(llm._ctx.get_logits(), shape=(vocab,))
            choice = int(np.argmax(logits))
            agreed += choice == token
            llm.eval([token])
        latencies.append((time.perf_counter() - started) * 1000)
        generated += len(target)
    latencies.sort()
    print(json.dumps({
        "engine": "llama.cpp (llama-cpp-python)",
        "sentences": len(rows),
        "tokens_generated": generated,
        "greedy_agreement": agreed / max(generated, 1),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        "latency_ms_mean": statistics.fmean(latencies),
    }))


if __name__ == "__main__":
    main()
