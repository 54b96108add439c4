# What the benchmark scripts (bench.sh, bench-compare.sh, bench-compare-wrk.sh) share; each
# sources it. Not a script of its own.

# A free TCP port on 127.0.0.1 among the hundred from $1: each script has its own range, so
# that two of them can run at once.
free_port() {
  local p
  for p in $(seq "$1" $(( $1 + 99 ))); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "no free port in $1-$(( $1 + 99 ))" >&2
  exit 1
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Waits for the server at port $1 (process $2, logging to $3) to answer GET /api/v1/health;
# stops the script, with the server's log, if the process dies or 30 s pass.
wait_healthy() {
  local _
  # Every 5 ms: bench.sh times the start-up by it.
  for _ in $(seq 1 6000); do
    curl -sf -o /dev/null "http://127.0.0.1:$1/api/v1/health" && return
    kill -0 "$2" 2>/dev/null || { cat "$3" >&2; exit 1; }
    sleep 0.005
  done
  echo "the server on port $1 did not answer within 30 s" >&2
  exit 1
}

# One field of the wrk-result line that scripts/wrk-submit.lua prints: wrk_field FILE NAME.
wrk_field() { sed -n "s/.*wrk-result.* $2=\([^ ]*\).*/\1/p" "$1"; }
