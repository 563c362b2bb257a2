#!/bin/sh
# The test command: install what is needed, build from scratch, run every
# test (make check), then make distcheck.  Exit status is the verdict.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
corpus=${DMARC_CORPUS:-$top/../shared/corpus}
corpus=$(cd "$corpus" 2>/dev/null && pwd || echo "$corpus")
sh tests/lib/install-deps.sh
./autogen.sh >/dev/null 2>&1 || ./autogen.sh
build=$top/build-test
rm -rf "$build"
mkdir -p "$build"
cd "$build"
"$top/configure" -q --enable-werror
make -j2 >/dev/null
status=0
make -j2 check DMARC_CORPUS="$corpus" || status=1
summary() {
	pass=$(sed -n 's/^# PASS: *//p' test-suite.log 2>/dev/null)
	failn=$(sed -n 's/^# FAIL: *//p' test-suite.log 2>/dev/null)
	errn=$(sed -n 's/^# ERROR: *//p' test-suite.log 2>/dev/null)
	skip=$(sed -n 's/^# SKIP: *//p' test-suite.log 2>/dev/null)
	echo "make check: ${pass:-0} passed, $(( ${failn:-0} + ${errn:-0} )) failed, ${skip:-0} skipped"
}
if [ $status -ne 0 ]; then
	summary
	for f in $(find . -name '*.log' ! -name config.log ! -name test-suite.log); do
		if grep -q '^:test-result: FAIL\|^:test-result: ERROR' "${f%.log}.trs" 2>/dev/null; then
			echo "===== $f"; tail -n 60 "$f"
		fi
	done
	exit 1
fi
make -j2 distcheck DMARC_CORPUS="$corpus" >distcheck.log 2>&1 || {
	tail -n 80 distcheck.log; echo "run-all: make distcheck failed"; exit 1; }
echo "run-all: make distcheck passed"
summary
