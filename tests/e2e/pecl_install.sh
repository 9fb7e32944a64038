#!/usr/bin/env bash
# package.xml lists every tracked source file, and `pecl install` of the
# package builds and installs both the extension and rdump-cli, which work.
set -euo pipefail
cd "${RDUMP_ROOT:?}"
command -v pecl >/dev/null || { echo "pecl (php-pear) is not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "pecl install needs root"; exit 77; }
git rev-parse --git-dir >/dev/null 2>&1 || { echo "not a git checkout"; exit 77; }

work=$(mktemp -d)
trap 'pecl uninstall rdump >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
php scripts/package-xml.php >"$work/package.xml"
if ! diff -u package.xml "$work/package.xml"; then
	echo "package.xml is stale: run php scripts/package-xml.php > package.xml"
	exit 1
fi
# Package from a pristine copy of the tracked files, as a release would.
git ls-files | rsync -a --files-from=- ./ "$work/src/"
(cd "$work/src" && pecl package package.xml >"$work/package.log") || { cat "$work/package.log"; exit 1; }
pecl uninstall rdump >/dev/null 2>&1 || true
pecl install "$work/src"/rdump-*.tgz >"$work/install.log" 2>&1 || { tail -40 "$work/install.log"; exit 1; }
extdir=$(php-config --extension-dir)
test -f "$extdir/rdump.so"
cli=$(php-config --prefix)/bin/rdump-cli
test -f "$cli"
# PEAR copies built files without their mode bits; README tells users to chmod it.
chmod 755 "$cli"
php -n -d extension=rdump.so -r 'exit(rdump_dump($argv[1]) ? 0 : 1);' "$work/x.rdump"
"$cli" inspect "$work/x.rdump" >/dev/null
echo "pecl install: $extdir/rdump.so and $cli work"
rm -f "$cli"
