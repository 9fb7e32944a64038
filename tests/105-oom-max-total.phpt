--TEST--
rdump.oom_dump_max_total: the *.rdump files of the directory plus the incoming dump (ZendMM's real usage) must fit in the budget; K/M/G/T suffixes and decimals
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-max-total');
$M = 1024 * 1024;
// Sparse files: sizes count, not disk blocks.
$make = function (string $name, int $size) use ($dir) {
    $f = fopen("$dir/$name", 'w');
    ftruncate($f, $size);
    fclose($f);
};
// Never counted: other names, directories, symlinks, unfinished temporary files.
$make('notes.txt', 900 * $M);
$make('.rdump-tmp.1.2.3', 900 * $M);
mkdir("$dir/sub.rdump");
$run = function (string $budget, string $case) use ($dir) {
    [$rc, $out, $err, $pid] = rdump_child(['rdump.oom_dump' => "$dir/oom.rdump", 'rdump.oom_dump_max_total' => $budget],
        rdump_oom_code());
    echo "$case: rc $rc, ", rdump_fatal_line($out), "\n";
    echo '  stderr: ', preg_replace('/at least \d+/', 'at least N', str_replace($dir, 'DIR', $err)) ?: "(none)\n";
    echo '  dump: ', file_exists("$dir/oom.rdump") && filesize("$dir/oom.rdump") < 900 * 1024 * 1024
        ? rdump_check_dump("$dir/oom.rdump") === "ok pid=$pid" ? 'written' : 'BAD' : 'none', "\n";
};

// Under: 10M of dumps + ~33M incoming <= 100M; the 900M file being replaced is not counted.
$make('old1.rdump', 10 * $M);
$make('oom.rdump', 900 * $M);
symlink("$dir/oom.rdump", "$dir/link.rdump");
$run('100M', 'under');

// Tips over: 70M of dumps + ~33M incoming > 100M.
unlink("$dir/oom.rdump");
$make('old1.rdump', 50 * $M);
$make('old2.rdump', 20 * $M);
$run('100M', 'incoming tips over');

// Over already.
$make('old1.rdump', 110 * $M);
unlink("$dir/old2.rdump");
$run('100M', 'existing over');

// Decimals: 0.1G = 107374182 bytes; 60M + ~33M fits, 75M + ~33M does not.
$make('old1.rdump', 60 * $M);
$run(' 0.1g ', 'decimal under');
unlink("$dir/oom.rdump");
$make('old1.rdump', 75 * $M);
$run('0.1G', 'decimal over');

// Not a size: the startup warning, then the dump is skipped with the reason.
$run('1,5G', 'invalid');
rdump_rmdir($dir);
?>
--EXPECTF--
under: rc 255, Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  stderr: (none)
  dump: written
incoming tips over: rc 255, Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  stderr: rdump: OOM dump to "DIR/oom.rdump" skipped: rdump.oom_dump_max_total is 104857600 bytes; the directory holds 73400320 bytes of dumps and this one needs at least N
  dump: none
existing over: rc 255, Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  stderr: rdump: OOM dump to "DIR/oom.rdump" skipped: rdump.oom_dump_max_total is 104857600 bytes; the directory holds 115343360 bytes of dumps and this one needs at least N
  dump: none
decimal under: rc 255, Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  stderr: (none)
  dump: written
decimal over: rc 255, Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  stderr: rdump: OOM dump to "DIR/oom.rdump" skipped: rdump.oom_dump_max_total is 107374182 bytes; the directory holds 78643200 bytes of dumps and this one needs at least N
  dump: none
invalid: rc 255, Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  stderr: rdump: OOM dump to "DIR/oom.rdump" skipped: rdump.oom_dump_max_total "1,5G": unexpected characters (use digits, an optional fraction with '.', and K, M, G or T)
  dump: none
