#!/bin/sh
# Build the Debian package of dmarc-agent from the committed HEAD of this
# checkout, in a temporary directory, so that nothing of a build tree (or of
# uncommitted work) gets in:
#
#	sh packaging/build-deb.sh [OUTDIR]      (or: make deb)
#
# Needs the build dependencies of debian/control (as root:
# `apt-get build-dep ./`, or `sh tests/lib/install-deps.sh`) and git.
# Leaves in OUTDIR (default: the current directory)
# dmarc-agent_VERSION_ARCH.deb, its -dbgsym package, .buildinfo and
# .changes, and prints their names.  Exits non-zero when configure.ac and
# debian/changelog disagree on the version, or when the build fails.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
out=$(cd "${1:-.}" && pwd)

ver=$(sed -n 's/^AC_INIT(\[dmarc-agent\], *\[\([^]]*\)\].*/\1/p' "$src/configure.ac")
debver=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
if [ -z "$ver" ] || [ "${debver%-*}" != "$ver" ]; then
	echo "build-deb: configure.ac says version '$ver', debian/changelog" \
	    "'$debver': add a debian/changelog entry for $ver-1" >&2
	exit 1
fi
git -C "$src" rev-parse --verify -q HEAD >/dev/null || {
	echo "build-deb: $src is not a git checkout with a commit" >&2; exit 1; }
[ -z "$(git -C "$src" status --porcelain --untracked-files=no)" ] ||
    echo "build-deb: warning: uncommitted changes are not in the package" >&2

tmp=$(mktemp -d /tmp/dmarc-agent-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
git -C "$src" archive --format=tar --prefix="dmarc-agent-$ver/" HEAD |
    tar -x -C "$tmp"
(
	cd "$tmp/dmarc-agent-$ver"
	dpkg-checkbuilddeps
	dpkg-buildpackage -us -uc -b
) >"$tmp/build.log" 2>&1 || {
	tail -n 60 "$tmp/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed" >&2
	exit 1
}
for f in "$tmp"/*.deb "$tmp"/*.ddeb "$tmp"/*.buildinfo "$tmp"/*.changes; do
	[ -e "$f" ] || continue
	cp "$f" "$out/"
	echo "$out/${f##*/}"
done
