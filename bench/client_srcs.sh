#!/bin/sh
# bench/client_srcs.sh: prints the project sources the load generator links (paths under
# src/): the SigV4 signer and core/nb.c, plus, transitively, each src/<dir>/<name>.c whose
# header "<dir>/<name>.h" one of them (or its own header) includes. So when sigv4.c starts
# using another core file, bench/Makefile follows by itself.
cd "$(dirname "$0")/../src" || exit 1
todo="proto/sigv4.c core/nb.c"
seen=""
while [ -n "$todo" ]; do
    set -- $todo
    f=$1
    shift
    todo="$*"
    case " $seen " in *" $f "*) continue ;; esac
    seen="$seen $f"
    for h in $(sed -n 's|^#include "\([a-z0-9_]*/[a-z0-9_]*\)\.h".*|\1|p' "$f" "${f%.c}.h" 2>/dev/null); do
        [ -f "$h.c" ] && todo="$todo $h.c"
    done
done
echo $seen
