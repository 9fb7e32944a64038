<?php
// Every STRIDE-th region of a dump that summary reads all of (the minimized
// seed), left out one at a time: rdump-cli summary must notice each loss
// with exit 1 and, on stderr, the closing "incomplete summary" line with the
// counts it printed on stdout. Never exit 0, a signal or a silent 1.
// usage: php drop_regions.php SEED.rdump RDUMP_CLI TMPDIR STRIDE
require __DIR__ . '/dump_layout.inc';
if ($argc !== 5 || (int) $argv[4] < 1) {
	fwrite(STDERR, "usage: php drop_regions.php SEED.rdump RDUMP_CLI TMPDIR STRIDE\n");
	exit(2);
}
[$seedPath, $cli, $tmp, $stride] = [$argv[1], $argv[2], $argv[3], (int) $argv[4]];
$d = file_get_contents($seedPath);
if ($d === false || substr($d, 0, 8) !== "RDUMP\0\0\0") {
	fwrite(STDERR, "drop_regions: $seedPath is not an uncompressed RDUMP file\n");
	exit(1);
}
$p = parse($d);
[$countsAt, $rc] = [$p['counts_at'], count($p['regions'])];
if ($p['end'] !== strlen($d) || $rc < 2) {
	fwrite(STDERR, "drop_regions: $seedPath: cannot walk its $rc regions to the end of the file\n");
	exit(1);
}

$bad = $tried = 0;
$f = "$tmp/drop-region.rdump";
for ($i = 0; $i < $rc; $i += $stride) {
	[$addr, $off, $size] = $p['regions'][$i];
	$bytes = substr_replace(substr_replace($d, '', $off - 16, $size + 16), pack('V', $rc - 1), $countsAt + 4, 4);
	if (file_put_contents($f, $bytes) !== strlen($bytes)) {
		fwrite(STDERR, "drop_regions: cannot write $f\n");
		exit(1);
	}
	$proc = proc_open([$cli, 'summary', $f], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']], $pipes);
	$out = stream_get_contents($pipes[1]);
	$err = stream_get_contents($pipes[2]);
	$status = proc_close($proc);
	$tried++;
	$why = null;
	if ($status !== 1) {
		$why = "exit $status";
	} elseif (!preg_match('/^unreadable pointers: (\d+)/m', $out, $m) || !preg_match('/^warnings: (\d+)$/m', $out . "warnings: 0\n", $w)) {
		$why = 'no "unreadable pointers" line on stdout';
	} elseif (!str_contains($err, "rdump-cli summary: $f: incomplete summary (unreadable pointers: $m[1], warnings: $w[1])\n")) {
		$why = 'stderr lacks the "incomplete summary" line with the counts of stdout';
	}
	if ($why !== null) {
		$bad++;
		if ($bad <= 10) {
			echo "FAIL: summary without region $i of $rc (", sprintf('0x%x', $addr), "): $why; stderr: ",
				substr($err, 0, 300), "\n";
		}
	}
}
@unlink($f);
echo "count: summary run on the seed without one of its regions: $tried of $rc regions (every $stride), $bad not reported\n";
exit($bad === 0 ? 0 : 1);
