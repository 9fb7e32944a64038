#!/usr/bin/env bash
# Runs bench/compress.php (compressed vs uncompressed dumps, opcache on)
# against the built extension; run by hand: bench/compress.sh [MB] [RUNS] [DIR] [LEVELS]
set -euo pipefail
cd "$(dirname "$0")/.."
php -n -d memory_limit=-1 -d zend_extension=opcache -d opcache.enable=1 -d opcache.enable_cli=1 \
	-d extension="$PWD/modules/rdump.so" bench/compress.php "$@"
