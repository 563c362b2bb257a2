#!/bin/sh
# The test command: install what is needed, build from scratch, run every
# test (make check), then make distcheck; then the later stages, each with
# a banner and its time:
#   package     tests/server/package.test: the Debian package built from
#               the committed HEAD, lintian, installed, a poll by the
#               installed binary, removed and purged (as root; once, not
#               in every build as a make check test would be)
#   robustness  the table of tests/robustness, from make check's run of
#               tests/server/crash.test, faults.test and hostile.test
#   asan        a second build with --enable-asan (AddressSanitizer,
#               LeakSanitizer and UndefinedBehaviorSanitizer) and make check
#               in it, with the slow loops shortened (ROBUST_SHORT=1; memory
#               caps are asserted only in the normal build)
#   valgrind    every unit test under valgrind: no leaks, no invalid access
#               (the daemon runs under valgrind in make check's leaks.test)
#   fuzz        a clang --enable-fuzzing build; each libFuzzer target runs
#               FUZZ_SECONDS (default 40) seeded from the corpus and tests/
# RUN_ALL_QUICK=1 skips the robustness stages.  The last line is
# "run-all: N passed, N failed" over the stages; exit status is the verdict.
#
# A skipped test proves nothing, so skips fail the run: when make check (or
# the asan stage's) skipped a test, or a unit test's corpus part did not run
# under valgrind, run-all prints
#   run-all: SKIPPED N tests: NAMES; this run proves nothing about them
# and exits non-zero.  ALLOW_SKIP=1 asks for skips to be accepted (on a
# machine without some server, say): the line is printed all the same.
# .ci/run sets CI=true, under which a server that cannot start or a missing
# corpus fails the test itself.
#
#   sh tests/run-all.sh --summary BUILDDIR
# prints only the verdict on a make check already run in BUILDDIR (its
# counts, the logs of failed tests, the skipped ones), with the same exit
# status as a full run would give after make check.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)

# make check's counts in build dir $1 ($2: a label such as " (asan)").
summary() {
	pass=$(sed -n 's/^# PASS: *//p' "$1/test-suite.log" 2>/dev/null || :)
	failn=$(sed -n 's/^# FAIL: *//p' "$1/test-suite.log" 2>/dev/null || :)
	errn=$(sed -n 's/^# ERROR: *//p' "$1/test-suite.log" 2>/dev/null || :)
	skip=$(sed -n 's/^# SKIP: *//p' "$1/test-suite.log" 2>/dev/null || :)
	echo "make check${2:-}: ${pass:-0} passed, $(( ${failn:-0} + ${errn:-0} )) failed, ${skip:-0} skipped"
}
failed_logs() {
	for f in $(find "$1" -name '*.log' ! -name config.log ! -name test-suite.log); do
		if grep -q '^:test-result: FAIL\|^:test-result: ERROR' "${f%.log}.trs" 2>/dev/null; then
			echo "===== $f"; tail -n 60 "$f"
		fi
	done
}
# The tests make check skipped in build dir $1 (the headings of its
# test-suite.log), one a line, each with the reason its log gives when $2
# is set.
skipped_tests() {
	for t in $(awk 'p ~ /^SKIP: / && /^=+$/ { print substr(p, 7) } { p = $0 }' \
	    "$1/test-suite.log" 2>/dev/null); do
		n=$(sed -n 's/^SKIP \(.*\) (exit status: .*/\1/p' "$1/$t.log" 2>/dev/null || :)
		[ -z "${2:-}" ] && echo "${n:-$t}" ||
		    echo "  ${n:-$t}: $(grep -v '^SKIP ' "$1/$t.log" 2>/dev/null | grep 'SKIP\|, skipped$' | tail -n 1)"
	done
}
# Say loudly that the tests named in $1 (a label in $2) were skipped;
# return 1 unless ALLOW_SKIP=1.  Every such line is kept in $skiplines to
# be said again at the end.
skip_verdict() {
	[ -n "$1" ] || return 0
	set -- "$(echo $1)" "${2:-}" $(echo $1 | wc -w)
	line="run-all: SKIPPED $3 tests$2: $1; this run proves nothing about them"
	skiplines="$skiplines$line
"
	echo "$line"
	[ "${ALLOW_SKIP:-}" = 1 ] && { echo "run-all: ALLOW_SKIP=1: skips accepted"; return 0; }
	return 1
}
skiplines=
# The verdict on make check in build dir $1 ($2: label, $3: make's exit
# status): counts, failed logs, skips.  Returns 0 or 1.
check_verdict() {
	summary "$1" "$2"
	_bad=$3
	[ -f "$1/test-suite.log" ] || { echo "run-all: no $1/test-suite.log"; _bad=1; }
	[ $(( ${failn:-0} + ${errn:-0} )) -eq 0 ] || _bad=1
	[ "$_bad" -eq 0 ] || failed_logs "$1"
	skipped_tests "$1" why
	skip_verdict "$(skipped_tests "$1")" "$2" || _bad=1
	[ "$_bad" -eq 0 ]
}

