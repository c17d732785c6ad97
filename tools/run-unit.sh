#!/bin/sh
# run-unit.sh: run each unit test binary; print a pass/fail summary line; fail if any failed.
pass=0; fail=0
for t in "$@"; do
    if "$t"; then pass=$((pass+1)); else echo "FAILED: $t"; fail=$((fail+1)); fi
done
echo "unit: $pass passed, $fail failed"
[ "$fail" = 0 ]
