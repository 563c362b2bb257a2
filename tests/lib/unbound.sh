# tests/lib/unbound.sh: a private DNS server for tests (Debian's unbound),
# answering only from local data, on 127.0.0.1 and a free high port; and a
# "server" that never answers.  Source it from a POSIX shell script:
#
#	. "$top_srcdir/tests/lib/unbound.sh"
#	dir=$(mktemp -d) || exit 1
#	trap 'unbound_stop "$dir"; rm -rf "$dir"' EXIT
#	unbound_ptr "$dir" 192.0.2.1 mail.example.com	# PTR and A
#	unbound_data "$dir" 'alias.example.com. A 192.0.2.9'
#	unbound_start "$dir" || unbound_skip_or_fail "cannot start unbound"
#	... resolver "$UNBOUND_ADDR" ...
#
# unbound_ptr DIR IP NAME [noforward]
#	Local data: NAME is the PTR of IP and, unless "noforward" is given,
#	NAME has the A (or AAAA) record IP, so the name is forward-confirmed.
# unbound_data DIR RR
#	Any local-data record, in zone-file syntax ("name. TYPE data").
# unbound_conf DIR LINE
#	A raw configuration line (server clause), for example
#	'local-zone: "9.2.0.192.in-addr.arpa." always_refuse'.  Lines that
#	open another clause (stub-zone:) go last.
# unbound_start DIR
#	Write DIR/unbound.conf (every name answered from local data only:
#	local-zone "." static, so a name without data is NXDOMAIN and
#	nothing is ever asked of the Internet; a name with some other type
#	of data answers NODATA), start "unbound -d" in the background on
#	127.0.0.1 on a free port (UDP and TCP), wait until it answers.
#	Exports UNBOUND_PORT and UNBOUND_ADDR (127.0.0.1:PORT).  Runs as the
#	calling user (username "", no chroot), root included.  Returns
#	non-zero with a message (and the log's tail) on failure.
# unbound_stop DIR
#	Stop it (and the silent server); never fails.
# unbound_silent_start DIR
#	A UDP socket on 127.0.0.1 that reads queries and never answers (a
#	dead resolver).  Exports SILENT_PORT, SILENT_ADDR.
# unbound_skip_or_fail MESSAGE
#	Exit 77 (automake SKIP), or 1 when CI=true.

unbound_find()
{
	for _ub in unbound /usr/sbin/unbound; do
		command -v "$_ub" >/dev/null 2>&1 && { command -v "$_ub"; return 0; }
	done
	return 1
}

# A port free for both UDP and TCP on 127.0.0.1.
unbound_free_port()
{
	python3 -c 'import socket
for _ in range(50):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    p = u.getsockname()[1]
    t = socket.socket()
    try:
        t.bind(("127.0.0.1", p))
    except OSError:
        u.close()
        continue
    print(p)
    break'
}

unbound_ptr()
{
	echo "local-data-ptr: \"$2 $3\"" >>"$1/local.conf"
	[ "${4:-}" = noforward ] && return 0
	case $2 in
	*:*) echo "local-data: \"$3. AAAA $2\"" >>"$1/local.conf" ;;
	*) echo "local-data: \"$3. A $2\"" >>"$1/local.conf" ;;
	esac
}

unbound_data()
{
	echo "local-data: \"$2\"" >>"$1/local.conf"
}

unbound_conf()
{
	printf '%s\n' "$2" >>"$1/local.conf"
}

# Ask PORT for probe.invalid. until it answers (any answer): 0, or 1.
unbound_probe()
{
	python3 - "$1" <<'EOF'
import socket, sys, time
port = int(sys.argv[1])
q = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
     b"\x05probe\x07invalid\x00\x00\x01\x00\x01")
end = time.time() + 10
while time.time() < end:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.2)
    try:
        s.sendto(q, ("127.0.0.1", port))
        if s.recv(512)[:2] == b"\x12\x34":
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
    finally:
        s.close()
