--TEST--
rdump_dump($path, true) embeds read-only file-backed mappings but never [vvar], [vdso] or [vsyscall]; the default dump embeds none
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
$dir = rdump_tmpdir('full');
$kinds = function (string $path): array {
    [$rc, $out] = rdump_run('inspect', '--json', $path);
    $d = json_decode($out, true);
    $by = [];
    foreach ($d['memory_map'] as $m) {
        $key = in_array($m['name'], ['[vvar]', '[vdso]', '[vsyscall]', '[vvar_vclock]'], true) ? 'special' : $m['kind'];
        $by[$key] = ($by[$key] ?? 0) + $m['captured_bytes'];
        if ($m['perms'][0] === 'r' && $m['kind'] === 'file_readonly' && $m['captured_bytes'] !== $m['size']) {
            $by['partial_ro'] = ($by['partial_ro'] ?? 0) + 1;
        }
    }
    return [$rc, $by, count($d['memory_map'])];
};
var_dump(rdump_dump("$dir/default.rdump"));
var_dump(rdump_dump("$dir/full.rdump", true));
[$rc, $default] = $kinds("$dir/default.rdump");
[$rc2, $full, $entries] = $kinds("$dir/full.rdump");
var_dump($rc, $rc2);
var_dump(($default['file_readonly'] ?? 0) === 0);
var_dump($full['file_readonly'] > 1000000);
var_dump(($full['partial_ro'] ?? 0) === 0);
var_dump(($full['special'] ?? 0) === 0);
// The memory map lists every line of /proc/self/maps, captured or not (give or take our own mappings).
var_dump(abs($entries - count(file('/proc/self/maps'))) < 20);
rdump_rmdir($dir);
?>
--EXPECT--
bool(true)
bool(true)
int(0)
int(0)
bool(true)
bool(true)
bool(true)
bool(true)
bool(true)
