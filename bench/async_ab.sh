#!/usr/bin/env bash
# Two builds of the extension side by side (run by hand): rounds of
# bench/async_loop.php alternate between build A and build B on the same
# 200 MB of live PHP data, and each round prints both medians of the
# caller's pause in async rdump_dump() and their ratio B/A. The machine's
# noise moves whole rounds; compare the rounds, not one number.
# Usage: bench/async_ab.sh A.so B.so [ROUNDS] [DUMPS] [MB]
# (USE_ZEND_ALLOC_HUGE_PAGES=1 in the environment puts ZendMM on huge pages.)
set -euo pipefail
[ $# -ge 2 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
a=$1 b=$2 rounds=${3:-3} dumps=${4:-25} mb=${5:-200}
for so in "$a" "$b"; do
	[ -r "$so" ] || { echo "async_ab: $so: not readable" >&2; exit 2; }
done
a=$(realpath "$a") b=$(realpath "$b")
cd "$(dirname "$0")/.."
median() {
	tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
run() {
	local out
	out=$(php -n -d memory_limit=-1 -d extension="$1" bench/async_loop.php "$mb" "$dumps") || return 1
	sed -n 's/^times: //p' <<<"$out" | median
}
for r in $(seq 1 "$rounds"); do
	ma=$(run "$a") || { echo "async_ab: round $r: build A failed" >&2; exit 1; }
	mb_=$(run "$b") || { echo "async_ab: round $r: build B failed" >&2; exit 1; }
	awk -v r="$r" -v a="$ma" -v b="$mb_" -v n="$dumps" \
		'BEGIN { printf "round %d: median of %d async pauses: A %.2f ms, B %.2f ms, B/A %.2f\n", r, n, a, b, b / a }'
done
