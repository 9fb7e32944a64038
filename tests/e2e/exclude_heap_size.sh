#!/usr/bin/env bash
# Issue 5 size bar, in-process: a script holding 50 MB of PHP data and a
# DOMDocument of 300,000 elements (each with an attribute and a text node,
# all in libxml2's malloc'd memory) dumps with exclude_heap to at most 1/3 of
# its default dump, and summary still names every object, class and
# function from the small dump (0 unreadable), with opcache off and on.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
ext=${RDUMP_EXT:-$root/modules/rdump.so}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
[ -f "$ext" ] || { echo "rdump.so not built at $ext"; exit 1; }
command -v php >/dev/null || { echo "php not installed"; exit 77; }
php -n -d extension=dom -r 'exit(extension_loaded("dom") ? 0 : 1);' 2>/dev/null \
	|| { echo "the dom extension (php8.2-xml) is not installed"; exit 77; }

dir=$(mktemp -d /tmp/rdump-exclude-heap.XXXXXX)
trap 'rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/big.php" <<'PHP'
<?php
class Row { public $id; public function __construct(int $id) { $this->id = $id; } }
$data = [];
for ($i = 0; $i < 500; $i++) {
    $data[] = str_repeat(chr(65 + $i % 26), 100000);   /* 50 MB of strings */
}
$rows = [];
for ($i = 0; $i < 1000; $i++) {
    $rows[] = new Row($i);
}
$dom = new DOMDocument();
$root = $dom->appendChild($dom->createElement('root'));
for ($i = 0; $i < 300000; $i++) {
    $e = $dom->createElement('item', "value $i");
    if ($argv[2] === 'attributes') {
        $e->setAttribute('id', (string) $i);
    }
    $root->appendChild($e);
}
unset($e);
$bag = new ArrayObject($rows);
fprintf(STDERR, "memory_get_usage %d\n", memory_get_usage());
$t = microtime(true);
if (!rdump_dump("$argv[1].default.rdump", false, ['exclude_heap' => false])) exit(1);
$td = microtime(true) - $t;
$t = microtime(true);
if (!rdump_dump("$argv[1].xh.rdump", false, ['exclude_heap' => true])) exit(1);
$tx = microtime(true) - $t;
fprintf(STDERR, "seconds %.3f %.3f\n", $td, $tx);
PHP

# $1 label, $2 opcache 0/1, $3 attributes|text; sets d x
measure() {
	local label=$1 oc=$2 shape=$3 out
	php -n -d extension=dom -d zend_extension=opcache -d opcache.enable_cli="$oc" -d memory_limit=-1 \
		-d extension="$ext" "$dir/big.php" "$dir/$label" "$shape" 2>"$dir/$label.err" \
		|| { cat "$dir/$label.err"; fail "$label: the script failed"; }
	d=$(stat -c %s "$dir/$label.default.rdump")
	x=$(stat -c %s "$dir/$label.xh.rdump")
	read -r _ dsec xsec < <(grep '^seconds' "$dir/$label.err")
	echo "figure: $label: default dump $d bytes (${dsec}s), exclude-heap dump $x bytes (${xsec}s), ratio $(awk "BEGIN{printf \"%.3f\", $x/$d}")"
	out=$("$cli" summary "$dir/$label.xh.rdump" 2>"$dir/$label.summary.err") \
		|| { echo "$out"; cat "$dir/$label.summary.err"; fail "$label: summary of the exclude-heap dump failed"; }
	grep -q '^unreadable pointers: 0$' <<<"$out" || { echo "$out"; fail "$label: unreadable pointers"; }
	for want in '1000 Row' '1 DOMDocument' '1 DOMElement' '1 ArrayObject'; do
		grep -qx "  $want" <<<"$out" || { echo "$out"; fail "$label: '$want' missing from the summary"; }
	done
	grep -E '^tables: ' <<<"$out" | sed "s/^/count: $label: /"
	rm -f "$dir/$label".*.rdump
}

measure opcache-off 0 attributes
[ $((x * 3)) -le "$d" ] || fail "opcache off: the exclude-heap dump ($x) is over 1/3 of the default dump ($d)"
measure opcache-on 1 attributes
[ $((x * 3)) -le "$d" ] || fail "opcache on: the exclude-heap dump ($x) is over 1/3 of the default dump ($d)"
# Informational: elements with a text node only (a smaller DOM: about 95 MB of C heap).
measure text-only 0 text
echo "exclude-heap size bar met"
