--TEST--
rdump-cli summary recovers stack, object count and a global from a dump
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/summary_scenario.inc';
rdump_check_summary('020-summary');
?>
--EXPECT--
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
