<?php
// Writes the fuzzing seed corpus (tests/fuzz/corpus/) and the crafted hostile
// inputs: a tiny hand-built dump, the minimized real dump given as argument
// (tests/fuzz/seed_min.c), and corrupt variants of both, one defect each,
// named after it. Deterministic: the same inputs give the same files.
// --derived adds the corrupt variants of the real dump (summary-*, each as
// big as it): tests/e2e/hostile_fuzz.sh makes them at run time, so the
// committed corpus stays small.
// usage: php make_corpus.php SUMMARY_SEED.rdump OUTDIR [--derived]
require __DIR__ . '/dump_layout.inc';
if ($argc < 3 || $argc > 4 || ($argc === 4 && $argv[3] !== '--derived')) {
	fwrite(STDERR, "usage: php make_corpus.php SUMMARY_SEED.rdump OUTDIR [--derived]\n");
	exit(2);
}
[$seedPath, $out, $derived] = [$argv[1], $argv[2], $argc === 4];
$seed = file_get_contents($seedPath);
if ($seed === false || substr($seed, 0, 8) !== "RDUMP\0\0\0") {
	fwrite(STDERR, "make_corpus: $seedPath is not an RDUMP file\n");
	exit(1);
}
if (!is_dir($out) && !mkdir($out, 0755, true)) {
	exit(1);
}

function u32(int $v): string { return pack('V', $v); }
function u64(int $v): string { return pack('P', $v); }
function str(string $s): string { return u32(strlen($s)) . $s; }
function map_entry(int $begin, int $end, string $perms, string $name, int $inode = 0, int $offset = 0): string
{
	$attrs = '';
	foreach ([0 => 'r', 1 => 'w', 2 => 'x', 3 => 'p'] as $i => $c) {
		$attrs .= $perms[$i] === $c ? "\1" : "\0";
	}
	return str(dechex($begin)) . str(dechex($end)) . str(sprintf('%08x', $offset)) . $attrs
		. str($inode ? 'fe:00' : '00:00') . u64($inode) . str($name);
}

/* The header of a dump; offsets of the counts are returned for patching. */
function dump_header(string $tag, int $eg, int $cg, array $mods, int $mapCount, int $regionCount): string
{
	$h = "RDUMP\0\0\0" . u32(3) . str($tag) . u64(4242) . u64($eg) . u64($cg) . u64(1 << 20) . u32(count($mods));
	foreach ($mods as $name => $addr) {
		$h .= str($name) . u64($addr);
	}
	return $h . u32($mapCount) . u32($regionCount);
}

function region(int $addr, string $bytes): string { return u64($addr) . u64(strlen($bytes)) . $bytes; }

$files = [];

// A tiny valid dump: three mappings, two regions, EG/CG inside the first.
$heap = 0x7f0000000000;
$bytes1 = str_repeat("\0", 4096);
for ($i = 0; $i < 4096; $i += 8) {
	$bytes1 = substr_replace($bytes1, u64($heap + (($i * 40) % 8192)), $i, 8);  // self pointers: cycles
}
$bytes2 = str_repeat("RDUMP fuzz seed ", 256);
$map = map_entry(0x400000, 0x401000, 'r--p', '/usr/bin/php8.2', 1234)
	. map_entry($heap, $heap + 0x2000, 'rw-p', '[heap]')
	. map_entry($heap + 0x10000, $heap + 0x11000, 'rw-p', '');
$tinyHead = dump_header('v82', $heap + 0x100, $heap + 0x800, ['basic_globals' => $heap + 0x40], 3, 2);
$tiny = $tinyHead . $map . region($heap, $bytes1 . $bytes1) . region($heap + 0x10000, $bytes2);
$files['valid-tiny.rdump'] = $tiny;
$files['valid-summary.rdump'] = $seed;

