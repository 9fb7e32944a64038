#!/usr/bin/env bash
# Runs bench/dump_vs_naive.php against the built extension (run by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
php -n -d memory_limit=-1 -d extension="$PWD/modules/rdump.so" bench/dump_vs_naive.php "$@"
