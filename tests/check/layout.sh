#!/usr/bin/env bash
# Architecture rules that a reader cannot see from one file (STYLE.md):
#  1. the sans-I/O core: only src/io/ may include socket headers or read a clock;
#  2. only the public API is exported: every symbol libskiff.so defines is
#     declared in include/skiff/.
#   usage: layout.sh SOURCE_DIR LIBSKIFF_SO
set -uo pipefail
src=$1 so=$2
fail=0

leaks=$(grep -rlE '#include <(sys/socket|netinet/[a-z_]+|arpa/inet|sys/epoll|sys/time)\.h>|clock_gettime|gettimeofday|[^_]time\(' \
        "$src/src" | grep -v "^$src/src/io/" || true)
if [ -n "$leaks" ]; then
    echo "socket or clock use outside src/io/ (the core is sans-I/O):"
    echo "$leaks"
    fail=1
fi

exported=$(nm -D --defined-only "$so" | awk '$2 ~ /^[TDBR]$/ {print $3}' | sort -u)
[ -n "$exported" ] || { echo "no exported symbols found in $so"; fail=1; }
for sym in $exported; do
    if ! grep -rqw "$sym" "$src/include/skiff/"; then
        echo "exported but not in include/skiff/: $sym"
        fail=1
    fi
done
count=$(echo "$exported" | wc -w)
[ $fail -eq 0 ] && echo "layout: sans-I/O core clean; $count exported symbols, all public"
exit $fail
