#!/bin/sh
# s3_lifecycle_bench.sh: GET/PUT throughput while a lifecycle pass runs over a bucket of
# 1,000,000 objects, against the same load with the pass held (target: >= 0.8x).
#
# The objects are loaded straight into a fresh data dir's s3.db (metadata rows only, keys
# obj/00000000.., created 60 days ago), so the run takes minutes, not hours of PUTs. By i % 10:
# 0-2 are 100 B and expire (rule "exp": ObjectSizeLessThan 200, 30 days), 3-5 are 200 KB and
# move to STANDARD_IA (rule "ia": ObjectSizeGreaterThan 128 KiB, 30 days), 6-9 are 1 KB; rule
# "all" (every object, 365 days) is due for none. So the pass reads and decides every object
# and acts on 60% of them, deletes and transitions interleaved along the key order.
#
# The load (bench/loadgen: 1 KiB PUTs, 1 KiB GETs, LC_CONNS connections) goes to another
# bucket, in windows of LC_SECONDS that alternate between the pass running and the pass held
# (POST /_nimbus/s3/lifecycle/pause, .../resume), ordered run,held / held,run / run,held ... so
# that drift in the machine's other load falls on both sides alike. ratio = mean over the run
# windows / mean over the held ones; one PUT and one GET window before the pass starts are
# shown as a check on the held ones. Then the pass is resumed and left to finish, unloaded.
#
# Environment: LC_OBJECTS (1000000), LC_SECONDS per window (5), LC_ROUNDS (4; each round has
# a PUT and a GET window of each kind), LC_CONNS (64).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${LC_OBJECTS:-1000000}
SECS=${LC_SECONDS:-5}
ROUNDS=${LC_ROUNDS:-4}
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
import sqlite3, sys, time
db, n = sys.argv[1], int(sys.argv[2])
old = time.time() - 60 * 86400  # created 60 days ago
h = sqlite3.connect(db)
h.execute("PRAGMA synchronous=OFF")
h.execute("PRAGMA journal_mode=WAL")
def rows():
    for i in range(n):
        m = i % 10
        size = 100 if m < 3 else 200000 if m < 6 else 1000
        yield ("lcbench", b"obj/%08d" % i, "null", 1, 0, size, "d41d8cd98f00b204e9800998ecf8427e",
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
    {"ID": "exp", "Status": "Enabled", "Filter": {"ObjectSizeLessThan": 200},
     "Expiration": {"Days": 30}},
    {"ID": "ia", "Status": "Enabled", "Filter": {"ObjectSizeGreaterThan": 131072},
     "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}]},
    {"ID": "all", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": 365}}]})
EOF
# the GET keys exist before any figure
"$LG" -T "127.0.0.1:$PORT" -o put -s 1K -k 1000 -n 1000 -c 16 >/dev/null

figure() { # op -> req/s
    "$LG" -T "127.0.0.1:$PORT" -o "$1" -s 1K -k 1000 -c "$CONNS" -d "$SECS" 2>/dev/null |
        grep '^{' | "$PY" -c 'import json,sys; print("%.0f" % json.load(sys.stdin).get("rps", 0))'
}
status() { # -> "in_progress scanned actions"
    curl -s "$EP/_nimbus/s3/lifecycle" |
        "$PY" -c 'import json,sys; d=json.load(sys.stdin); print(d["in_progress"], d["scanned"], d["actions"])'
}
admin() { curl -s -X POST "$EP/_nimbus/s3/lifecycle/$1" >/dev/null; }
now() { date +%s.%N; }

# 2. alternate windows; OUT gets one line per window: kind op req/s in_progress_after
#    scanned_before scanned_after actions_before actions_after
OUT="$TMP/windows"
: >"$OUT"
window() { # kind op
    s0=$(status)
    rps=$(figure "$2")
    echo "$1 $2 $rps $(status) $s0" >>"$OUT"
}
window before put # one pair before the pass starts: a check on the held windows
window before get
T0=$(now)
admin run
sleep 0.5
HELD=0
round=1
while [ "$round" -le "$ROUNDS" ]; do
    if [ $((round % 2)) = 1 ]; then order="run held"; else order="held run"; fi
    for kind in $order; do
        if [ "$kind" = held ]; then admin pause; sleep 0.2; h0=$(now); fi
        window "$kind" put
        window "$kind" get
        if [ "$kind" = held ]; then
            HELD=$(echo "$HELD + $(now) - $h0" | bc)
            admin resume
        fi
    done
    [ "$(status | cut -d' ' -f1)" = True ] || break # the pass finished: no more run windows
    round=$((round + 1))
done
T1=$(now)
S1=$(status)
while [ "$(status | cut -d' ' -f1)" = True ]; do sleep 0.5; done
T2=$(now)
"$PY" - "$OUT" "$N" "$SECS" "$T0" "$T1" "$T2" "$HELD" "$S1" "$(status)" <<'EOF'
import sys
out, n, secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
t0, t1, t2, held = map(float, sys.argv[4:8])
s1, fin = sys.argv[8].split(), sys.argv[9].split()
w = [l.split() for l in open(out)]
# kind op rps in_progress scanned actions in_progress0 scanned0 actions0
print("lifecycle pass over %d objects: %.1f s (%.1f s of it held by the bench); read %s, acted on %s"
      % (n, t2 - t0, held, fin[1], fin[2]))
run = [x for x in w if x[0] == "run"]
live = [x for x in run if x[3] == "True"]
if len(live) < len(run):
    print("  !! the pass finished during the figures: %d of %d run windows count" % (len(live), len(run)))
busy = len(live) * secs
if busy:
    print("  under load (run windows): %.0f objects read/s, %.0f actions/s; unloaded (after the"
          " figures): %.0f objects read/s" % (
              sum(int(x[4]) - int(x[7]) for x in live) / busy,
              sum(int(x[5]) - int(x[8]) for x in live) / busy,
              (int(fin[1]) - int(s1[1])) / (t2 - t1) if t2 > t1 else 0))
for op, name in (("put", "PUT"), ("get", "GET")):
    r = [float(x[2]) for x in live if x[1] == op]
    h = [float(x[2]) for x in w if x[0] == "held" and x[1] == op]
    b = [float(x[2]) for x in w if x[0] == "before" and x[1] == op][0]
    mr, mh = (sum(r) / len(r) if r else 0), (sum(h) / len(h) if h else 0)
    print("  %s 1 KiB req/s: %7.0f held  %7.0f during the pass  = %.2fx (target >= 0.8x)"
          "   [before the pass %.0f | held %s | run %s]"
          % (name, mh, mr, mr / mh if mh else 0, b,
             " ".join("%.0f" % v for v in h), " ".join("%.0f" % v for v in r)))
EOF