if [ $# -gt 0 ]; then
	[ "$1" = --summary ] && [ $# -eq 2 ] ||
	    { echo "usage: sh tests/run-all.sh [--summary BUILDDIR]" >&2; exit 2; }
	check_verdict "${2%/}" "" 0 && echo "run-all: make check passed" ||
	    { echo "run-all: make check FAILED"; exit 1; }
	exit 0
fi

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
ROBUST_TABLE=$build/robustness.tsv
export ROBUST_TABLE
: >"$ROBUST_TABLE"
make -j2 check DMARC_CORPUS="$corpus" || status=1
unset ROBUST_TABLE
check_verdict "$build" "" $status || { echo "run-all: make check FAILED"; exit 1; }
# On failure distcheck leaves its tree: show the failed tests' logs first,
# as for make check, then the end of its own output.
make -j2 distcheck DMARC_CORPUS="$corpus" >distcheck.log 2>&1 || {
	for d in "$build"/dmarc-agent-*/_build; do
		[ -d "$d" ] && failed_logs "$d"
	done
	tail -n 80 distcheck.log; echo "run-all: make distcheck failed"; exit 1; }
echo "run-all: make distcheck passed"
[ -n "${RUN_ALL_QUICK:-}" ] && exit 0

# The robustness stages.  Each one: banner, work, "stage: ok|FAILED in Ns".
npass=2 nfail=0		# make check and distcheck
stage_start() { echo "===== run-all: $1"; stage_t0=$(date +%s); }
stage_end() {	# $1: name, $2: 0 ok
	t=$(( $(date +%s) - stage_t0 ))
	if [ "$2" -eq 0 ]; then
		npass=$((npass + 1)); echo "run-all: $1 ok in ${t}s"
	else
		nfail=$((nfail + 1)); echo "run-all: $1 FAILED in ${t}s"
	fi
}

stage_start "package: the Debian package, built, installed, used, purged"
rc=0
(cd "$build" && top_srcdir=$top DMARC_CORPUS=$corpus sh "$top/tests/server/package.test") \
    >"$build/package.log" 2>&1 || rc=$?
tail -n 25 "$build/package.log"
if [ $rc -eq 77 ]; then
	echo "run-all: SKIPPED 1 tests: tests/server/package.test ($(sed -n 's/^package.test: SKIP: //p' "$build/package.log"))"
	[ "${ALLOW_SKIP:-}" = 1 ] && rc=0
fi
stage_end package $rc

stage_start "robustness table (tests/robustness, from make check)"
rc=0
sh "$top/tests/robustness" --print "$build/robustness.tsv" || rc=1
stage_end robustness $rc

stage_start "asan: --enable-asan build, make check (ROBUST_SHORT=1, leaks on)"
rc=0
asan=$top/build-asan
rm -rf "$asan"; mkdir -p "$asan/sanitizer"
# LeakSanitizer on, with tests/lsan.supp (libraries' own leaks only).  A
# report makes the process exit 86 (which the tests check), and is written
# to a file of its own under build-asan/sanitizer/ instead of stderr, so
# that it fails the stage even from a run whose exit status a test does
# not look at (tests/server/leaks.test keeps its agents' reports itself).
(
	cd "$asan"
	"$top/configure" -q --enable-werror --enable-asan &&
	make -j2 >/dev/null &&
	ASAN_OPTIONS=exitcode=86:detect_leaks=1:abort_on_error=0:log_path=$asan/sanitizer/report \
	LSAN_OPTIONS=suppressions=$top/tests/lsan.supp \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ROBUST_SHORT=1 ROBUST_ASAN=1 make -j2 check DMARC_CORPUS="$corpus" >check.out 2>&1
) || rc=1
check_verdict "$asan" " (asan)" $rc || rc=1
# LeakSanitizer writes "Unable to get registers from thread N." when a
# thread exits while it stops the process for its check: a note about the
# tracer, not a finding (it goes on with the other threads, and any leak
# it then finds is a report of its own).  A file of nothing else is shown,
# not failed; anything more fails the stage.
for f in "$asan"/sanitizer/report.*; do
	[ -s "$f" ] || continue
	if ! grep -qv '^==[0-9]*==Unable to get registers from thread [0-9]*\.$' "$f"; then
		echo "asan: note, LeakSanitizer's tracer only, in $f: $(head -n 1 "$f")"
		continue
	fi
	rc=1; echo "asan: sanitizer report $f:"; head -n 60 "$f"
done
stage_end asan $rc

stage_start "valgrind: unit tests"
rc=0 vskip=
for t in "$build"/tests/unit/tst_*; do
	[ -x "$t" ] || continue
	case $t in *.o|*.log|*.trs) continue;; esac
	vrc=0
	DMARC_CORPUS="$corpus" top_srcdir="$top" RUNNING_ON_VALGRIND=1 \
	    valgrind -q --error-exitcode=99 --leak-check=full \
	    --suppressions="$top/tests/valgrind.supp" \
	    --errors-for-leak-kinds=definite,indirect --show-leak-kinds=definite,indirect \
	    "$t" >"$t.valgrind" 2>&1 || vrc=$?
	case $vrc in
	0)	echo "valgrind: ${t##*/}: clean";;
	77)	echo "valgrind: ${t##*/}: clean, but a part was SKIPPED"
		vskip="$vskip ${t##*/}";;
	*)	rc=1; echo "valgrind: ${t##*/}: FAILED"; tail -n 40 "$t.valgrind";;
	esac
