#!/usr/bin/env bash
# Issue 2 size bar: with opcache on (128 MiB of shared memory), a small
# script's dump must be under one fifth of a dump of every writable and
# anonymous mapping in full (what other tools write).
set -euo pipefail
: "${RDUMP_EXT:?}" "${RDUMP_CLI:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cat >"$dir/small.php" <<'PHP'
<?php
$a = [];
for ($i = 0; $i < 1000; $i++) { $a[] = "item $i"; }
if (!rdump_dump($argv[1])) { exit(1); }
PHP
run() {
	php -n -d zend_extension=opcache -d opcache.enable_cli=1 -d opcache.memory_consumption=128 \
		-d extension="$RDUMP_EXT" "$dir/small.php" "$1"
}
run "$dir/default.rdump"
RDUMP_BENCH_NAIVE=1 run "$dir/naive.rdump"
"$RDUMP_CLI" inspect "$dir/default.rdump" >/dev/null
"$RDUMP_CLI" inspect "$dir/naive.rdump" >/dev/null
grep -q '/dev/zero (deleted)\|SYSV' <("$RDUMP_CLI" inspect "$dir/default.rdump") || { echo "opcache shared memory not mapped"; exit 1; }
d=$(stat -c %s "$dir/default.rdump")
n=$(stat -c %s "$dir/naive.rdump")
echo "figure: small script with opcache: default dump $d bytes, naive full-mapping dump $n bytes, ratio $(awk "BEGIN{printf \"%.3f\", $d/$n}")"
[ $((d * 5)) -lt "$n" ] || { echo "default dump is not under 1/5 of the naive dump"; exit 1; }
