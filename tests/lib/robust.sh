# tests/lib/robust.sh: helpers shared by the robustness tests
# (tests/server/crash.test, tests/server/faults.test, tests/server/hostile.test).  Source it
# after pg.sh; the caller defines err, note and tmp.
#
# robust_asan
#	true when $DMARC_AGENT was built with AddressSanitizer (memory caps
#	are then not asserted, and loops may be shortened)
# robust_row SCENARIO WHAT PEAK_KIB LOST DUP
#	one line of the table tests/robustness prints, appended to
#	$ROBUST_TABLE when it is set
# robust_peak FILE
#	the peak RSS in KiB that /usr/bin/time -f %M wrote to FILE (0: none)
# robust_check_peak SCENARIO KIB
#	fail when KIB is 64 MiB or more (normal build only)
# robust_crashed RC [STDERR_FILE]
#	true when the agent crashed: an exit status other than 0, 1 (failed),
#	2 (usage) or 137 (the SIGKILL a test sent), or a sanitizer report in
#	STDERR_FILE.  run-all.sh sets ASAN_OPTIONS=exitcode=86 so that a
#	sanitizer's exit is never 1.
# robust_timed OUT -- COMMAND...
#	run COMMAND under /usr/bin/time (peak RSS into OUT), return its status
# robust_wait_line SECONDS PATTERN FILE [PID]
#	wait, at most SECONDS, until a line of FILE matches PATTERN (grep);
#	false when it does not, or when process PID ended without one (an
#	agent paused at a fault point says so in its log: poll-fault.c)

ROBUST_CAP_KIB=65536

robust_asan()
{
	case ${ROBUST_ASAN:-} in
	1|yes|true) return 0;;
	0|no|false) return 1;;
	esac
	nm -D "$DMARC_AGENT" 2>/dev/null | grep -q '__asan_init' ||
	    ldd "$DMARC_AGENT" 2>/dev/null | grep -q libasan
}

robust_row()
{
	[ -n "${ROBUST_TABLE:-}" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" \
	    >>"$ROBUST_TABLE"
}

robust_peak()
{
	_rp=$(tail -n 1 "$1" 2>/dev/null | tr -dc 0-9)
	echo "${_rp:-0}"
}

robust_check_peak()
{
	robust_asan && return 0
	[ "$2" -lt "$ROBUST_CAP_KIB" ] ||
	    err "$1: peak memory $2 KiB, over 64 MiB"
}

robust_crashed()
{
	if [ -n "${2:-}" ] && grep -q 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$2" 2>/dev/null; then
		return 0
	fi
	case $1 in
	0|1|2|137) return 1;;
	esac
	return 0
}

robust_timed()
{
	_rt_out=$1
	shift 2
	/usr/bin/time -f %M -o "$_rt_out" "$@"
}

robust_wait_line()
{
	_wl=$(($1 * 20))
	while [ $_wl -gt 0 ]; do
		grep -q "$2" "$3" 2>/dev/null && return 0
		if [ -n "${4:-}" ] && ! kill -0 "$4" 2>/dev/null; then
			grep -q "$2" "$3" 2>/dev/null
			return
		fi
		sleep 0.05; _wl=$((_wl - 1))
	done
	return 1
}
