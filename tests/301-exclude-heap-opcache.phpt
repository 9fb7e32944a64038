--TEST--
exclude_heap with opcache.enable_cli=1: class entries and names in shared memory and the C heap
--EXTENSIONS--
rdump
--SKIPIF--
<?php
if (!extension_loaded('dom')) die('skip dom extension (php8.2-xml) not loaded');
if (!function_exists('opcache_get_status')) die('skip opcache not loaded');
?>
--INI--
opcache.enable=1
opcache.enable_cli=1
--FILE--
<?php
require __DIR__ . '/exclude_heap.inc';
var_dump(opcache_get_status(false)['opcache_enabled']);
rdump_exclude_heap_check('301-exclude-heap-opcache', ['exclude_heap' => true]);
?>
--EXPECT--
bool(true)
bool(true)
bool(true)
summary exit 0
found: 321 ExcludeHeapProbe
found: 1 DOMDocument
found: 1 DOMElement
found: 1 ExcludeHeapBag
found: 1 ArrayObject
found: unreadable pointers: 0
found: tables
less of [heap] captured
