#!/usr/bin/env bash
# Runs every fuzz target (or those named) for FUZZ_SECONDS each and prints one line per target:
# seconds, executions, executions per second, coverage (edges, features), corpus size and the
# crashes found (their inputs are in fuzz/artifacts/<target>/). Exit status 1 if any crashed.
#   FUZZ_SECONDS=60 fuzz/run.sh [target...]
set -uo pipefail
cd "$(dirname "$0")"
seconds="${FUZZ_SECONDS:-60}"
all=(wav_reader ggml_validator gguf_reader ct2_reader bias_list bias_import settings_file transcript_writers bias_corrector rule_polisher)
targets=("${@:-${all[@]}}")
[ $# -gt 0 ] || targets=("${all[@]}")
mkdir -p logs
# -a: debug assertions and overflow checks on, so arithmetic that wraps is a crash too.
cargo +nightly fuzz build -O -a --fuzz-dir . >/dev/null 2>logs/build.log || { cat logs/build.log; exit 1; }
printf '%-20s %8s %12s %9s %7s %7s %7s %s\n' target seconds execs execs/s cov ft corpus crashes
status=0
for t in "${targets[@]}"; do
  mkdir -p "corpus/$t" "artifacts/$t"
  before=$(ls "artifacts/$t" | wc -l)
  # A single allocation over 256 MB counts as a crash: no header may make the reader allocate
  # what it claims before checking it against the file.
  # This run's own log (two runs at once must not write one file), renamed when it ends.
  log="logs/$t.$$.log"
  cargo +nightly fuzz run -O -a --fuzz-dir . "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$seconds" -malloc_limit_mb=256 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="artifacts/$t/" >"$log" 2>&1
  after=$(ls "artifacts/$t" | wc -l)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1)
  mv "$log" "logs/$t.log"
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(ls "corpus/$t" | wc -l)
  crashes=$((after - before))
  [ "$crashes" -eq 0 ] || status=1
  printf '%-20s %8s %12s %9s %7s %7s %7s %s\n' "$t" "$seconds" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$corpus" "$crashes"
done
exit $status
