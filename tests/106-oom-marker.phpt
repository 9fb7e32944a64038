--TEST--
rdump.oom_dump_marker: a stale <path>.done is removed before the dump starts, an empty one is written after a complete dump, none after a failed one
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('oom-marker');
foreach (['0', '1'] as $async) {
    // Success: the stale marker (with contents) is replaced by an empty one written after the dump.
    file_put_contents("$dir/oom.rdump.done", "stale");
    $ino = fileinode("$dir/oom.rdump.done");
    // A second link keeps the stale inode allocated, so the file system cannot give its number to the new marker.
    link("$dir/oom.rdump.done", "$dir.keep");
    [$rc, $out, $err, $pid] = rdump_child(['rdump.oom_dump' => "$dir/oom.rdump", 'rdump.oom_dump_marker' => '1',
        'rdump.async' => $async], rdump_oom_code());
    rdump_wait_for("$dir/oom.rdump.done");
    clearstatcache();
    echo "async $async: rc $rc, stderr '$err'\n";
    var_dump(rdump_check_dump("$dir/oom.rdump") === "ok pid=$pid");
    var_dump(filesize("$dir/oom.rdump.done"), fileinode("$dir/oom.rdump.done") !== $ino);
    var_dump(filemtime("$dir/oom.rdump.done") >= filemtime("$dir/oom.rdump"));
    unlink("$dir/oom.rdump");
    unlink("$dir.keep");

    // Failure (a directory stands at the path): the stale marker is gone and no new one appears.
    mkdir("$dir/oom.rdump");
    [$rc, $out, $err] = rdump_child(['rdump.oom_dump' => "$dir/oom.rdump", 'rdump.oom_dump_marker' => '1',
        'rdump.async' => $async], rdump_oom_code());
    echo str_replace($dir, 'DIR', $err);
    var_dump(rdump_ls($dir));
    rmdir("$dir/oom.rdump");
}

// Without the setting a marker is neither written nor removed.
file_put_contents("$dir/oom.rdump.done", "kept");
rdump_child(['rdump.oom_dump' => "$dir/oom.rdump"], rdump_oom_code());
var_dump(rdump_ls($dir), file_get_contents("$dir/oom.rdump.done"));
rdump_rmdir($dir);
?>
--EXPECT--
async 0: rc 255, stderr ''
bool(true)
int(0)
bool(true)
bool(true)
rdump: OOM dump to "DIR/oom.rdump" failed: it is a directory (Is a directory)
array(1) {
  [0]=>
  string(9) "oom.rdump"
}
async 1: rc 255, stderr ''
bool(true)
int(0)
bool(true)
bool(true)
rdump: OOM dump to "DIR/oom.rdump" failed: it is a directory (Is a directory)
array(1) {
  [0]=>
  string(9) "oom.rdump"
}
array(2) {
  [0]=>
  string(9) "oom.rdump"
  [1]=>
  string(14) "oom.rdump.done"
}
string(4) "kept"
