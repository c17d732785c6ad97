#!/bin/sh
# run-fuzz.sh: run every fuzz target for a bounded time over its seed corpus.
# NIMBUS_FUZZ_SECONDS (default 20) per target. A crash fails the run.
secs=${NIMBUS_FUZZ_SECONDS:-20}
pass=0; fail=0
for t in "$@"; do
    name=$(basename "$t")
    dir=$(dirname "$t" | sed 's#^build/fuzz#fuzz#')
    corpus="$dir/corpus"
    work=$(mktemp -d)
    [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
    if "$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=0 \
        -artifact_prefix="build/fuzz-artifacts-$name-" "$work" >"build/fuzz-$name.log" 2>&1; then
        pass=$((pass+1))
    else
        echo "FUZZ FINDING: $name (see build/fuzz-$name.log)"; tail -30 "build/fuzz-$name.log"
        fail=$((fail+1))
    fi
    rm -rf "$work"
done
echo "fuzz: $pass passed, $fail failed"
[ "$fail" = 0 ]
