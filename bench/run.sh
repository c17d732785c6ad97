#!/usr/bin/env bash
# bench/run.sh: measures Nimbus side by side with its peers in one run (moto_server for the
# AWS APIs; nginx serving the same bytes as static files for S3 reads) and prints a table of
# figures, ratios and targets. Benchmarks print; they never fail on a figure.
#
# Env: BENCH_SECONDS (10; 2 with BENCH_QUICK=1), BENCH_QUICK=1 (short smoke run: small sizes,
# no 1 GiB object, no 100,000 keys), BENCH_CONNS (64), BENCH_THREADS (loadgen threads, 1),
# BENCH_MOTO_LIST_KEYS (10000: moto loads keys slowly), BENCH_OUT (results, JSON lines),
# BENCH_ONLY (comma-separated figures to run: start,sts,put1k,get1k,big,list; default all),
# BENCH_MOTO=0 (leave moto out).
# Loopback only; every process it starts and its temp dir go away on exit.
set -u -o pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then SECS=${BENCH_SECONDS:-2}; else SECS=${BENCH_SECONDS:-10}; fi
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-1}
STARTS=5
if [ "$QUICK" = 1 ]; then
    PUT_KEYS=1000 GET_KEYS=100 BIG=32M BIG_LABEL="32 MiB" LIST_KEYS=2000 LIST_DIRS=10
    MOTO_LIST_KEYS=${BENCH_MOTO_LIST_KEYS:-500}
else
    PUT_KEYS=10000 GET_KEYS=1000 BIG=1G BIG_LABEL="1 GiB" LIST_KEYS=100000 LIST_DIRS=100
    MOTO_LIST_KEYS=${BENCH_MOTO_LIST_KEYS:-10000}
fi
[ "$MOTO_LIST_KEYS" -gt "$LIST_KEYS" ] && MOTO_LIST_KEYS=$LIST_KEYS
LG=$ROOT/build/bench/loadgen
NIMBUS=$ROOT/build/nimbus
OUT=${BENCH_OUT:-$ROOT/build/bench/last-run.jsonl}
ONLY=${BENCH_ONLY:-}
only() { [ -z "$ONLY" ] || [[ ",$ONLY," == *",$1,"* ]]; }