done
skip_verdict "$vskip" " (valgrind)" || rc=1
stage_end valgrind $rc

stage_start "fuzz: libFuzzer targets, ${FUZZ_SECONDS:-40}s each"
rc=0
fz=$top/build-fuzz
rm -rf "$fz"; mkdir -p "$fz"
if (cd "$fz" && "$top/configure" -q CC=clang --enable-fuzzing >/dev/null &&
    make -j2 tests/fuzz/conf-fuzzer tests/fuzz/imap-parse-fuzzer \
    tests/fuzz/mime-fuzzer tests/fuzz/report-fuzzer \
    tests/fuzz/tlsrpt-fuzzer >make.out 2>&1); then
	sh "$top/tests/fuzz/seeds.sh" "$top" "$corpus" "$fz/seeds"
	# Regression inputs (every crash found): strict leak checking; the
	# ones in tests/fuzz/regress/XFAIL must still fail until fixed.
	for r in "$top"/tests/fuzz/regress/*/*; do
		t=${r#"$top"/tests/fuzz/regress/}; t=${t%%/*}
		name=$t/${r##*/}
		if LSAN_OPTIONS=suppressions=$top/tests/fuzz/lsan.supp \
		    "$fz/tests/fuzz/$t-fuzzer" "$r" </dev/null >"$fz/regress.log" 2>&1; then
			r=pass
		else
			r=fail
		fi
		if grep -qx "$name" "$top/tests/fuzz/regress/XFAIL"; then
			[ $r = fail ] && echo "fuzz: regress $name: XFAIL (known bug)" ||
			    { echo "fuzz: regress $name: XPASS (fixed? remove it from tests/fuzz/regress/XFAIL and lsan-xfail.supp)"; rc=1; }
		elif [ $r = pass ]; then
			echo "fuzz: regress $name: ok"
		else
			rc=1; echo "fuzz: regress $name: FAILED"; tail -n 30 "$fz/regress.log"
		fi
	done
	for t in conf imap-parse mime report tlsrpt; do
		mkdir -p "$fz/work-$t"
		if LSAN_OPTIONS=suppressions=$top/tests/fuzz/lsan-xfail.supp \
		    "$fz/tests/fuzz/$t-fuzzer" -max_total_time="${FUZZ_SECONDS:-40}" \
		    -rss_limit_mb=2048 -timeout=30 -print_final_stats=1 \
		    -artifact_prefix="$fz/crash-$t-" "$fz/work-$t" "$fz/seeds/$t" \
		    </dev/null >"$fz/$t.log" 2>&1; then
			r=ok
		else
			r=FAILED; rc=1
		fi
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$fz/$t.log")
		secs=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$fz/$t.log")
		echo "fuzz: $t-fuzzer: $r, ${runs:-?} executions in ${secs:-?}s, $(ls "$fz"/crash-$t-* 2>/dev/null | wc -l) crashes"
		[ $r = ok ] || grep -A 30 'ERROR\|==ERROR' "$fz/$t.log" | head -40
	done
else
	rc=1; tail -n 30 "$fz/make.out"
fi
stage_end fuzz $rc

printf '%s' "$skiplines"
echo "run-all: $npass passed, $nfail failed"
[ $nfail -eq 0 ]