// Header-level defects.
$files['bad-empty'] = '';
$files['bad-magic-only'] = "RDUMP\0\0\0";
$files['bad-magic'] = 'RDUMX' . substr($tiny, 5);
$files['bad-magic-short'] = 'RDU';
$files['bad-version-0'] = substr_replace($tiny, u32(0), 8, 4);
$files['bad-version-4'] = substr_replace($tiny, u32(4), 8, 4);
$files['bad-version-max'] = substr_replace($tiny, u32(0xffffffff), 8, 4);
$files['bad-tag-len-huge'] = substr_replace($tiny, u32(0xffffffff), 12, 4);
$files['bad-tag-v74'] = substr_replace($tiny, 'v74', 16, 3);
$files['bad-tag-garbage'] = substr_replace($tiny, "\xff\n\x1b", 16, 3);
$files['bad-version-1-short-header'] = substr_replace(substr($tiny, 0, 60), u32(1), 8, 4);
$files['bad-version-2'] = substr_replace($tiny, u32(2), 8, 4);
$modAt = strlen("RDUMP\0\0\0") + 4 + 4 + 3 + 8 * 4;
$files['bad-module-count-huge'] = substr_replace($tiny, u32(0x7fffffff), $modAt, 4);
$mapCountAt = strlen($tinyHead) - 8;
$files['bad-map-count-huge'] = substr_replace($tiny, u32(0xffffffff), $mapCountAt, 4);
$files['bad-map-count-short'] = substr_replace($tiny, u32(2), $mapCountAt, 4);
$files['bad-region-count-huge'] = substr_replace($tiny, u32(0xffffffff), $mapCountAt + 4, 4);
$files['bad-region-count-short'] = substr_replace($tiny, u32(1), $mapCountAt + 4, 4);
$files['bad-region-count-zero'] = substr_replace($tiny, u32(0), $mapCountAt + 4, 4);
$files['bad-region-count-more'] = substr_replace($tiny, u32(3), $mapCountAt + 4, 4);
foreach ([1, 9, 13, 20, 45, $mapCountAt + 2, strlen($tinyHead) + 30, strlen($tinyHead . $map) + 10, strlen($tiny) - 1] as $cut) {
	$files["bad-truncated-at-$cut"] = substr($tiny, 0, $cut);
}
$files['bad-trailing-byte'] = $tiny . "\0";

// Memory-map defects.
$mapAt = strlen($tinyHead);
$files['bad-map-hex'] = substr_replace($tiny, 'g', $mapAt + 4, 1);
$files['bad-map-hex-17-digits'] = dump_header('v82', 0, 0, [], 1, 0) . str('1' . str_repeat('0', 16)) . str('2') . str('0') . "\1\0\0\1" . str('00:00') . u64(0) . str('');
$files['bad-map-end-below-begin'] = dump_header('v82', 0, 0, [], 1, 0) . map_entry(0x2000, 0x1000, 'rw-p', '');
$files['bad-map-attr-2'] = substr_replace($tiny, "\2", $mapAt + 4 + 6 + 4 + 8 + 4 + 8, 1);
$files['bad-map-name-huge'] = substr_replace($tiny, u32(0x7fffffff), $mapAt + strlen(map_entry(0x400000, 0x401000, 'r--p', '/usr/bin/php8.2', 1234)) - 4 - 15, 4);
$files['map-unsorted-overlapping'] = dump_header('v82', $heap, $heap, [], 3, 1)
	. map_entry($heap, $heap + 0x2000, 'rw-p', '[heap]') . map_entry(0x400000, 0x402000, 'r--p', '/usr/bin/php8.2', 5)
	. map_entry($heap + 0x1000, $heap + 0x3000, 'rw-p', '') . region($heap, $bytes1);
$files['map-zero-size-entries'] = dump_header('v82', 0, 0, [], 2, 0) . map_entry(0x1000, 0x1000, 'rw-p', '') . map_entry(0, 0, '---p', '');

// Region defects.
$regAt = strlen($tinyHead . $map);
$files['bad-region-wrap'] = substr_replace($tiny, u64(-4096), $regAt, 8);
$files['bad-region-size-past-eof'] = substr_replace($tiny, u64(1 << 40), $regAt + 8, 8);
$files['bad-region-size-max'] = substr_replace($tiny, u64(-1), $regAt + 8, 8);
$files['bad-region-unsorted'] = $tinyHead . $map . region($heap + 0x10000, $bytes2) . region($heap, $bytes1 . $bytes1);
$files['bad-region-overlap'] = $tinyHead . $map . region($heap, $bytes1 . $bytes1) . region($heap + 0x1000, $bytes1);
$files['region-touching'] = substr_replace($tinyHead, u32(3), $mapCountAt + 4, 4) . $map . region($heap, $bytes1) . region($heap + 0x1000, $bytes1) . region($heap + 0x10000, $bytes2);
$files['region-zero-size'] = substr_replace($tinyHead, u32(3), $mapCountAt + 4, 4) . $map . region($heap, '') . region($heap, $bytes1 . $bytes1) . region($heap + 0x10000, $bytes2);
$files['region-outside-map'] = substr_replace($tinyHead, u32(3), $mapCountAt + 4, 4) . $map . region(0x1000, $bytes2) . region($heap, $bytes1 . $bytes1) . region($heap + 0x10000, $bytes2);
$files['region-at-top-of-address-space'] = dump_header('v82', -8, -16, [], 0, 1) . region(-4096 - 1, str_repeat("\xff", 4096));