# ---- temp dir, processes, cleanup ----
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nimbus-bench.XXXXXX") || exit 1
chmod 755 "$TMP" # nginx workers drop root and must read the files below
PIDS=()
cleanup() {
    local p i
    for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null; done
    for p in "${PIDS[@]}"; do
        for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$p" 2>/dev/null
    done
    wait 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

say() { printf '%s\n' "$*"; }
note() { NOTES+=("$*"); }
NOTES=()
declare -A R   # figure.server -> value, or "n/a" (the reason goes to the notes)

# Start a server in its own process group (setsid execs in place: $! is the server, and its
# group id), logs in the temp dir. Sets STARTED_PID.
start_bg() {
    local name=$1; shift
    setsid "$@" >>"$TMP/$name.log" 2>&1 </dev/null &
    STARTED_PID=$!
    PIDS+=("$STARTED_PID")
}

# Drop a dead process from the cleanup list: its id may be someone else's later.
forget() {
    local p keep=()
    for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done
    PIDS=("${keep[@]}")
}

# Field of a loadgen JSON line (flat by design). first_error is cut off first: it holds a
# server's text, which must not be mistaken for a field.
jget() {
    local line=${1%%,\"first_error\":*}
    sed -n "s/.*\"$2\":\"\{0,1\}\([^,\"}]*\).*/\1/p" <<<"$line"
}

# Run loadgen; print its human line; keep its JSON in $LAST and in $OUT.
LAST=
lg() {
    local out err
    err=$TMP/lg.err
    out=$("$LG" -t "$THREADS" "$@" 2>"$err")
    LAST=$(grep '^{' <<<"$out" | tail -1)
    [ -n "$LAST" ] && printf '%s\n' "$LAST" >>"$OUT"
    grep -v '^{' <<<"$out" | sed 's/^/    /'
    grep -v '^loadgen: first error' "$err" | head -3 | sed 's/^/    /'
    grep '^loadgen: first error' "$err" | cut -c1-200 | sed 's/^/    /'
    return 0
}

# Figure from the last loadgen run: field $2 if anything succeeded, else n/a.
keep() {
    local key=$1 field=$2 ok st
    ok=$(jget "$LAST" ok)
    if [ -z "$LAST" ]; then
        na "$key" "the load generator did not run"
    elif [ "${ok:-0}" -gt 0 ]; then
        R[$key]=$(jget "$LAST" "$field")
        [ "$(jget "$LAST" errors)" != 0 ] && note "$key: $(jget "$LAST" errors) errors during the run (statuses $(jget "$LAST" statuses))"
    else
        st=$(jget "$LAST" first_error_status)
        na "$key" "$([ "${st:-0}" = 0 ] && echo "no answer in time" || echo "every request got HTTP $st")"
    fi
}

# Mark a figure n/a; the reason goes to the notes under the table.
na() {
    R[$1]="n/a"
    note "$1 n/a: $2"
}

# One untimed request first: moto loads each service's code on its first call (about a
# second), which is start-up cost, not throughput.
warm() {
    "$LG" -t 1 -c 1 -n 1 --timeout 60 "$@" >/dev/null 2>&1
}

# Can this server do S3 at all? mkbucket answers 200 (or 409 when it exists). A server
# without S3 yet answers 501 NotImplemented: every S3 figure then reads n/a.
s3_ready() {
    local port=$1 bucket=$2 st
    LAST=$("$LG" -T "127.0.0.1:$port" -o mkbucket -b "$bucket" -n 1 2>/dev/null | grep '^{')
    st=$(jget "$LAST" statuses)
    st=${st%%:*}
    case "$st" in
        200|409) return 0 ;;
    esac
    S3_WHY="HTTP ${st:-none}"
    [ "$st" = 501 ] && S3_WHY="501 NotImplemented"
    return 1
}

median() { sort -g | awk '{v[NR]=$1} END {if (NR) print v[int((NR+1)/2)]; else print ""}'; }

isnum() { [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]]; }

# ---- build and peers ----
say "== building"
if ! make -s -f bench/Makefile >"$TMP/build.log" 2>&1; then
    tail -5 "$TMP/build.log"
    if [ -x "$LG" ]; then
        say "bench: the load generator does not build right now; using the last one built"
    else
        say "bench: cannot build the load generator"
        exit 1
    fi
fi
HAVE_NIMBUS=1
if [ ! -x "$NIMBUS" ]; then
    if ! make -s build/nimbus >"$TMP/make.log" 2>&1; then
        tail -5 "$TMP/make.log"
        say "bench: build/nimbus does not build right now; measuring the peers only"
        HAVE_NIMBUS=0
    fi
fi
export NIMBUS_ACCESS_LOG=false # nginx runs with access_log off too: like for like

