#!/usr/bin/env bash
# Fuzzes the domain's parsers for SECONDS per target (default 20): call files (call_file),
# request bodies of the API (application_json), registry CSV files (registry_csv). See fuzz/.
#
# Fails if any target panics, hangs (an input taking over 10 s) or runs out of memory; the
# input is left in fuzz/artifacts/TARGET/, and `cargo test -p bandi-domain --test corpus`
# replays it on stable. Once fixed, move it to fuzz/corpus/TARGET/ so it stays fixed.
#
# Uses the nightly toolchain if rustup has one, else stable with RUSTC_BOOTSTRAP=1 (the
# fuzzer's instrumentation needs -Z flags; FUZZ_STABLE=1 forces that). Installs cargo-fuzz if missing. New inputs the
# fuzzer finds go to a scratch folder: fuzz/corpus holds only the committed seeds.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
targets=(call_file application_json registry_csv)
start=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi
toolchain=()
if [[ -z "${FUZZ_STABLE:-}" ]] && command -v rustup >/dev/null && rustup toolchain list | grep -q '^nightly'; then
  toolchain=(+nightly)
else
  command -v rustup >/dev/null && toolchain=(+stable)
  export RUSTC_BOOTSTRAP=1
fi
echo "fuzz: cargo ${toolchain[*]} fuzz, ${seconds}s per target${RUSTC_BOOTSTRAP:+ (stable, RUSTC_BOOTSTRAP=1)}"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cargo "${toolchain[@]}" fuzz build
built=$(date +%s)

failed=()
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  echo "fuzz: $t"
  if ! cargo "${toolchain[@]}" fuzz run "$t" "$work/$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1; then
    failed+=("$t")
  fi
done

now=$(date +%s)
echo "fuzz: built in $((built - start)) s, fuzzed in $((now - built)) s"
if ((${#failed[@]})); then
  echo "fuzz: FAILED: ${failed[*]} (inputs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: no crash in ${targets[*]}"
