#!/bin/sh
# s3_lifecycle_bench.sh: GET/PUT throughput while a lifecycle pass runs over a bucket of
# 1,000,000 objects, against the same load without a pass (target: >= 0.8x).
#
# The million objects are loaded straight into a fresh data dir's s3.db (metadata rows only:
# 10% under exp/ expire, 10% under ia/ move to STANDARD_IA, 80% under keep/ are scanned and
# left; none is read by the load), so the run takes a few minutes, not hours of PUTs. The load
# (bench/loadgen: 1 KiB PUTs, 1 KiB GETs, 64 connections) goes to another bucket.
#
# Environment: LC_OBJECTS (1000000), LC_SECONDS per figure (8), LC_CONNS (64).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${LC_OBJECTS:-1000000}
SECS=${LC_SECONDS:-8}
CONNS=${LC_CONNS:-64}
PY=/usr/bin/python3
LG="$ROOT/build/bench/loadgen"
[ -x "$ROOT/build/nimbus" ] || make -C "$ROOT" build/nimbus >/dev/null
make -s -f "$ROOT/bench/Makefile" >/dev/null
TMP=$(mktemp -d /tmp/nimbus-lcbench.XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
PORT=$("$LG" --free-port)
EP="http://127.0.0.1:$PORT"

start() {
    "$ROOT/build/nimbus" serve --port "$PORT" --data-dir "$TMP/data" >>"$TMP/server.log" 2>&1 &
    PID=$!
    "$LG" --wait -T "127.0.0.1:$PORT" --path /_nimbus/health -d 30 >/dev/null
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }

# 1. schema + buckets through the API, then the bulk load with the server stopped
start
"$LG" -T "127.0.0.1:$PORT" -o mkbucket -b bench -n 1 >/dev/null
"$LG" -T "127.0.0.1:$PORT" -o mkbucket -b lcbench -n 1 >/dev/null
stop
echo "loading $N objects into bucket lcbench ..."
t0=$(date +%s)
"$PY" - "$TMP/data/s3/s3.db" "$N" <<'EOF'
import sqlite3, sys, time, json, os
db, n = sys.argv[1], int(sys.argv[2])
old = time.time() - 60 * 86400  # created 60 days ago
h = sqlite3.connect(db)
h.execute("PRAGMA synchronous=OFF")
h.execute("PRAGMA journal_mode=WAL")
def rows():
    for i in range(n):
        m = i % 10
        pfx, size = ("exp/", 100) if m == 0 else ("ia/", 200000) if m == 1 else ("keep/", 100)
        yield ("lcbench", ("%s%08d" % (pfx, i)).encode(), "null", 1, 0, size, "d41d8cd98f00b204e9800998ecf8427e",
               old + i * 1e-3, "STANDARD", "000000000000", '{"ContentType":"binary/octet-stream"}')
h.executemany("INSERT INTO objects(bucket,key,version_id,is_latest,delete_marker,size,etag,"
              "last_modified,storage_class,owner,attrs) VALUES(?,?,?,?,?,?,?,?,?,?,?)", rows())
h.commit()
h.close()
EOF
echo "loaded in $(( $(date +%s) - t0 )) s"
start
"$PY" - "$EP" <<'EOF'
import sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.put_bucket_lifecycle_configuration(Bucket="lcbench", LifecycleConfiguration={"Rules": [
    {"ID": "exp", "Status": "Enabled", "Filter": {"Prefix": "exp/"}, "Expiration": {"Days": 30}},
    {"ID": "ia", "Status": "Enabled", "Filter": {"Prefix": "ia/"},
     "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]}]})
EOF
# the GET keys exist before any figure
"$LG" -T "127.0.0.1:$PORT" -o put -s 1K -k 1000 -n 1000 -c 16 >/dev/null

figure() { # op label -> req/s
    "$LG" -T "127.0.0.1:$PORT" -o "$1" -s 1K -k 1000 -c "$CONNS" -d "$SECS" --label "$2" 2>/dev/null |
        grep '^{' | "$PY" -c 'import json,sys; print("%.0f" % json.load(sys.stdin).get("rps", 0))'
}
status() { curl -s "$EP/_nimbus/s3/lifecycle" | "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["in_progress"], d["scanned"], d["actions"])'; }

PUT0=$(figure put put.idle); GET0=$(figure get get.idle)
curl -s -X POST "$EP/_nimbus/s3/lifecycle/run" >/dev/null
T0=$(date +%s.%N)
sleep 0.5
PUT1=$(figure put put.pass); S1=$(status)
GET1=$(figure get get.pass); S2=$(status)
while [ "$(status | cut -d' ' -f1)" = "True" ]; do sleep 0.5; done
T1=$(date +%s.%N)
"$PY" - "$PUT0" "$GET0" "$PUT1" "$GET1" "$S1" "$S2" "$T0" "$T1" "$N" "$(status)" <<'EOF'
import sys
p0, g0, p1, g1 = map(float, sys.argv[1:5])
s1, s2, t0, t1, n, fin = sys.argv[5], sys.argv[6], float(sys.argv[7]), float(sys.argv[8]), int(sys.argv[9]), sys.argv[10]
print("lifecycle pass over %d objects: %.1f s (finished: scanned, actions = %s)" % (n, t1 - t0, " ".join(fin.split()[1:])))
print("  pass in progress at the end of the PUT figure: %s, of the GET figure: %s" % (s1.split()[0], s2.split()[0]))
print("  PUT 1 KiB req/s: %7.0f idle  %7.0f during the pass  = %.2fx (target >= 0.8x)" % (p0, p1, p1 / p0 if p0 else 0))
print("  GET 1 KiB req/s: %7.0f idle  %7.0f during the pass  = %.2fx (target >= 0.8x)" % (g0, g1, g1 / g0 if g0 else 0))
EOF
