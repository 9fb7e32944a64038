<?php
// Writes package.xml (PECL) from the files git tracks, so the package never
// misses a source file. Usage: php scripts/package-xml.php > package.xml
$root = dirname(__DIR__);
$files = explode("\n", trim(shell_exec('git -C ' . escapeshellarg($root) . ' ls-files')));
$files = array_filter($files, fn($f) => $f !== '' && $f !== 'package.xml' && $f !== '.gitignore' && !str_starts_with($f, '.ci/'));
sort($files);
preg_match('/#define RDUMP_EXT_VERSION\s+"([^"]+)"/', file_get_contents("$root/format/rdump_format.h"), $m);
$version = $m[1];

function role(string $f): string
{
    if (str_starts_with($f, 'tests/')) {
        return 'test';
    }
    if (preg_match('/\.(c|h|m4|w32|frag)$/', $f) || $f === 'config.m4') {
        return 'src';
    }
    return 'doc';
}

$entries = '';
foreach ($files as $f) {
    $entries .= sprintf("   <file name=\"%s\" role=\"%s\"/>\n", htmlspecialchars($f, ENT_XML1), role($f));
}
// The release date: when the version line last changed, the same in every clone on any day.
$date = trim((string) shell_exec('git -C ' . escapeshellarg($root) . ' log -1 --format=%cs -- format/rdump_format.h'));
if (!preg_match('/^\d{4}-\d{2}-\d{2}$/', $date)) {
    $date = date('Y-m-d', filemtime("$root/format/rdump_format.h"));
}
echo <<<XML
<?xml version="1.0" encoding="UTF-8"?>
<package packagerversion="1.10.13" version="2.0" xmlns="http://pear.php.net/dtd/package-2.0" xmlns:tasks="http://pear.php.net/dtd/tasks-1.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://pear.php.net/dtd/tasks-1.0 http://pear.php.net/dtd/tasks-1.0.xsd http://pear.php.net/dtd/package-2.0 http://pear.php.net/dtd/package-2.0.xsd">
 <name>rdump</name>
 <channel>pecl.php.net</channel>
 <summary>Memory dumps of PHP processes for offline analysis with reli</summary>
 <description>rdump writes snapshots of a PHP process's memory in the RDUMP format that reli analyses: rdump_dump(), automatic dumps when a request dies on memory_limit, signal dumps, and the rdump-cli tool (inspect, summary, dumps from outside). Linux only.</description>
 <lead>
  <name>rdump authors</name>
  <user>rdump</user>
  <email>rdump@localhost</email>
  <active>yes</active>
 </lead>
 <date>2026-11-25</date>
 <version>
  <release>$version</release>
  <api>$version</api>
 </version>
 <stability>
  <release>beta</release>
  <api>beta</api>
 </stability>
 <license uri="https://opensource.org/licenses/MIT">MIT</license>
 <notes>See README.md.</notes>
 <contents>
  <dir name="/">
$entries  </dir>
 </contents>
 <dependencies>
  <required>
   <php>
    <min>7.0.0</min>
   </php>
   <pearinstaller>
    <min>1.10.0</min>
   </pearinstaller>
   <os>
    <name>linux</name>
   </os>
  </required>
 </dependencies>
 <providesextension>rdump</providesextension>
 <extsrcrelease/>
</package>

XML;
