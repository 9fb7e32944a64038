--TEST--
rdump_set_oom_dump(): a path enables the OOM dump for the request, "" disables it even when the INI sets one, null returns to the INI; bad paths, and directories that do not exist, are refused
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$dir = rdump_tmpdir('set-oom-dump');
$cases = [
    'path, INI off' => [[], "var_dump(rdump_set_oom_dump('$dir/override-%p.rdump'));"],
    'empty string, INI on' => [['rdump.oom_dump' => "$dir/ini.rdump"], "var_dump(rdump_set_oom_dump(''));"],
    'null after a path, INI on' => [['rdump.oom_dump' => "$dir/ini.rdump"],
        "var_dump(rdump_set_oom_dump('$dir/never.rdump'), rdump_set_oom_dump(null));"],
    'full' => [[], "var_dump(rdump_set_oom_dump('$dir/full.rdump', true));"],
];
foreach ($cases as $name => [$ini, $code]) {
    [$rc, $out, $err, $pid] = rdump_child($ini, $code . "\n" . rdump_oom_code());
    $said = array_filter(explode("\n", $out), fn ($l) => strncmp($l, 'bool(', 5) === 0);
    echo "$name: rc $rc, stderr '$err', ", implode(' ', $said), "\n  ", rdump_fatal_line($out), "\n";
    foreach (rdump_ls($dir) as $f) {
        echo "  $f ", rdump_check_dump("$dir/$f") === "ok pid=$pid" ? 'ok' : 'BAD', "\n";
    }
    if ($name === 'full') {
        // $full embeds the read-only mappings: the PHP binary's code is in the dump.
        [, $json] = rdump_run('inspect', '--json', "$dir/full.rdump");
        $ro = 0;
        foreach (json_decode($json, true)['memory_map'] as $m) {
            if ($m['kind'] === 'file_readonly') {
                $ro += $m['captured_bytes'];
            }
        }
        var_dump($ro > 0);
    }
    foreach (rdump_ls($dir) as $f) {
        unlink("$dir/$f");
    }
}

// In this process: argument checks.
var_dump(rdump_set_oom_dump("$dir/a\0b.rdump"));
var_dump(rdump_set_oom_dump(str_repeat('x', 5000)));
// Each %t is 10 digits: the template fits (4008 bytes), its expansion (4040) does not, whatever the pid.
var_dump(rdump_set_oom_dump(str_repeat('x', 4000) . '%t%t%t%t'));
// The directory must exist and take new files now, unless it is named after the time of the dump.
var_dump(rdump_set_oom_dump("$dir/missing/x-%p.rdump"));
touch("$dir/file");
var_dump(rdump_set_oom_dump("$dir/file/x.rdump"));
unlink("$dir/file");
var_dump(rdump_set_oom_dump("$dir/by-time-%t/x.rdump"));
var_dump(rdump_set_oom_dump("$dir/ok.rdump"), rdump_set_oom_dump(null), rdump_set_oom_dump(''));
rdump_rmdir($dir);
?>
--EXPECTF--
path, INI off: rc 255, stderr '', bool(true)
  Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  override-%d.rdump ok
empty string, INI on: rc 255, stderr '', bool(true)
  Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
null after a path, INI on: rc 255, stderr '', bool(true) bool(true)
  Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  ini.rdump ok
full: rc 255, stderr '', bool(true)
  Fatal error: Allowed memory size of N bytes exhausted (tried to allocate N bytes)
  full.rdump ok
bool(true)

Warning: rdump_set_oom_dump(): Cannot use "%s/a\0b.rdump" as OOM dump path: the path contains a NUL byte in %s on line %d
bool(false)

Warning: rdump_set_oom_dump(): Cannot use "%s" as OOM dump path: the path is too long (at most 4031 bytes once expanded) in %s on line %d
bool(false)

Warning: rdump_set_oom_dump(): Cannot use "%s" as OOM dump path: the path is too long (at most 4031 bytes once expanded) in %s on line %d
bool(false)

Warning: rdump_set_oom_dump(): Cannot use "%s/missing/x-%d.rdump" as OOM dump path: the directory does not exist (No such file or directory) in %s on line %d
bool(false)

Warning: rdump_set_oom_dump(): Cannot use "%s/file/x.rdump" as OOM dump path: the directory does not exist (Not a directory) in %s on line %d
bool(false)
bool(true)
bool(true)
bool(true)
bool(true)
