--TEST--
rdump-cli unpack: sparse output, default name, stdout, and clear failures (truncated, corrupt, trailing bytes, not gzip) that leave nothing behind; inspect refuses a truncated .gz
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('unpack');
// 8 MiB of written zeros: resident, so in the dump, and all-zero blocks to leave as holes.
$zeros = str_repeat("\0", 8 << 20);
var_dump(rdump_dump("$dir/z.rdump.gz", false, ['compress' => true]));
$gz = file_get_contents("$dir/z.rdump.gz");

// Default output: the input without .gz.
[$rc, $out] = rdump_run('unpack', "$dir/z.rdump.gz");
echo "unpack: exit $rc\n";
$st = stat("$dir/z.rdump");
var_dump($st['size'] > (8 << 20));
var_dump($st['blocks'] * 512 < $st['size'] - (6 << 20));   // the zeros are holes
var_dump(gzdecode($gz) === file_get_contents("$dir/z.rdump"));

// -o - writes to stdout; a regular file at -o is replaced.
exec(escapeshellarg(rdump_cli()) . ' unpack ' . escapeshellarg("$dir/z.rdump.gz") . ' -o - > ' . escapeshellarg("$dir/stdout.rdump"), $o, $rc);
echo "unpack -o -: exit $rc\n";
var_dump(md5_file("$dir/stdout.rdump") === md5_file("$dir/z.rdump"));
file_put_contents("$dir/old.rdump", "old");
[$rc, $out] = rdump_run('unpack', "$dir/z.rdump.gz", '-o', "$dir/old.rdump");
echo "unpack over a file: exit $rc\n";
var_dump(md5_file("$dir/old.rdump") === md5_file("$dir/z.rdump"));
unlink("$dir/stdout.rdump");
unlink("$dir/old.rdump");

$fail = function (string $name, string $bytes, string ...$more) use ($dir) {
    file_put_contents("$dir/$name", $bytes);
    [$rc, $out] = rdump_run('unpack', "$dir/$name", '-o', "$dir/out.rdump", ...$more);
    echo "$name: exit $rc: ", str_replace($dir, 'DIR', $out), "\n";
    unlink("$dir/$name");
};
$fail('half.rdump.gz', substr($gz, 0, intdiv(strlen($gz), 2)));
$fail('notrailer.rdump.gz', substr($gz, 0, -8));
$bad = $gz;
$bad[strlen($bad) - 8] = chr(ord($bad[strlen($bad) - 8]) ^ 1);
$fail('crc.rdump.gz', $bad);
$fail('junk.rdump.gz', $gz . "junk");
$fail('plain.rdump.gz', "RDUMP\0\0\0" . str_repeat("x", 100));
$fail('text.gz', "hello");

// inspect and summary read .gz directly, and say why they cannot.
file_put_contents("$dir/cut.rdump.gz", substr($gz, 0, -100));
[$rc, $out] = rdump_run('inspect', "$dir/cut.rdump.gz");
echo "inspect cut: exit $rc: ", str_replace($dir, 'DIR', $out), "\n";
[$rc, $out] = rdump_run('summary', "$dir/cut.rdump.gz");
echo "summary cut: exit $rc\n";
unlink("$dir/cut.rdump.gz");

[$rc, $out] = rdump_run('unpack', "$dir/z.rdump");
echo "no .gz suffix, no -o: exit $rc: ", str_replace($dir, 'DIR', $out), "\n";
[$rc, $out] = rdump_run('unpack', "$dir/missing.gz", '-o', "$dir/m.rdump");
echo "missing input: exit $rc: ", str_replace($dir, 'DIR', $out), "\n";
[$rc, $out] = rdump_run('unpack');
echo "no input: exit $rc\n";
symlink("$dir/elsewhere", "$dir/link.rdump");
[$rc, $out] = rdump_run('unpack', "$dir/z.rdump.gz", '-o', "$dir/link.rdump");
echo "symlink output: exit $rc: ", str_replace($dir, 'DIR', $out), "\n";
unlink("$dir/link.rdump");
var_dump(rdump_ls($dir));
rdump_rmdir($dir);
?>
--EXPECTF--
bool(true)
unpack: exit 0
bool(true)
bool(true)
bool(true)
unpack -o -: exit 0
bool(true)
unpack over a file: exit 0
bool(true)
half.rdump.gz: exit 1: rdump-cli unpack: DIR/half.rdump.gz: the gzip stream is truncated: it ends after %d compressed bytes (%d bytes inflated), before its end and its crc32/length trailer; nothing written
notrailer.rdump.gz: exit 1: rdump-cli unpack: DIR/notrailer.rdump.gz: the gzip stream is truncated: it ends after %d compressed bytes (%d bytes inflated), before its end and its crc32/length trailer; nothing written
crc.rdump.gz: exit 1: rdump-cli unpack: DIR/crc.rdump.gz: the gzip stream is corrupt near compressed offset %d (incorrect data check); nothing written
junk.rdump.gz: exit 1: rdump-cli unpack: DIR/junk.rdump.gz: bytes that are not gzip follow the end of the gzip stream at compressed offset %d; nothing written
plain.rdump.gz: exit 1: rdump-cli unpack: DIR/plain.rdump.gz: is an uncompressed dump already
text.gz: exit 1: rdump-cli unpack: DIR/text.gz: not a compressed dump (no gzip magic 1f 8b at offset 0)
inspect cut: exit 1: %sDIR/cut.rdump.gz: compressed dump does not inflate: the gzip stream is truncated: it ends after %d compressed bytes (%d bytes inflated), before its end and its crc32/length trailer
summary cut: exit 1
no .gz suffix, no -o: exit 2: rdump-cli unpack: DIR/z.rdump does not end in .gz: name the output with -o OUT
missing input: exit 1: rdump-cli unpack: DIR/missing.gz: cannot open: No such file or directory
no input: exit 2
symlink output: exit 1: rdump-cli unpack: DIR/link.rdump: it is a symbolic link; refusing to write through it (File exists)
array(2) {
  [0]=>
  string(7) "z.rdump"
  [1]=>
  string(10) "z.rdump.gz"
}
