--TEST--
Automatic-dump INI settings that cannot work are reported at startup: a bad size, negative limits, a signal that cannot or must not be caught, a signal without a path
--EXTENSIONS--
rdump
--FILE--
<?php
require __DIR__ . '/rdump_trigger.inc';
$cases = [
    ['rdump.oom_dump_max_total' => '12 apples'],
    ['rdump.oom_dump_max_total' => '-1G'],
    ['rdump.oom_dump_max' => '-1'],
    ['rdump.oom_dump_min_interval' => '-5'],
    ['rdump.signal' => 'SIGKILL', 'rdump.signal_dump' => '/tmp/x.rdump'],
    ['rdump.signal' => 'SIGSEGV', 'rdump.signal_dump' => '/tmp/x.rdump'],
    ['rdump.signal' => 'SIGPROF', 'rdump.signal_dump' => '/tmp/x.rdump'],
    ['rdump.signal' => 'SIGNOPE', 'rdump.signal_dump' => '/tmp/x.rdump'],
    ['rdump.signal' => 'SIGUSR2'],
    // Fine: no warning.
    ['rdump.oom_dump_max_total' => '1.5G', 'rdump.signal' => 'usr2', 'rdump.signal_dump' => '/tmp/x-%p.rdump'],
];
foreach ($cases as $ini) {
    [$rc, $out, $err] = rdump_child($ini, 'echo "ran\n";');
    echo json_encode($ini, JSON_UNESCAPED_SLASHES), " rc $rc\n";
    foreach (explode("\n", trim($out)) as $line) {
        if ($line !== '' && !preg_match('/^\d+$/', $line)) {
            echo "  $line\n";
        }
    }
}
?>
--EXPECT--
{"rdump.oom_dump_max_total":"12 apples"} rc 0
  Warning: PHP Startup: rdump.oom_dump_max_total "12 apples": unexpected characters (use digits, an optional fraction with '.', and K, M, G or T); OOM dumps will be skipped in Unknown on line 0
  ran
{"rdump.oom_dump_max_total":"-1G"} rc 0
  Warning: PHP Startup: rdump.oom_dump_max_total "-1G": a size cannot be negative; OOM dumps will be skipped in Unknown on line 0
  ran
{"rdump.oom_dump_max":"-1"} rc 0
  Warning: PHP Startup: rdump.oom_dump_max and rdump.oom_dump_min_interval must be 0 or more; OOM dumps will be skipped in Unknown on line 0
  ran
{"rdump.oom_dump_min_interval":"-5"} rc 0
  Warning: PHP Startup: rdump.oom_dump_max and rdump.oom_dump_min_interval must be 0 or more; OOM dumps will be skipped in Unknown on line 0
  ran
{"rdump.signal":"SIGKILL","rdump.signal_dump":"/tmp/x.rdump"} rc 0
  Warning: PHP Startup: rdump.signal "SIGKILL": this signal cannot be caught; signal dumps are off in Unknown on line 0
  ran
{"rdump.signal":"SIGSEGV","rdump.signal_dump":"/tmp/x.rdump"} rc 0
  Warning: PHP Startup: rdump.signal "SIGSEGV": this signal reports a fault; a dump on it would hide crashes; signal dumps are off in Unknown on line 0
  ran
{"rdump.signal":"SIGPROF","rdump.signal_dump":"/tmp/x.rdump"} rc 0
  Warning: PHP Startup: rdump.signal "SIGPROF": PHP relies on this signal (timeouts, child processes); signal dumps are off in Unknown on line 0
  ran
{"rdump.signal":"SIGNOPE","rdump.signal_dump":"/tmp/x.rdump"} rc 0
  Warning: PHP Startup: rdump.signal "SIGNOPE": unknown signal name (use e.g. SIGUSR2, SIGRTMIN+1 or a number); signal dumps are off in Unknown on line 0
  ran
{"rdump.signal":"SIGUSR2"} rc 0
  Warning: PHP Startup: rdump.signal is set but rdump.signal_dump (the path template) is empty; signal dumps are off in Unknown on line 0
  ran
{"rdump.oom_dump_max_total":"1.5G","rdump.signal":"usr2","rdump.signal_dump":"/tmp/x-%p.rdump"} rc 0
  ran
