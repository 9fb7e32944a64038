#!/usr/bin/env bash
# Builds modules/rdump.so and rdump-cli in the checkout with warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f Makefile ] || [ config.m4 -nt Makefile ] || [ Makefile.frag -nt Makefile ]; then
	phpize >/dev/null
	./configure --enable-rdump CFLAGS="${CFLAGS:--O2 -g -Wall -Wextra -Werror}" >/dev/null
fi
make -j"$(nproc)" >/dev/null
echo "built: modules/rdump.so rdump-cli"
