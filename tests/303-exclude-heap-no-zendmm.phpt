--TEST--
exclude_heap without ZendMM (USE_ZEND_ALLOC=0): a warning, and the C heap, where PHP's data is, is kept
--EXTENSIONS--
rdump
--ENV--
USE_ZEND_ALLOC=0
--FILE--
<?php
require __DIR__ . '/rdump_test.inc';
class NoZendMM { public $n; function __construct($n) { $this->n = $n; } }
$keep = [];
for ($i = 0; $i < 250; $i++) {
    $keep[] = new NoZendMM($i);
}
$dir = rdump_tmpdir('303-exclude-heap-no-zendmm');
$path = "$dir/x.rdump";
var_dump(rdump_dump($path, false, ['exclude_heap' => true]));
[$rc, $out] = rdump_run('summary', $path);
echo "summary exit $rc\n";
$lines = array_map('trim', explode("\n", $out));
foreach (['250 NoZendMM', 'unreadable pointers: 0'] as $w) {
    echo in_array($w, $lines, true) ? "found: $w\n" : "MISSING: $w\n";
}
if ($rc !== 0) {
    echo $out, "\n";
}
rdump_rmdir($dir);
?>
--EXPECTF--
Warning: rdump_dump(): exclude_heap ignored for "%s/x.rdump": with USE_ZEND_ALLOC=0 PHP's own memory is in the C heap, which is kept in %s on line %d
bool(true)
summary exit 0
found: 250 NoZendMM
found: unreadable pointers: 0
