#!/usr/bin/env bash
# exclude-heap from outside: rdump-cli dump --exclude-heap of a running php
# holding user-class, DOMDocument and ArrayObject objects; summary names
# every object, class, method and function from the dump (0 unreadable),
# with opcache off and on, and the dump keeps less of [heap] than a default
# dump of the same process.
set -uo pipefail
root=${RDUMP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cli=${RDUMP_CLI:-$root/rdump-cli}
[ -x "$cli" ] || { echo "rdump-cli not built at $cli"; exit 1; }
command -v php >/dev/null || { echo "php not installed"; exit 77; }
php -n -d extension=dom -r 'exit(extension_loaded("dom") ? 0 : 1);' 2>/dev/null \
	|| { echo "the dom extension (php8.2-xml) is not installed"; exit 77; }
"$cli" dump --help 2>/dev/null | grep -- '--exclude-heap' >/dev/null || { echo "rdump-cli has no dump --exclude-heap"; exit 77; }

dir=$(mktemp -d /tmp/rdump-exclude-heap-remote.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$dir"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat >"$dir/target.php" <<'PHP'
<?php
interface Shape {}
class Probe implements Shape { const KIND = 'p'; public static $made = 0; public ?int $n;
    public function __construct(int $n) { $this->n = $n; self::$made++; } }
class Bag extends ArrayObject {}
$dom = new DOMDocument();
$root = $dom->appendChild($dom->createElement('root'));
for ($i = 0; $i < 20000; $i++) {
    $e = $dom->createElement('item', "value $i");
    $e->setAttribute('id', (string) $i);
    $root->appendChild($e);
}
unset($e);
$probes = [];
for ($i = 0; $i < 777; $i++) { $probes[] = new Probe($i); }
$bag = new Bag([1, 2, 3]);
$ao = new ArrayObject(['a' => 1]);
file_put_contents($argv[1], 'ready');
while (true) { usleep(20000); }
PHP

run_case() {
	local oc=$1 label="opcache-$2" pid out hx hd
	rm -f "$dir/ready"
	php -n -d extension=dom -d zend_extension=opcache -d opcache.enable_cli="$oc" "$dir/target.php" "$dir/ready" &
	pid=$!
	pids+=("$pid")
	for _ in $(seq 200); do [ -f "$dir/ready" ] && break; sleep 0.05; done
	[ -f "$dir/ready" ] || fail "$label: the target did not start"
	"$cli" dump -p "$pid" -o "$dir/xh.rdump" --exclude-heap 2>"$dir/xh.err"
	rc=$?
	if [ "$rc" = 5 ]; then cat "$dir/xh.err"; echo "not permitted to read another process here"; exit 77; fi
	[ "$rc" = 0 ] || { cat "$dir/xh.err"; fail "$label: rdump-cli dump --exclude-heap exited $rc"; }
	grep -q "warning" "$dir/xh.err" && { cat "$dir/xh.err"; fail "$label: rdump-cli warned"; }
	"$cli" dump -p "$pid" -o "$dir/default.rdump" -q || fail "$label: default dump failed"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	out=$("$cli" summary "$dir/xh.rdump" 2>"$dir/summary.err") \
		|| { echo "$out"; cat "$dir/summary.err"; fail "$label: summary of the exclude-heap dump failed"; }
	grep -q '^unreadable pointers: 0$' <<<"$out" || { echo "$out"; fail "$label: unreadable pointers"; }
	for want in '777 Probe' '1 DOMDocument' '1 DOMElement' '1 Bag' '1 ArrayObject'; do
		grep -qx "  $want" <<<"$out" || { echo "$out"; fail "$label: '$want' missing from the summary"; }
	done
	grep -qE '^tables: [0-9]+ classes \(3 user, [0-9]+ methods\), [0-9]+ functions' <<<"$out" \
		|| { echo "$out"; fail "$label: tables line"; }
	hx=$("$cli" inspect "$dir/xh.rdump" --json | php -r 'echo json_decode(stream_get_contents(STDIN), true)["captured_bytes"]["heap"];')
	hd=$("$cli" inspect "$dir/default.rdump" --json | php -r 'echo json_decode(stream_get_contents(STDIN), true)["captured_bytes"]["heap"];')
	echo "figure: $label: from outside, [heap] captured $hx bytes with --exclude-heap, $hd without; files $(stat -c %s "$dir/xh.rdump") and $(stat -c %s "$dir/default.rdump") bytes"
	[ "$hx" -lt "$hd" ] || fail "$label: --exclude-heap kept as much of [heap] ($hx) as the default dump ($hd)"
}

run_case 0 off
run_case 1 on
echo "exclude-heap from outside: summary complete with opcache off and on"
