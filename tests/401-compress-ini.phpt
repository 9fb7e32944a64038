--TEST--
rdump.compress and rdump.compress_level are the defaults, the compress option overrides them, and the path is written exactly as given (no ".gz" appended)
--EXTENSIONS--
rdump
--INI--
rdump.compress=1
rdump.compress_level=9
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('compress-ini');
$magic = fn (string $p) => bin2hex(file_get_contents($p, false, null, 0, 2));
var_dump(ini_get('rdump.compress'), ini_get('rdump.compress_level'));

var_dump(rdump_dump("$dir/by-ini.rdump"));
echo "by-ini.rdump: ", $magic("$dir/by-ini.rdump"), "\n";
var_dump(rdump_dump("$dir/off.rdump", false, ['compress' => false]));
echo "off.rdump: ", $magic("$dir/off.rdump"), "\n";
var_dump(rdump_dump("$dir/fast.rdump.gz", false, ['compress_level' => 1]));
echo "fast.rdump.gz: ", $magic("$dir/fast.rdump.gz"), "\n";
ini_set('rdump.compress', '0');
var_dump(rdump_dump("$dir/ini-off.rdump"));
echo "ini-off.rdump: ", $magic("$dir/ini-off.rdump"), "\n";
var_dump(rdump_dump("$dir/opt-on", false, ['compress' => true]));
echo "opt-on: ", $magic("$dir/opt-on"), "\n";

// Every one of them is a dump inspect accepts, compressed or not, whatever its name.
foreach (rdump_ls($dir) as $f) {
    [$rc, $out] = rdump_run('inspect', "$dir/$f");
    echo "inspect $f: exit $rc\n";
}
// Level 9 is no larger than level 1 of a similar dump (both taken here, moments apart).
var_dump(filesize("$dir/by-ini.rdump") <= filesize("$dir/fast.rdump.gz") * 1.05);
rdump_rmdir($dir);
?>
--EXPECT--
string(1) "1"
string(1) "9"
bool(true)
by-ini.rdump: 1f8b
bool(true)
off.rdump: 5244
bool(true)
fast.rdump.gz: 1f8b
bool(true)
ini-off.rdump: 5244
bool(true)
opt-on: 1f8b
inspect by-ini.rdump: exit 0
inspect fast.rdump.gz: exit 0
inspect ini-off.rdump: exit 0
inspect off.rdump: exit 0
inspect opt-on: exit 0
bool(true)
