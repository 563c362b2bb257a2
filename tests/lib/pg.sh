# tests/lib/pg.sh: a throwaway PostgreSQL cluster for tests and the quick
# start.  Source it from a POSIX shell script:
#
#	. "$top_srcdir/tests/lib/pg.sh"
#	dir=$(mktemp -d) || exit 1
#	trap 'pg_stop "$dir"; rm -rf "$dir"' EXIT
#	pg_start "$dir" || pg_skip_or_fail "cannot start PostgreSQL"
#
# pg_start DIR
#	initdb a cluster in DIR/data, listening on 127.0.0.1 only, on a free
#	high port, with its Unix socket in DIR.  Creates the role "dmarc"
#	(password "dmarc-test", CREATEDB, password auth over TCP) and the
#	database "dmarc" it owns.  Exports PGHOST=127.0.0.1 PGPORT PGUSER=dmarc
#	PGPASSWORD PGDATABASE=dmarc DMARC_CONNINFO, and PG_BINDIR, PG_SOCKDIR
#	(DIR), PG_SUPERUSER (postgres, trusted on the socket only).  Returns
#	non-zero with a message on stderr (and the server log's tail) on
#	failure; it never exits.
#	When run as root, DIR is chown'd to the "postgres" system user and
#	initdb/pg_ctl run through runuser (they refuse root); DIR's parents
#	must then be searchable by that user (mktemp -d in /tmp is).
#	PG_FSYNC (default off) sets fsync; PG_BINDIR, when set, is used as is.
# pg_stop DIR
#	Stop the cluster (fast, then immediate); never fails.  Does not remove
#	DIR.
# pg_restart DIR
#	Start again a cluster that pg_start made in DIR and pg_stop stopped:
#	same data, same port, same environment.  Returns non-zero on failure.
# pg_admin_psql ARGS...
#	psql as the superuser over the Unix socket (database postgres unless
#	ARGS say otherwise).
# pg_skip_or_fail MESSAGE
#	Exit 77 (automake SKIP), or 1 when CI=true.

PG_DMARC_PASSWORD=dmarc-test
PG_SUPERUSER=postgres

# Print the newest PostgreSQL bin directory that has initdb.
pg_find_bindir()
{
	if [ -n "${PG_BINDIR:-}" ]; then
		[ -x "$PG_BINDIR/initdb" ] && { echo "$PG_BINDIR"; return 0; }
		return 1
	fi
	_pg_best=
	for _pg_d in /usr/lib/postgresql/*/bin; do
		[ -x "$_pg_d/initdb" ] || continue
		_pg_v=${_pg_d%/bin}
		_pg_v=${_pg_v##*/}
		if [ -z "$_pg_best" ] || [ "$_pg_v" -gt "${_pg_bestv:-0}" ] \
		    2>/dev/null; then
			_pg_best=$_pg_d
			_pg_bestv=$_pg_v
		fi
	done
	if [ -z "$_pg_best" ] && command -v initdb >/dev/null 2>&1; then
		_pg_best=$(dirname "$(command -v initdb)")
	fi
	[ -n "$_pg_best" ] || return 1
	echo "$_pg_best"
}

# Run a server program as the cluster owner.
pg_as_owner()
{
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# Print a free TCP port on 127.0.0.1 (the kernel's choice of an ephemeral,
# high port); falls back to a pseudo-random one in 20000..59999.
pg_free_port()
{
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])' 2>/dev/null && return 0
	fi
	_pg_r=$(od -An -N2 -tu2 /dev/urandom 2>/dev/null | tr -d ' ')
	echo $(( 20000 + (${_pg_r:-$$} + $$) % 40000 ))
}

pg_log_tail()
{
	[ -f "$1/log" ] && tail -n 20 "$1/log" >&2
	return 0
}

pg_admin_psql()
{
	psql -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCKDIR" -p "$PGPORT" \
	    -U "$PG_SUPERUSER" -d postgres "$@"
}