// The engine walk of summary on a real dump whose contents lie.
$p = parse($seed);
if (!$derived) {
	goto fallbacks;
}
// Every pointer-sized word of every region replaced by the address of EG: cycles everywhere.
$files['summary-all-pointers-to-eg'] = rewrite_regions($seed, $p, function (string $b) use ($p): string {
	return str_repeat(u64($p['eg']), intdiv(strlen($b), 8)) . substr($b, intdiv(strlen($b), 8) * 8);
});
// Every region's words replaced by the address just past the end of their own region.
$files['summary-pointers-past-regions'] = rewrite_regions($seed, $p, function (string $b, int $addr) {
	return str_repeat(u64($addr + strlen($b)), intdiv(strlen($b), 8)) . substr($b, intdiv(strlen($b), 8) * 8);
});
// All ones: every size and count at its maximum, every pointer at the top of memory.
$files['summary-all-ones'] = rewrite_regions($seed, $p, fn (string $b) => str_repeat("\xff", strlen($b)));
// Deterministic bit flips, three densities.
foreach ([1 => 64, 2 => 512, 3 => 4096] as $n => $every) {
	$state = $n;
	$files["summary-bitflips-$n"] = rewrite_regions($seed, $p, function (string $b) use (&$state, $every) {
		for ($i = 0; $i < strlen($b); $i += 1 + ($state = ($state * 1103515245 + 12345) & 0x7fffffff) % $every) {
			$b[$i] = chr(ord($b[$i]) ^ (1 << ($state % 8)));
		}
		return $b;
	});
}
fallbacks:
// EG at an address no region holds, but inside a read-only "file" mapping
// naming a FIFO (hostile_fuzz.sh creates /tmp/rdump-fuzz-fifo), a terminal or
// a device: the fall-back must not block on it, nor open a device.
foreach (['fifo' => '/tmp/rdump-fuzz-fifo', 'dev-stdin' => '/dev/stdin', 'proc-self-fd-0' => '/proc/self/fd/0',
		'dev-zero' => '/dev/zero', 'directory' => '/tmp'] as $label => $name) {
	$files["fallback-$label"] = dump_header('v82', 0x500000, 0x500800, [], 1, 0)
		. map_entry(0x500000, 0x600000, 'r--p', $name, 77);
}

// Compressed dumps (the reader inflates gzip itself).
if (function_exists('gzencode')) {
	$files['gzip-valid-tiny.rdump.gz'] = gzencode($tiny, 1);
	$files['gzip-valid-summary.rdump.gz'] = gzencode($seed, 9);
	$files['gzip-truncated.gz'] = substr(gzencode($tiny, 1), 0, 100);
	$files['gzip-trailing-garbage.gz'] = gzencode($tiny, 1) . 'garbage';
	$files['gzip-not-rdump.gz'] = gzencode(str_repeat('not a dump ', 100));
	$files['gzip-of-corrupt.gz'] = gzencode($files['bad-region-overlap']);
	$files['gzip-two-members.gz'] = gzencode(substr($tiny, 0, 100)) . gzencode(substr($tiny, 100));
	$files['gzip-bad-crc.gz'] = substr_replace(gzencode($tiny), "\0\0\0\0", -8, 4);
	$files['gzip-magic-only'] = "\x1f\x8b";
}

foreach ($files as $name => $bytes) {
	if (file_put_contents("$out/$name", $bytes) !== strlen($bytes)) {
		fwrite(STDERR, "make_corpus: cannot write $out/$name\n");
		exit(1);
	}
}
echo count($files), " seeds written to $out\n";

function rewrite_regions(string $d, array $p, callable $f): string
{
	foreach ($p['regions'] as [$addr, $off, $size]) {
		$d = substr_replace($d, $f(substr($d, $off, $size), $addr), $off, $size);
	}
	return $d;
}
