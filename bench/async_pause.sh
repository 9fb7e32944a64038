#!/usr/bin/env bash
# Runs bench/async_pause.php against the built extension (run by hand): the
# caller's pause in rdump_dump() async against sync, on 200 MB of live PHP
# data, for repeated dumps and for the first dump of fresh processes, each
# beside a bare fork; then again with ZendMM's chunks on transparent huge
# pages (rdump.huge_pages=1), when the kernel offers them.
# Usage: bench/async_pause.sh [MB] [RUNS] [DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
huge=0
run() {
	RDUMP_CLI="$PWD/rdump-cli" php -n -d memory_limit=-1 -d extension="$PWD/modules/rdump.so" \
		-d rdump.huge_pages="$huge" bench/async_pause.php "$@"
}
echo "== default (4 KiB pages)"
run "$@"
thp=/sys/kernel/mm/transparent_hugepage/enabled
if [ -r "$thp" ] && ! grep -q '\[never\]' "$thp"; then
	echo "== rdump.huge_pages=1 (ZendMM chunks on transparent huge pages)"
	huge=1 run "$@"
else
	echo "== transparent huge pages are off ($thp): no huge-page run"
fi
