#!/usr/bin/env bash
# bench/s3_stream_mem.sh: is the server's memory flat while it streams a huge object? PUTs
# then GETs one 5 GiB object (the client generates the bytes on the fly from a 1 MiB pattern
# and checks them on the way back; nothing is stored on the client's disk), sampling the
# server's VmRSS every 200 ms, and prints the idle RSS and the maximum during each transfer.
#
# Env: BENCH_STREAM_SIZE (5G; e.g. 256M for a quick look). Loopback only; the server and its
# temp data dir go away on exit. Prints figures; never fails on them.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SIZE=${BENCH_STREAM_SIZE:-5G}
LG=$ROOT/build/bench/loadgen
NIMBUS=$ROOT/build/nimbus

TMP=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-stream.XXXXXX") || exit 1
SERVER= SAMPLER=
cleanup() {
    local p i
    for p in $SAMPLER $SERVER; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null; done
    for p in $SAMPLER $SERVER; do
        for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

make -s -f bench/Makefile || exit 1
if [ ! -x "$NIMBUS" ] && ! make -s build/nimbus; then
    echo "s3_stream_mem: build/nimbus does not build right now"
    exit 1
fi
export NIMBUS_ACCESS_LOG=false

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }

# Sample the server's RSS every 200 ms into $1 until killed (bounded: 2 hours at most).
sample() {
    local out=$1 i
    for ((i = 0; i < 36000; i++)); do
        rss_kib "$SERVER" >>"$out" || break
        sleep 0.2
    done
}

# Run one transfer with the sampler on; print the maximum RSS seen.
phase() {
    local name=$1; shift
    : >"$TMP/rss-$name"
    sample "$TMP/rss-$name" &
    SAMPLER=$!
    "$LG" -T "127.0.0.1:$PORT" -c 1 -n 1 --timeout 3600 --label "nimbus $name $SIZE" "$@" |
        grep -v '^{' | sed 's/^/    /'
    kill "$SAMPLER" 2>/dev/null
    wait "$SAMPLER" 2>/dev/null
    SAMPLER=
    rss_kib "$SERVER" >>"$TMP/rss-$name"
    MAX[$name]=$(sort -n "$TMP/rss-$name" | tail -1)
    N[$name]=$(wc -l <"$TMP/rss-$name")
}

PORT=$("$LG" --free-port)
setsid "$NIMBUS" serve --host 127.0.0.1 --port "$PORT" --data-dir "$TMP/data" >"$TMP/nimbus.log" 2>&1 </dev/null &
SERVER=$!
if ! "$LG" --wait -T "127.0.0.1:$PORT" --path /_nimbus/health -d 30 >/dev/null; then
    tail -5 "$TMP/nimbus.log"
    exit 1
fi
st=$("$LG" -T "127.0.0.1:$PORT" -o mkbucket -b stream -n 1 2>/dev/null | grep '^{' |
    sed -n 's/.*"statuses":"\([0-9]*\).*/\1/p')
if [ "$st" != 200 ] && [ "$st" != 409 ]; then
    echo "s3_stream_mem: CreateBucket answered HTTP ${st:-nothing}: S3 is not served yet; memory while streaming: n/a"
    exit 0
fi

declare -A MAX N
sleep 0.5
IDLE=$(rss_kib "$SERVER")
echo "== streaming one $SIZE object through Nimbus (pid $SERVER), RSS sampled every 200 ms"
phase put -o put -s "$SIZE" -k 1 --key-prefix huge -b stream
phase get -o get -s "$SIZE" -k 1 --key-prefix huge -b stream --verify
echo ""
printf '%-34s %10s\n' "server RSS" "MiB"
printf '%-34s %10s\n' "idle, after CreateBucket" "$(mib "$IDLE")"
printf '%-34s %10s   (%s samples)\n' "max during PUT $SIZE" "$(mib "${MAX[put]:-0}")" "${N[put]}"
printf '%-34s %10s   (%s samples)\n' "max during GET $SIZE" "$(mib "${MAX[get]:-0}")" "${N[get]}"
peak=${MAX[put]:-0}
[ "${MAX[get]:-0}" -gt "$peak" ] && peak=${MAX[get]}
echo "growth over idle: $(mib $((peak - IDLE))) MiB while moving $SIZE (target: flat, i.e. independent of the object size)"
exit 0
