--TEST--
rdump-cli summary recovers the same state with opcache.enable_cli=1
--EXTENSIONS--
rdump
--SKIPIF--
<?php if (!function_exists('opcache_get_status')) die('skip opcache not loaded'); ?>
--INI--
opcache.enable=1
opcache.enable_cli=1
--FILE--
<?php
require __DIR__ . '/summary_scenario.inc';
var_dump(opcache_get_status(false)['opcache_enabled']);
rdump_check_summary('021-summary-opcache');
?>
--EXPECT--
bool(true)
bool(true)
exit 0
found: #0 rdump_dump() [internal function]
found: #1 rdump_probe_inner() FILE:15
found: #2 rdump_probe_middle() FILE:14
found: #3 rdump_probe_outer() FILE:13
found: #4 rdump_check_summary() FILE:26
found: 12345 SummaryProbe
found: needle
found: unreadable pointers: 0