sys.exit(1)
EOF
}

unbound_start()
{
	_ub_dir=$1
	_ub_bin=$(unbound_find) || {
		echo "unbound_start: unbound not found (apt-get install unbound)" >&2
		return 1; }
	command -v python3 >/dev/null 2>&1 || {
		echo "unbound_start: python3 not found" >&2; return 1; }
	touch "$_ub_dir/local.conf"
	_ub_try=0
	while :; do
		_ub_try=$((_ub_try + 1))
		UNBOUND_PORT=$(unbound_free_port) || return 1
		cat >"$_ub_dir/unbound.conf" <<EOF
server:
	interface: 127.0.0.1@$UNBOUND_PORT
	port: $UNBOUND_PORT
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	username: ""
	chroot: ""
	directory: "$_ub_dir"
	pidfile: "$_ub_dir/unbound.pid"
	use-syslog: no
	logfile: "$_ub_dir/unbound.log"
	verbosity: 1
	num-threads: 1
	module-config: "iterator"
	do-not-query-localhost: yes
	so-reuseport: no
	local-zone: "." static
	local-zone: "localhost." nodefault
	local-zone: "127.in-addr.arpa." nodefault
	local-zone: "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa." nodefault
	include: "$_ub_dir/local.conf"
remote-control:
	control-enable: no
EOF
		: >"$_ub_dir/unbound.log"
		"$_ub_bin" -d -c "$_ub_dir/unbound.conf" \
		    >>"$_ub_dir/unbound.out" 2>&1 &
		echo $! >"$_ub_dir/unbound.bgpid"
		if unbound_probe "$UNBOUND_PORT"; then
			break
		fi
		kill "$(cat "$_ub_dir/unbound.bgpid")" 2>/dev/null
		wait "$(cat "$_ub_dir/unbound.bgpid")" 2>/dev/null
		rm -f "$_ub_dir/unbound.bgpid"
		if [ "$_ub_try" -ge 3 ]; then
			echo "unbound_start: unbound did not answer:" >&2
			tail -n 20 "$_ub_dir/unbound.out" "$_ub_dir/unbound.log" >&2
			return 1
		fi
	done
	UNBOUND_ADDR=127.0.0.1:$UNBOUND_PORT
	export UNBOUND_PORT UNBOUND_ADDR
	return 0
}

unbound_silent_start()
{
	_ub_dir=$1
	SILENT_PORT=$(unbound_free_port) || return 1
	python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
open(sys.argv[2], "w").write("ready\n")
n = 0
while True:
    s.recv(4096)
    n += 1
    open(sys.argv[2], "w").write("%d\n" % n)' "$SILENT_PORT" \
	    "$_ub_dir/silent.count" >/dev/null 2>&1 &
	echo $! >"$_ub_dir/silent.bgpid"
	_ub_n=0
	until [ -s "$_ub_dir/silent.count" ]; do
		_ub_n=$((_ub_n + 1))
		[ "$_ub_n" -ge 50 ] && {
			echo "unbound_silent_start: no listener" >&2; return 1; }
		sleep 0.1
	done
	SILENT_ADDR=127.0.0.1:$SILENT_PORT
	export SILENT_PORT SILENT_ADDR
	return 0
}

unbound_stop()
{
	for _ub_f in "$1/unbound.bgpid" "$1/silent.bgpid"; do
		[ -f "$_ub_f" ] || continue
		_ub_pid=$(cat "$_ub_f")
		kill "$_ub_pid" 2>/dev/null
		_ub_n=0
		while kill -0 "$_ub_pid" 2>/dev/null && [ "$_ub_n" -lt 50 ]; do
			sleep 0.1
			_ub_n=$((_ub_n + 1))
		done
		kill -9 "$_ub_pid" 2>/dev/null
		rm -f "$_ub_f"
	done
	return 0
}

unbound_skip_or_fail()
{
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}
