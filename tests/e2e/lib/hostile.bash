# Sourced by the hostile_* end-to-end tests. Long runs belong to the primary
# build (PHP 8.2 NTS, CI's host); the other builds of scripts/test-versions.sh
# run the quick set (README, "Robustness"). RDUMP_HOSTILE=full or quick forces one.
hostile_mode=${RDUMP_HOSTILE:-$(php -r 'echo PHP_MAJOR_VERSION == 8 && PHP_MINOR_VERSION == 2 && !PHP_ZTS ? "full" : "quick";')}

# Skips the test (exit 77) outside the full mode, saying what "$1" only the primary build does.
hostile_full_only() {
	[ "$hostile_mode" != full ] || return 0
	echo "skipped: $1 on the primary build (PHP 8.2 NTS); this is PHP $(php -r 'echo PHP_VERSION, PHP_ZTS ? " ZTS" : "";') (RDUMP_HOSTILE=full forces it)"
	exit 77
}
