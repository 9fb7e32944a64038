#!/usr/bin/env bash
# Issue 3, the check version of bench/async_pause.sh: on 200 MB of live PHP
# data the caller's time inside rdump_dump() in async mode against sync,
# side by side in one process (3 rounds, medians), and a reader polling the
# final path that must never see a partial file; then the first dump of
# fresh processes (their first fork, sync beside it). The acceptance target is
# async <= sync / 20 (see the bench's figures, which depend on how fast the
# machine copies page tables); this check fails when the async pause is not
# under half the sync time, where the dump would not be asynchronous at all.
# Then the same with rdump.huge_pages=1 where the kernel has transparent
# huge pages (not on a debug build of PHP, where the setting is refused).
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}" "${RDUMP_ROOT:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
# At the highest priority when allowed (root in CI): both sides are measured
# alike, without the time slices of whatever else shares the machine.
nice=()
[ "$(id -u)" != 0 ] || nice=(nice -n -20)
# In each result line the first "sync S ms" and " async A ms" are the medians; A must be under S / 2.
check() {
	local line sync async
	line=$(grep "^$1" <<<"$out") || { echo "FAIL: no '$1' line in the bench's output"; exit 1; }
	echo "figure: $2${line#*: }"
	sync=$(grep -o 'sync [0-9.]* ms' <<<"$line" | head -n 1 | cut -d' ' -f2)
	async=$(grep -o ' async [0-9.]* ms' <<<"$line" | head -n 1 | cut -d' ' -f3)
	[ -n "$sync" ] && [ -n "$async" ] || { echo "FAIL: cannot read the bench's '$1' line"; exit 1; }
	awk -v s="$sync" -v a="$async" 'BEGIN { exit !(a * 2 <= s) }' \
		|| { echo "FAIL: $2$1 async pause ${async} ms is not under half of sync ${sync} ms"; exit 1; }
}
run() {
	out=$(RDUMP_CLI="$RDUMP_CLI" "${nice[@]}" php -n -d memory_limit=-1 -d extension="$RDUMP_EXT" "$@" \
		"$RDUMP_ROOT/bench/async_pause.php" 200 3 "$dir") || { echo "$out"; echo "FAIL: the bench failed"; exit 1; }
	echo "$out"
}
run
check 'result:' ''
check 'result, first dumps:' ''
# Again with ZendMM's chunks on transparent huge pages, where the kernel has them.
thp=/sys/kernel/mm/transparent_hugepage/enabled
if [ ! -r "$thp" ] || grep -q '\[never\]' "$thp"; then
	echo "no transparent huge pages here ($thp): no rdump.huge_pages run"
elif php -n -r 'exit(PHP_DEBUG ? 0 : 1);'; then
	echo "rdump.huge_pages=1: not in effect on a debug build of PHP (see its phpinfo() line)"
else
	run -d rdump.huge_pages=1
	check 'result:' 'huge pages: '
	check 'result, first dumps:' 'huge pages: '
fi
echo "PASS"
