#!/bin/bash
# bench/sqs_bench.sh: SQS and SNS throughput of Nimbus side by side with moto_server, in one run:
#   - SQS messages/s through a queue: each connection loops SendMessage, ReceiveMessage,
#     DeleteMessage (JSON protocol, SigV4-signed, 100-byte bodies);
#   - SNS Publish/s to a topic with 10 SQS queue subscriptions (fan-out), then a check that
#     every queue holds every message.
# Prints the figures and Nimbus/moto ratios next to the target (30x); never passes or fails.
# Nimbus acknowledges a message only once it is durable (SQLite, group commit); moto keeps
# everything in memory.
#
# Environment: BENCH_SECONDS (10; 3 when BENCH_QUICK=1), BENCH_CONNS (32), BENCH_OUT
# (build/bench/sqs-last-run.jsonl). The load driver is bench/sqs/sqs_driver.c (C, no Python),
# built here on its own so a file mid-edit elsewhere in the tree does not block the run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=$ROOT/build/bench/sqs
mkdir -p "$OUT"
QUICK=${BENCH_QUICK:-0}
SECS=${BENCH_SECONDS:-$([ "$QUICK" = 1 ] && echo 3 || echo 10)}
CONNS=${BENCH_CONNS:-32}
RESULTS=${BENCH_OUT:-$ROOT/build/bench/sqs-last-run.jsonl}
TMP=$(mktemp -d /tmp/nimbus-sqs-bench.XXXXXX)
PIDS=()

cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '%s\n' "$*"; }

# ---- the driver
DRV=$OUT/sqs_driver
SRCS=$(cd "$ROOT" && for f in $(bench/client_srcs.sh); do printf 'src/%s ' "$f"; done)
if ! (cd "$ROOT" && cc -std=c17 -O2 -D_GNU_SOURCE -Isrc -pthread -ffunction-sections -fdata-sections \
        -Wall -Wextra -Wno-unused-parameter bench/sqs/sqs_driver.c $SRCS -Wl,--gc-sections -lcrypto -lm \
        -o "$DRV" 2>"$TMP/driver-build.log"); then
    say "sqs_bench: cannot build the driver:"; cat "$TMP/driver-build.log"; exit 1
fi

