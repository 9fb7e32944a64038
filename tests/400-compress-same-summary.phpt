--TEST--
A compressed dump taken at the same point as an uncompressed one passes inspect and gives the same summary; gunzip and rdump-cli unpack of it give byte-identical files
--EXTENSIONS--
rdump
--SKIPIF--
<?php exec('command -v gzip', $o, $rc); if ($rc !== 0) die('skip gzip(1) not installed'); ?>
--INI--
opcache.enable=1
opcache.enable_cli=1
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';

class CompressProbe
{
    public $n;
    public function __construct(int $n) { $this->n = $n; }
}

function take_both(string $dir): void
{
    // One line, one frame: the two dumps see the same stack, objects and globals.
    foreach ([["$dir/plain.rdump", []], ["$dir/packed.rdump.gz", ['compress' => true]]] as [$path, $opts]) {
        var_dump(rdump_dump($path, false, $opts));
    }
}

$dir = rdump_tmpdir('compress-same');
// With opcache (when loaded) its shared memory is in both dumps too.
$probes = [];
for ($i = 0; $i < 4321; $i++) {
    $probes[] = new CompressProbe($i);
}
$needle = 'needle-' . bin2hex(random_bytes(6));
take_both($dir);

echo "gzip magic: ", bin2hex(file_get_contents("$dir/packed.rdump.gz", false, null, 0, 2)), "\n";
[$rc, $out] = rdump_run('inspect', "$dir/packed.rdump.gz");
echo "inspect .gz: exit $rc\n";
[$rc, $js] = rdump_run('inspect', '--json', "$dir/packed.rdump.gz");
$packed = json_decode($js, true);
[$rc2, $js] = rdump_run('inspect', '--json', "$dir/plain.rdump");
$plain = json_decode($js, true);
echo "inspect --json: exit $rc $rc2\n";
var_dump($packed['pid'] === $plain['pid'] && $packed['pid'] === getmypid());

[$rc, $sum_gz] = rdump_run('summary', "$dir/packed.rdump.gz");
[$rc2, $sum_plain] = rdump_run('summary', "$dir/plain.rdump");
echo "summary: exit $rc $rc2\n";
echo $sum_gz === $sum_plain ? "same summary\n" : "DIFFERENT SUMMARY\n--- plain\n$sum_plain\n--- gz\n$sum_gz\n";
$lines = array_map('trim', explode("\n", $sum_gz));
var_dump(in_array('4321 CompressProbe', $lines, true));
var_dump(in_array('$needle = string(' . strlen($needle) . ') "' . $needle . '"', $lines, true));

// gunzip and unpack of the same .gz: the same bytes.
exec('gzip -dc ' . escapeshellarg("$dir/packed.rdump.gz") . ' > ' . escapeshellarg("$dir/gunzipped.rdump"), $o, $rc);
echo "gunzip: exit $rc\n";
[$rc, $out] = rdump_run('unpack', "$dir/packed.rdump.gz", '-o', "$dir/unpacked.rdump");
echo "unpack: exit $rc\n";
var_dump(strpos($out, "$dir/unpacked.rdump: " . filesize("$dir/gunzipped.rdump") . ' bytes from ' . filesize("$dir/packed.rdump.gz") . ' compressed') === 0);
var_dump(md5_file("$dir/gunzipped.rdump") === md5_file("$dir/unpacked.rdump"));
var_dump(filesize("$dir/unpacked.rdump") === $packed['file_size']);
var_dump(filesize("$dir/packed.rdump.gz") < filesize("$dir/plain.rdump"));
printf("mode %o\n", fileperms("$dir/unpacked.rdump") & 0777);
[$rc, $sum_unpacked] = rdump_run('summary', "$dir/unpacked.rdump");
echo $sum_unpacked === $sum_plain ? "unpacked: same summary\n" : "unpacked: DIFFERENT SUMMARY\n";
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECT--
bool(true)
bool(true)
gzip magic: 1f8b
inspect .gz: exit 0
inspect --json: exit 0 0
bool(true)
summary: exit 0 0
same summary
bool(true)
bool(true)
gunzip: exit 0
unpack: exit 0
bool(true)
bool(true)
bool(true)
bool(true)
mode 600
unpacked: same summary
array(4) {
  [0]=>
  string(15) "gunzipped.rdump"
  [1]=>
  string(15) "packed.rdump.gz"
  [2]=>
  string(11) "plain.rdump"
  [3]=>
  string(14) "unpacked.rdump"
}