pg_start()
{
	_pg_dir=$1
	[ -n "$_pg_dir" ] && [ -d "$_pg_dir" ] || {
		echo "pg_start: no such directory: $_pg_dir" >&2; return 1; }
	PG_BINDIR=$(pg_find_bindir) || {
		echo "pg_start: initdb not found (install postgresql)" >&2
		return 1; }
	command -v psql >/dev/null 2>&1 || {
		echo "pg_start: psql not found" >&2; return 1; }
	if [ "$(id -u)" = 0 ]; then
		id postgres >/dev/null 2>&1 || {
			echo "pg_start: no postgres user to run the server" >&2
			return 1; }
		chown postgres "$_pg_dir" || return 1
	fi
	chmod 700 "$_pg_dir"
	pg_as_owner "$PG_BINDIR/initdb" -D "$_pg_dir/data" -U "$PG_SUPERUSER" \
	    -E UTF8 --locale=C --auth-local=trust --auth-host=scram-sha-256 \
	    --no-sync --no-instructions >"$_pg_dir/initdb.log" 2>&1 || {
		echo "pg_start: initdb failed:" >&2
		tail -n 20 "$_pg_dir/initdb.log" >&2
		return 1; }
	cat >>"$_pg_dir/data/postgresql.conf" <<EOF
# pg.sh
listen_addresses = '127.0.0.1'
unix_socket_directories = '$_pg_dir'
fsync = ${PG_FSYNC:-off}
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 16MB
logging_collector = off
EOF
	_pg_try=0
	while :; do
		_pg_try=$((_pg_try + 1))
		PGPORT=$(pg_free_port)
		echo "port = $PGPORT" >>"$_pg_dir/data/postgresql.conf"
		if pg_as_owner "$PG_BINDIR/pg_ctl" -D "$_pg_dir/data" \
		    -l "$_pg_dir/log" -w -t 15 start >/dev/null 2>&1; then
			break
		fi
		# A port taken between probe and bind: try another one.
		if [ "$_pg_try" -ge 5 ] ||
		    ! grep -q 'could not bind\|Address already in use' \
		    "$_pg_dir/log" 2>/dev/null; then
			echo "pg_start: server did not start:" >&2
			pg_log_tail "$_pg_dir"
			return 1
		fi
	done
	export PGPORT
	PG_SOCKDIR=$_pg_dir
	export PG_BINDIR PG_SOCKDIR PG_SUPERUSER
	_pg_n=0
	until "$PG_BINDIR/pg_isready" -q -h "$_pg_dir" -p "$PGPORT"; do
		_pg_n=$((_pg_n + 1))
		if [ "$_pg_n" -ge 50 ]; then
			echo "pg_start: server not ready after 5 s" >&2
			pg_log_tail "$_pg_dir"
			return 1
		fi
		sleep 0.1
	done
	pg_admin_psql -c \
	    "CREATE ROLE dmarc LOGIN CREATEDB PASSWORD '$PG_DMARC_PASSWORD'" \
	    -c "CREATE DATABASE dmarc OWNER dmarc" || {
		echo "pg_start: could not create role and database" >&2
		return 1; }
	PGHOST=127.0.0.1
	PGUSER=dmarc
	PGPASSWORD=$PG_DMARC_PASSWORD
	PGDATABASE=dmarc
	DMARC_CONNINFO="host=127.0.0.1 port=$PGPORT dbname=dmarc user=dmarc"
	DMARC_CONNINFO="$DMARC_CONNINFO password=$PG_DMARC_PASSWORD"
	export PGHOST PGUSER PGPASSWORD PGDATABASE DMARC_CONNINFO
	return 0
}

pg_stop()
{
	_pg_dir=$1
	[ -n "$_pg_dir" ] && [ -f "$_pg_dir/data/postmaster.pid" ] || return 0
	_pg_bin=${PG_BINDIR:-$(pg_find_bindir)} || return 0
	pg_as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m fast -w -t 20 \
	    stop >/dev/null 2>&1 ||
	    pg_as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -m immediate \
	    -w -t 10 stop >/dev/null 2>&1
	return 0
}

pg_restart()
{
	_pg_dir=$1
	_pg_bin=${PG_BINDIR:-$(pg_find_bindir)} || return 1
	pg_as_owner "$_pg_bin/pg_ctl" -D "$_pg_dir/data" -l "$_pg_dir/log" \
	    -w -t 15 start >/dev/null 2>&1 || { pg_log_tail "$_pg_dir"; return 1; }
	return 0
}

pg_skip_or_fail()
{
	if [ "${CI:-}" = true ]; then
		echo "FAIL: $*" >&2
		exit 1
	fi
	echo "SKIP: $*" >&2
	exit 77
}