MOTO=$(command -v moto_server || true)
[ "${BENCH_MOTO:-1}" = 0 ] && MOTO=
if [ -n "$MOTO" ] && command -v pyenv >/dev/null && [[ "$MOTO" == */shims/* ]]; then
    # Run the real script, not pyenv's shim, whose own start-up would be counted against moto.
    MOTO=$(pyenv which moto_server 2>/dev/null || echo "$MOTO")
fi
[ -z "$MOTO" ] && [ "${BENCH_MOTO:-1}" != 0 ] && say "bench: moto_server is missing (pip install 'moto[server]'): its figures and ratios are skipped"

NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ -z "$NGINX" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "== installing nginx (Debian's package) for the static-file comparison"
    # We want the binary only, not a system service on port 80: keep the package from starting
    # one, as Docker images do, unless the machine already has such a policy.
    POLICY_MADE=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && POLICY_MADE=1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends nginx >"$TMP/apt.log" 2>&1 ||
        { apt-get update >>"$TMP/apt.log" 2>&1 && apt-get install -y --no-install-recommends nginx >>"$TMP/apt.log" 2>&1; } ||
        tail -3 "$TMP/apt.log"
    [ "$POLICY_MADE" = 1 ] && rm -f /usr/sbin/policy-rc.d
    NGINX=$(command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
fi
[ -z "$NGINX" ] && say "bench: nginx is missing (apt-get install nginx, as root): its figures and ratios are skipped"

: >"$OUT"
CPUS=$(nproc)
say "== Nimbus benchmarks: $CONNS connections, ${SECS} s per figure, loadgen $THREADS thread(s), $CPUS CPUs shared by server and loadgen; loopback"
[ "$QUICK" = 1 ] && say "   (BENCH_QUICK=1: smoke run, small sizes; no 1 GiB object, no 100,000 keys)"

# ---- 1. exec -> first served request, idle RSS ----
startup() { # name probe-path cmd... (the port is substituted for @PORT@, a fresh dir for @DIR@)
    local name=$1 path=$2; shift 2
    local i port dir args a ms=() rss=()
    for i in $(seq "$STARTS"); do
        port=$("$LG" --free-port)
        dir="$TMP/start-$name-$i"
        mkdir -p "$dir"
        args=()
        for a in "$@"; do a=${a//@PORT@/$port}; args+=("${a//@DIR@/$dir}"); done
        LAST=$("$LG" --startup -T "127.0.0.1:$port" --path "$path" --label "$name" -d 60 \
            --log "$TMP/start-$name.log" -- "${args[@]}" 2>>"$TMP/start-$name.log" | grep '^{')
        printf '%s\n' "$LAST" >>"$OUT"
        if [ "$(jget "$LAST" status)" != 0 ] && [ -n "$LAST" ]; then
            ms+=("$(jget "$LAST" startup_ms)")
            rss+=("$(jget "$LAST" rss_kib)")
        fi
        rm -rf "$dir"
    done
    if [ "${#ms[@]}" = 0 ]; then
        na start.$name "no answer within 60 s (log below)"
        R[rss.$name]="n/a"
        tail -3 "$TMP/start-$name.log" | sed 's/^/    /'
        return
    fi
    R[start.$name]=$(printf '%s\n' "${ms[@]}" | median)
    R[rss.$name]=$(printf '%s\n' "${rss[@]}" | median | awk '{printf "%.2f", $1/1024}')
    say "    $name: exec -> first response $(printf '%s ' "${ms[@]}")ms (median ${R[start.$name]}); RSS median ${R[rss.$name]} MiB"
}

if only start; then
say "== start-up: exec -> first served request, then idle RSS (x$STARTS, median)"
[ "$HAVE_NIMBUS" = 1 ] && startup nimbus /_nimbus/health "$NIMBUS" serve --host 127.0.0.1 --port @PORT@ --data-dir @DIR@
[ -n "$MOTO" ] && startup moto /moto-api/ "$MOTO" -H 127.0.0.1 -p @PORT@
fi

# ---- long-running servers for the load figures ----
declare -A SPID
serve_nimbus() {
    start_bg nimbus "$NIMBUS" serve --host 127.0.0.1 --port "$PN" --data-dir "$TMP/nimbus-data"
    SPID[nimbus]=$STARTED_PID
    "$LG" --wait -T "127.0.0.1:$PN" --path /_nimbus/health -d 30 >/dev/null
}
serve_moto() {
    start_bg moto "$MOTO" -H 127.0.0.1 -p "$PM"
    SPID[moto]=$STARTED_PID
    "$LG" --wait -T "127.0.0.1:$PM" --path /moto-api/ -d 60 >/dev/null
}
serve_nginx() {
    start_bg nginx "$NGINX" -e "$TMP/nginx/logs/error.log" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -g 'daemon off;'
    SPID[nginx]=$STARTED_PID
    "$LG" --wait -T "127.0.0.1:$PG" --path /bench/k0 -d 10 >/dev/null
}

# After a run: is server $1 still alive? If it died, say so with its last log lines, keep
# its log in build/bench/, and start it again on the same data so later figures still run.
survived() {
    local s=$1 what=$2 rc keep_log
    kill -0 "${SPID[$s]}" 2>/dev/null && return 0
    wait "${SPID[$s]}" 2>/dev/null
    rc=$?
    forget "${SPID[$s]}"
    keep_log=$ROOT/build/bench/$s-died.log
    cp "$TMP/$s.log" "$keep_log" 2>/dev/null
    say "    !! $s exited (status $rc$([ $rc -gt 128 ] && echo ", signal $((rc - 128))")) during $what; log: $keep_log"
    tail -3 "$TMP/$s.log" | sed 's/^/       /'
    note "$s exited (status $rc) during $what, and was restarted; log in $keep_log"
    serve_"$s" || say "    !! $s does not come back"
    return 1
}

# One figure: loadgen against server $2; field $3 of the result becomes figure $1 (n/a if
# the server died during the run: its rate would be meaningless).
fig() {
    local key=$1 s=$2 field=$3
    shift 3
    lg "$@"
    keep "$key" "$field"
    survived "$s" "$key" || na "$key" "$s died during the run"
}

# Load keys k0..k<n-1> (untimed) into server $1 with loadgen args "$@". If the server dies
# meanwhile, load again once after its restart (PUTs are idempotent); note a shortfall.
load_keys() {
    local s=$1 n=$2 what=$3 try ok
    shift 3
    for try in 1 2; do
        lg "$@" -n "$n" --label "$s load $n keys"
        ok=$(jget "$LAST" ok)
        survived "$s" "loading $n keys" && break
    done
    [ "${ok:-0}" -lt "$n" ] && note "$what: only ${ok:-0} of $n keys were loaded into $s"
    return 0
}

PN= PM= PG=
if [ "$HAVE_NIMBUS" = 1 ]; then
    PN=$("$LG" --free-port)
    serve_nimbus || { tail -5 "$TMP/nimbus.log"; PN=; }
fi
if [ -n "$MOTO" ]; then
    PM=$("$LG" --free-port)
    serve_moto || { tail -5 "$TMP/moto.log"; PM=; }
fi
if [ -n "$NGINX" ]; then
    PG=$("$LG" --free-port)
    mkdir -p "$TMP/www/bench" "$TMP/www/bench-big" "$TMP/nginx/logs" "$TMP/nginx/tmp"
    # Same bytes as the loadgen PUTs, at the same paths as S3's path-style URLs.
    "$LG" --emit 1K >"$TMP/www/bench/k0"
    for i in $(seq 1 $((GET_KEYS - 1))); do cp "$TMP/www/bench/k0" "$TMP/www/bench/k$i"; done
    cat >"$TMP/nginx/nginx.conf" <<EOF
# nginx as a static file server, stock settings except: no access log (Nimbus runs without
# one too) and unlimited keep-alive requests (the default 1000 would force reconnects).
worker_processes auto;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path $TMP/nginx/tmp; proxy_temp_path $TMP/nginx/tmp;
    fastcgi_temp_path $TMP/nginx/tmp; uwsgi_temp_path $TMP/nginx/tmp; scgi_temp_path $TMP/nginx/tmp;
    server { listen 127.0.0.1:$PG; root $TMP/www; }
}
EOF
    serve_nginx || { tail -5 "$TMP/nginx.log" "$TMP/nginx/logs/error.log"; PG=; }
fi

# ---- 2. STS GetCallerIdentity ----
if only sts; then
say "== STS GetCallerIdentity: $CONNS connections, $SECS s"
for s in nimbus moto; do
    port=$([ $s = nimbus ] && echo "$PN" || echo "$PM")
    [ -z "$port" ] && continue
    warm -T "127.0.0.1:$port" -o sts
    fig sts.$s $s rps -T "127.0.0.1:$port" -o sts -c "$CONNS" -d "$SECS" --label "$s sts"
done
fi

# ---- 3. S3 ----
S3N=0 S3M=0
if [ -n "$PN" ]; then
    if s3_ready "$PN" bench; then S3N=1; else
        say "== nimbus S3: $S3_WHY on CreateBucket: S3 figures n/a"
        for f in put1k get1k putbig getbig list; do R[$f.nimbus]="n/a"; done
        note "nimbus S3 figures n/a: CreateBucket answered $S3_WHY"
    fi
fi
if [ -n "$PM" ]; then
    if s3_ready "$PM" bench; then S3M=1; else
        say "== moto S3: $S3_WHY on CreateBucket"
        for f in put1k get1k putbig getbig list; do R[$f.moto]="n/a"; done
        note "moto S3 figures n/a: CreateBucket answered $S3_WHY"
    fi
fi
s3port() { case $1 in nimbus) [ "$S3N" = 1 ] && echo "$PN" ;; moto) [ "$S3M" = 1 ] && echo "$PM" ;; esac; }

if only put1k; then
say "== S3 PUT 1 KiB objects: $CONNS connections, $SECS s, keys rotate over $PUT_KEYS"
for s in nimbus moto; do
    port=$(s3port $s); [ -z "$port" ] && continue
    warm -T "127.0.0.1:$port" -o put -s 1K -b bench
    fig put1k.$s $s rps -T "127.0.0.1:$port" -o put -s 1K -k "$PUT_KEYS" -b bench -c "$CONNS" -d "$SECS" --label "$s put 1KiB"
done
fi

if only get1k; then
say "== S3 GET 1 KiB objects: $CONNS connections, $SECS s, over $GET_KEYS keys (nginx: the same files)"
for s in nimbus moto; do
    port=$(s3port $s); [ -z "$port" ] && continue
    # Make sure every key read exists, whatever the PUT run reached (moto is slow).
    load_keys $s "$GET_KEYS" get1k.$s -T "127.0.0.1:$port" -o put -s 1K -b bench -c 16
    fig get1k.$s $s rps -T "127.0.0.1:$port" -o get -s 1K -k "$GET_KEYS" -b bench -c "$CONNS" -d "$SECS" --label "$s get 1KiB"
done
if [ -n "$PG" ]; then
    fig get1k.nginx nginx rps -T "127.0.0.1:$PG" -o raw -s 1K -k "$GET_KEYS" -b bench -c "$CONNS" -d "$SECS" --label "nginx get 1KiB"
fi
fi

if only big; then
say "== S3 $BIG_LABEL object: PUT x2, GET x3, one connection (streamed from/to a 1 MiB buffer)"
if [ -n "$PG" ]; then "$LG" --emit "$BIG" >"$TMP/www/bench-big/big0"; fi
for s in nimbus moto; do
    port=$(s3port $s); [ -z "$port" ] && continue
    s3_ready "$port" bench-big || continue
    n_put=2 n_get=3
    [ $s = moto ] && n_put=1 n_get=2 # moto keeps objects in memory and is slow: fewer rounds
    fig putbig.$s $s mbps -T "127.0.0.1:$port" -o put -s "$BIG" -k 1 --key-prefix big -b bench-big -n $n_put -c 1 --timeout 900 --label "$s put $BIG_LABEL"
    fig getbig.$s $s mbps -T "127.0.0.1:$port" -o get -s "$BIG" -k 1 --key-prefix big -b bench-big -n $n_get -c 1 --timeout 900 --label "$s get $BIG_LABEL"
done
if [ -n "$PG" ]; then
    fig getbig.nginx nginx mbps -T "127.0.0.1:$PG" -o raw -s "$BIG" -k 1 --key-prefix big -b bench-big -n 3 -c 1 --timeout 900 --label "nginx get $BIG_LABEL"
    rm -f "$TMP/www/bench-big/big0"
fi
fi

if only list; then
say "== S3 ListObjectsV2 delimiter=/ over $LIST_KEYS keys in $LIST_DIRS prefixes: $CONNS connections, $SECS s"
for s in nimbus moto; do
    port=$(s3port $s); [ -z "$port" ] && continue
    s3_ready "$port" bench-list || continue
    keys=$LIST_KEYS
    if [ $s = moto ] && [ "$MOTO_LIST_KEYS" -lt "$LIST_KEYS" ]; then
        keys=$MOTO_LIST_KEYS
        note "moto lists $MOTO_LIST_KEYS keys, not $LIST_KEYS: loading keys into moto runs at a few hundred PUT/s (BENCH_MOTO_LIST_KEYS)"
    fi
    load_keys $s "$keys" list.$s -T "127.0.0.1:$port" -o put -s 16 --dirs "$LIST_DIRS" -b bench-list -c "$CONNS"
    warm -T "127.0.0.1:$port" -o list -b bench-list
    fig list.$s $s rps -T "127.0.0.1:$port" -o list -b bench-list -c "$CONNS" -d "$SECS" --label "$s list"
done
fi

# ---- table ----
fmt() { # a figure as printed
    local v=${R[$1]:-}
    if [ -z "$v" ]; then echo "-"; elif isnum "$v"; then awk -v v="$v" 'BEGIN {printf (v >= 100 ? "%.0f" : "%.2f"), v}'; else echo "$v"; fi
}
ratio() { # a/b as "12.3x", empty when either is not a number
    local a=${R[$1]:-} b=${R[$2]:-}
    isnum "$a" && isnum "$b" || return 0
    awk -v a="$a" -v b="$b" 'BEGIN { if (b == 0) exit; r = a / b; printf (r >= 10 ? "%.0fx" : "%.2fx"), r }'
}
vs() { # "<ratio> <peer>" pieces for throughput figures
    local f=$1 out="" r p
    for p in nginx moto; do
        r=$(ratio "$f.nimbus" "$f.$p")
        [ -n "$r" ] && out+="${out:+, }$r $p"
    done
    echo "${out:--}"
}
less() { # peer/nimbus for time and memory figures: "170x less than moto"
    local r
    r=$(ratio "$1.moto" "$1.nimbus")
    [ -n "$r" ] && echo "$r less than moto" || echo "-"
}

say ""
say "Nimbus $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null) vs peers ($(date -u +%Y-%m-%dT%H:%MZ); ${SECS} s per load figure, $CONNS connections, $CPUS CPUs shared with the load generator)"
printf '%-44s %12s %12s %12s   %-26s %s\n' "figure" "nimbus" "moto" "nginx" "nimbus vs peers" "target"
row() { # label key vs-text target
    printf '%-44s %12s %12s %12s   %-26s %s\n' "$1" "$(fmt "$2.nimbus")" "$(fmt "$2.moto")" "$(fmt "$2.nginx")" "$3" "$4"
}
row "exec -> first response, ms (median of $STARTS)" start "$(less start)" "<= 10 ms"
row "idle RSS, MiB (median of $STARTS)" rss "$(less rss)" "< 6 MiB"
row "STS GetCallerIdentity, req/s" sts "$(vs sts)" ">= 30x moto"
row "S3 PUT 1 KiB, req/s" put1k "$(vs put1k)" ">= 50x moto"
row "S3 GET 1 KiB, req/s" get1k "$(vs get1k)" ">= 0.7x nginx"
row "S3 PUT $BIG_LABEL, MB/s" putbig "$(vs putbig)" "-"
row "S3 GET $BIG_LABEL, MB/s" getbig "$(vs getbig)" ">= 0.9x nginx"
row "S3 ListObjectsV2 delim, $LIST_KEYS keys, req/s" list "$(vs list)" "-"
say ""
say "Notes: MB/s = 10^6 bytes of object data per second. Latency percentiles, error counts and"
say "every run's JSON: $OUT. Targets are goals to read, not pass/fail checks."
for n in "${NOTES[@]}"; do say "  - $n"; done
exit 0