# ---- the servers
NIMBUS=$ROOT/build/nimbus
[ -x "$NIMBUS" ] || (cd "$ROOT" && make -s build/nimbus >/dev/null 2>&1)
[ -x "$NIMBUS" ] || { say "sqs_bench: build/nimbus is missing and cannot be built: Nimbus figures skipped"; NIMBUS=; }
MOTO=$(command -v moto_server || true)
if [ -n "$MOTO" ] && command -v pyenv >/dev/null && [[ "$MOTO" == */shims/* ]]; then
    MOTO=$(pyenv which moto_server 2>/dev/null || echo "$MOTO")
fi
[ -z "$MOTO" ] && say "sqs_bench: moto_server is missing (pip install 'moto[server]'): no ratios"

wait_http() { # port path
    for _ in $(seq 1 300); do
        curl -s -o /dev/null -m 1 "http://127.0.0.1:$1$2" && return 0
        sleep 0.05
    done
    return 1
}

start() { # name cmd...
    local name=$1; shift
    setsid "$@" >>"$TMP/$name.log" 2>&1 </dev/null &
    PIDS+=("$!")
}

PN= PM=
if [ -n "$NIMBUS" ]; then
    PN=$("$DRV" free-port)
    # The access log off, as for the other Nimbus benchmarks (moto logs to its own stderr).
    NIMBUS_ACCESS_LOG=false start nimbus "$NIMBUS" serve --host 127.0.0.1 --port "$PN" --data-dir "$TMP/nimbus-data"
    wait_http "$PN" /_nimbus/health || { say "sqs_bench: nimbus did not start:"; tail -5 "$TMP/nimbus.log"; PN=; }
fi
if [ -n "$MOTO" ]; then
    PM=$("$DRV" free-port)
    start moto "$MOTO" -H 127.0.0.1 -p "$PM"
    wait_http "$PM" /moto-api/ || { say "sqs_bench: moto_server did not start:"; tail -5 "$TMP/moto.log"; PM=; }
fi

# ---- helpers
call() { "$DRV" call --target "127.0.0.1:$1" --service "$2" --op "$3" --body "$4"; }
jfield() { sed -n "s/.*\"$1\": *\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$2" | head -1; }
xfield() { sed -n "s:.*<$1>\([^<]*\)</$1>.*:\1:p" <<<"$2" | head -1; }
urlenc() { sed -e 's/%/%25/g' -e 's/:/%3A/g' -e 's|/|%2F|g' <<<"$1"; }

declare -A R
bench_server() { # label port
    local s=$1 p=$2 r url topic arn n total
    r=$(call "$p" sqs CreateQueue '{"QueueName":"bench"}') || { say "  $s: CreateQueue failed: $r"; return; }
    url=$(jfield QueueUrl "$r")
    say "  $s: SQS send+receive+delete, $CONNS connections, ${SECS} s ..."
    r=$("$DRV" sqs --target "127.0.0.1:$p" --queue-url "$url" -c "$CONNS" -d "$SECS")
    echo "{\"server\":\"$s\",\"figure\":\"sqs_cycle\",\"result\":$r}" >>"$RESULTS"
    R[sqs.$s]=$(jfield per_sec "$r")
    [ "$(jfield errors "$r")" != 0 ] && say "    errors: $(jfield errors "$r") first: $(sed -n 's/.*"first_error":"\(.*\)"}/\1/p' <<<"$r" | cut -c1-200)"
    r=$(call "$p" sns CreateTopic 'Action=CreateTopic&Version=2010-03-31&Name=fan') || { say "  $s: CreateTopic failed: $r"; return; }
    topic=$(xfield TopicArn "$r")
    local urls=()
    for i in $(seq 0 9); do
        r=$(call "$p" sqs CreateQueue "{\"QueueName\":\"fan$i\"}")
        urls+=("$(jfield QueueUrl "$r")")
        r=$(call "$p" sqs GetQueueAttributes "{\"QueueUrl\":\"${urls[$i]}\",\"AttributeNames\":[\"QueueArn\"]}")
        arn=$(jfield QueueArn "$r")
        call "$p" sns Subscribe "Action=Subscribe&Version=2010-03-31&TopicArn=$(urlenc "$topic")&Protocol=sqs&Endpoint=$(urlenc "$arn")&Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true" >/dev/null ||
            say "  $s: Subscribe failed"
    done
    say "  $s: SNS Publish with fan-out to 10 queues, $CONNS connections, ${SECS} s ..."
    r=$("$DRV" sns --target "127.0.0.1:$p" --topic-arn "$topic" -c "$CONNS" -d "$SECS")
    echo "{\"server\":\"$s\",\"figure\":\"sns_fanout10\",\"result\":$r}" >>"$RESULTS"
    R[sns.$s]=$(jfield per_sec "$r")
    n=$(jfield ops "$r")
    [ "$(jfield errors "$r")" != 0 ] && say "    errors: $(jfield errors "$r") first: $(sed -n 's/.*"first_error":"\(.*\)"}/\1/p' <<<"$r" | cut -c1-200)"
    total=0
    for u in "${urls[@]}"; do
        r=$(call "$p" sqs GetQueueAttributes "{\"QueueUrl\":\"$u\",\"AttributeNames\":[\"ApproximateNumberOfMessages\"]}")
        total=$((total + $(jfield ApproximateNumberOfMessages "$r")))
    done
    # Publishes still in flight when the clock stopped may add a few.
    say "    delivered: $total messages in the 10 queues for $n+ publishes ($((n * 10)) expected at least)"
    R[sns_ok.$s]=$total/$((n * 10))
}

: >"$RESULTS"
say "== SQS/SNS: $CONNS connections, ${SECS} s per figure, $(nproc) CPUs shared by server and driver; loopback"
[ -n "$PN" ] && bench_server nimbus "$PN"
[ -n "$PM" ] && bench_server moto "$PM"

ratio() { # a b
    [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "n/a" }' || echo n/a
}
say ""
printf '%-42s %14s %14s %10s %8s\n' "figure" "nimbus" "moto" "ratio" "target"
printf '%-42s %14s %14s %10s %8s\n' "SQS send+receive+delete (messages/s)" "${R[sqs.nimbus]:-n/a}" "${R[sqs.moto]:-n/a}" \
    "$(ratio "${R[sqs.nimbus]:-}" "${R[sqs.moto]:-}")" ">= 30x"
printf '%-42s %14s %14s %10s %8s\n' "SNS publish, fan-out to 10 queues (pub/s)" "${R[sns.nimbus]:-n/a}" "${R[sns.moto]:-n/a}" \
    "$(ratio "${R[sns.nimbus]:-}" "${R[sns.moto]:-}")" ">= 30x"
say ""
say "results: $RESULTS"
