#!/bin/sh
# bench/run.sh: how fast does `dmarc-agent poll` store report mail, and
# how far is that from what IMAP and PostgreSQL allow on this machine?
#
#	sh bench/run.sh [N...]		(default: 1000 5000)
#	sh bench/run.sh history		(bench/history.sh)
#	sh bench/run.sh year		a year of reports: backfill and reads
#
# Builds nothing: runs $DMARC_AGENT, or build/dmarc-agent under the source
# tree (configure and make there first).  Needs the corpus ($DMARC_CORPUS,
# default ../shared/corpus next to the source tree), PostgreSQL 15, Dovecot,
# curl, pgbench, xmllint, python3 and /usr/bin/time, and for the baseline
# dmarcts-report-parser.  Starts a throwaway PostgreSQL with fsync on and
# synchronous_commit on (tests/lib/pg.sh) and a private Dovecot
# (tests/lib/dovecot.sh), so every figure pays for real durability.  Then, per scenario:
#
#   poll N   N mails with unique report IDs made from the corpus's real
#            aggregate reports (bench/mkcorpus.py), written straight into
#            the Dovecot maildir; empty database (schema dropped and
#            migrated); `dmarc-agent poll` with after = "move".  Prints wall
#            time, mails/s, records/s, peak RSS, and the CPU seconds the
#            agent, PostgreSQL and Dovecot used meanwhile (bench/cpu.py).
#   floors   IMAP: curl fetching the same N mails over one IMAPS connection
#            (URL globbing); PostgreSQL: pgbench, N one-row transactions;
#            the database alone: every row the poll stored, copied in again
#            with psql \copy in one transaction (same tables, indexes and
#            constraints); start-up: `check-config` and a poll of an empty
#            mailbox.  Then the bound: the agent's and Dovecot's CPU in the
#            poll plus PostgreSQL's at the copy floor, over the cores.
#   baseline Debian's dmarcts-report-parser (package dmarcts-report-parser,
#            with libdbd-pg-perl) on the same N mails in the same Dovecot,
#            into a database of its own; restarted after each time it dies
#            on a report.  NO_BASELINE=1 skips it.  VERIFIED=1: the
#            mails carry a trusted Authentication-Results field, so that
#            their reports are "verified" (as a real mailbox's mostly are).
#   big      one mail with a 1,000,000-record report (bench/mkbig.py,
#            gzip'd), stored with its DKIM and SPF rows, against the floor
#            `xmllint --stream --noout` plus psql \copy of the same rows
#            into the same tables.
#   year     (alone: `run.sh year`) a year of one busy domain's reports
#            (bench/mkyear.py: 20 reporters x 365 days x 300 records, 2,000
#            sources, 7,300 gzip'd files): `ingest` of it against the floor
#            `xmllint --stream` of the XML plus psql \copy of every row it
#            stored into the same tables (the rollup tables included), in
#            one transaction; then `report` over 30 and 365 days in text,
#            HTML and JSON, and every Grafana panel's query over the last
#            30 days for all domains (tests/lib/grafana_sql.py --timing),
#            beside the targets; then `check-db`.  YEAR_DAYS=N makes it N
#            days; REPEAT=N ingests N times (median shown) and runs each
#            read N times; YEAR_JOBS=N is ingest's -j (default: the cores).
#
# Not part of `make check` or CI.  About 5 minutes on two cores.  Figures
# and history: bench/README.md.  BIG_RECORDS=0 skips the big report;
# STRACE=1 adds a count of sendto calls (round trips to PostgreSQL);
# REPEAT=N polls each size N times and shows the median (all N listed).
# PGSS=1 prints, after each poll, where PostgreSQL's time went
# (pg_stat_statements, nested statements included; PGSS_TOP=N statements,
# default 12).  WORKERS=N sets the mailbox's workers (default: the
# agent's).  BENCH_SQL="..." runs as the database's owner after each
# migration, before the poll or ingest (a schema experiment, e.g. a
# table's fillfactor).
# SETBATCH=1 adds, after each poll, the database half of a set-based
# batch (bench/setbatch.sh): the same rows written with one statement per
# table per 100 mails.

set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
agent=${DMARC_AGENT:-$srcdir/build/dmarc-agent}
corpus=${DMARC_CORPUS:-$srcdir/../shared/corpus}
sizes=${*:-1000 5000}
big_records=${BIG_RECORDS:-1000000}
repeat=${REPEAT:-1}
[ -x "$agent" ] || { echo "run.sh: $agent not built (set DMARC_AGENT)" >&2
	exit 1; }
[ -f "$corpus/CATALOG.tsv" ] || { echo "run.sh: no corpus at $corpus" >&2
	exit 1; }
. "$srcdir/tests/lib/pg.sh"
. "$srcdir/tests/lib/dovecot.sh"
. "$srcdir/bench/setbatch.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/dmarc-bench.XXXXXX")
chmod 755 "$dir"
mkdir "$dir/pg" "$dir/imap"
trap 'dovecot_stop "$dir/imap"; pg_stop "$dir/pg"; rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM
PG_FSYNC=on pg_start "$dir/pg" >/dev/null ||
    { echo "run.sh: cannot start PostgreSQL" >&2; exit 1; }
# pg.sh sets the tests up for speed (synchronous_commit and
# full_page_writes off, 16 MB of shared buffers); the bench wants a
# production server: durable commits, torn-page protection and Debian's
# default shared_buffers.
pg_admin_psql -c "ALTER SYSTEM SET synchronous_commit = on" \
    -c "ALTER SYSTEM SET full_page_writes = on" \
    -c "ALTER SYSTEM SET shared_buffers = '128MB'" >/dev/null
# PGSS=1: pg_stat_statements, reset before each poll, read after it.
[ -n "${PGSS:-}" ] &&
    pg_admin_psql -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" \
    >/dev/null
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t 30 \
    restart >/dev/null ||
    { echo "run.sh: cannot restart PostgreSQL" >&2; exit 1; }
# Count only this server's processes as PostgreSQL (bench/cpu.py).
CPU_PG_PID=$(head -n 1 "$dir/pg/data/postmaster.pid")
export CPU_PG_PID
if [ "${1:-}" = year ]; then
	. "$srcdir/bench/year.sh"
	exit $?
fi
dovecot_start "$dir/imap" ||
    { echo "run.sh: cannot start Dovecot" >&2; exit 1; }

maildir=$IMAP_DIR/mail/$IMAP_USER
printf '%s\n' "$IMAP_PASS" >"$dir/secret"
# VERIFIED=1: every mail carries an Authentication-Results field of an
# authserv-id the agent trusts, saying DKIM passed for its reporter, so
# that its reports are "verified", as most of a real mailbox's are.
if [ -n "${VERIFIED:-}" ]; then
	mkcorpus_ar="--ar bench.test"
	verification='verification = { trusted_authserv_ids = [ "bench.test" ]; };'
else
	mkcorpus_ar=
	verification=
fi
cat >"$dir/agent.conf" <<EOF
database = { conninfo = "$DMARC_CONNINFO"; };
limits = { max_message_size = 268435456; };
$verification
mailboxes = (
  { name = "bench";
    url = "imaps://127.0.0.1:$IMAPS_PORT/INBOX";
    username = "$IMAP_USER"; password_file = "$dir/secret";
    tls_ca_file = "$IMAP_CA";
    after = "move"; archive_folder = "Archive";
    ${WORKERS:+workers = $WORKERS;} } );
EOF
chmod 600 "$dir/agent.conf" "$dir/secret"
sql() { psql -X -At -q -v ON_ERROR_STOP=1 "$@"; }
# PGSS=1: the statements the poll ran, top-level and nested, the 12 with
# the most execution time, a line each: execution ms, planning ms, calls,
# plans, top-level (t/f), the start of the text.  Execution time includes
# lock waits.
pgss_reset()
{
	pg_admin_psql -d dmarc -c "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" \
	    -c "ALTER SYSTEM SET pg_stat_statements.track = 'all'" \
	    -c "ALTER SYSTEM SET pg_stat_statements.track_planning = on" \
	    -c "SELECT pg_reload_conf()" \
	    -c "SELECT pg_stat_statements_reset()" >/dev/null
}
pgss_show()
{
	pg_admin_psql -d dmarc -At -F ' ' -c "
	    SELECT round(total_exec_time)::int, round(total_plan_time)::int,
	           calls, plans, toplevel,
	           regexp_replace(left(query, 70), '\s+', ' ', 'g')
	      FROM pg_stat_statements
	     WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'dmarc')
	     ORDER BY total_exec_time DESC LIMIT ${PGSS_TOP:-12}" | tee "$1" |
	    sed 's/^/  pgss: /'
}
# ms CMD...: milliseconds CMD takes (output discarded), timed from python.
ms()
{
	python3 -c 'import subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL)
print("%.1f" % ((time.monotonic() - t) * 1000))' "$@"
}

# Empty the mailbox (and Archive), then put the given mails into new/.
mailbox_fill()
{
	rm -rf "$maildir"
	dovecot_adm "mailbox create" Archive
	for f in "$@"; do
		cp "$f" "$maildir/new/$(basename "$f").bench"
	done
	if [ "$(id -u)" = 0 ]; then
		chown -R "$DOVECOT_UID:$DOVECOT_GID" "$maildir"
	fi
	dovecot_adm "mailbox status" messages INBOX >/dev/null
}

db_reset()
{
	sql -c "DROP SCHEMA IF EXISTS dmarc CASCADE" 2>/dev/null
	"$agent" -c "$dir/agent.conf" migrate >/dev/null
	if [ -n "${BENCH_SQL:-}" ]; then sql -c "$BENCH_SQL" >/dev/null; fi
	sql -c "CHECKPOINT" >/dev/null 2>&1 || true
}

# time_cmd OUT CMD...: run CMD, store "wall_s peak_kb" in OUT.
time_cmd()
{
	_out=$1
	shift
	/usr/bin/time -f '%e %M' -o "$_out" "$@" >"$dir/cmd.out" 2>"$dir/cmd.err" ||
	    { echo "run.sh: failed: $*" >&2; tail -n 5 "$dir/cmd.err" >&2
	    return 1; }
}

rate() { awk -v n="$1" -v t="$2" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }'; }

echo "machine: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
echo "agent:   $agent"
echo "server:  PostgreSQL $(sql -c 'SHOW server_version'), fsync $(sql -c 'SHOW fsync'), synchronous_commit $(sql -c 'SHOW synchronous_commit'), full_page_writes $(sql -c 'SHOW full_page_writes'), shared_buffers $(sql -c 'SHOW shared_buffers')"

# Named scenarios, each in a file of its own: `run.sh history`.
case ${1:-} in
history)
	. "$srcdir/bench/history.sh"
	exit 0;;
esac

max=0
for n in $sizes; do [ "$n" -gt "$max" ] && max=$n; done
python3 "$srcdir/bench/mkcorpus.py" $mkcorpus_ar "$corpus" "$max" "$dir/mails" \
    >/dev/null 2>"$dir/mkcorpus.log"
sed 's/^/corpus:  /' "$dir/mkcorpus.log"
sql -c "CREATE TABLE IF NOT EXISTS public.bench_t (id bigserial, v int)"
printf 'INSERT INTO public.bench_t (v) VALUES (1);\n' >"$dir/one.sql"

# cpu OUT CMD...: run CMD under bench/cpu.py (wall, CPU by process).
cpu()
{
	_out=$1
	shift
	python3 "$srcdir/bench/cpu.py" "$_out" "$@"
	tr ' ' '\n' <"$_out" >"$_out.vars"
}
# get OUT KEY: a value cpu() wrote.
get() { sed -n "s/^$2=//p" "$1.vars"; }

# Floor (c): the database alone.  Every row the poll stored is written
# again with psql \copy, all tables in one fsync'd transaction: the same
# tables, indexes, constraints and triggers.  No round trips, no parsing.
db_floor()
{
	_tables="mail_message report_file report report_delivery report_raw
	    report_error report_extension record record_dkim record_spf
	    record_reason record_extension"
	: >"$dir/floor.sql"
	for _t in $_tables; do
		_cols=$(sql -c "SELECT string_agg(quote_ident(column_name), ','
		    ORDER BY ordinal_position) FROM information_schema.columns
		    WHERE table_schema = 'dmarc' AND table_name = '$_t'
		    AND is_generated = 'NEVER'")
		sql -c "\\copy (SELECT $_cols FROM dmarc.$_t) TO '$dir/floor-$_t.copy'"
		printf '%s dmarc.%s (%s) FROM %s\n' '\copy' "$_t" "$_cols" \
		    "'$dir/floor-$_t.copy'" >>"$dir/floor.sql"
	done
	PGOPTIONS='-c client_min_messages=warning' sql -c "TRUNCATE
	    dmarc.mail_message, dmarc.report_file, dmarc.report CASCADE"
	pg_admin_psql -d "$PGDATABASE" -c CHECKPOINT >/dev/null
	cpu "$dir/floor" psql -X -q -v ON_ERROR_STOP=1 -1 -f "$dir/floor.sql"
	[ "$(get "$dir/floor" rc)" = 0 ] ||
	    { echo "run.sh: the copy floor failed: $(tail -n 3 "$dir/floor.err")" >&2; return 1; }
	_got=$(sql -c "SELECT count(*) FROM dmarc.record")
	[ "$_got" = "$1" ] ||
	    { echo "run.sh: the copy floor wrote $_got records, not $1" >&2; return 1; }
}

# Baseline: Debian's dmarcts-report-parser (Perl; one message at a time),
# on the same mails in the same Dovecot, storing into a database of its own
# on the same PostgreSQL.  It dies on some real reports ("Cannot bind a
# reference" from DBI): then the mails it got through are expunged, the
# one it died on goes to a folder "Died", and it is started again; its
# time is the sum of its runs.
dmarcts_run()
{
	_n=$1
	shift
	command -v dmarcts-report-parser >/dev/null 2>&1 || {
		echo "  baseline: dmarcts-report-parser not installed (apt-get install dmarcts-report-parser libdbd-pg-perl)"
		return 0; }
	mailbox_fill "$@"
	dovecot_adm "mailbox create" Invalid
	dovecot_adm "mailbox create" Died
	PGOPTIONS='-c client_min_messages=warning' \
	    pg_admin_psql -c "DROP DATABASE IF EXISTS dmarcts" \
	    -c "CREATE DATABASE dmarcts OWNER $PGUSER" >/dev/null
	mkdir -p "$dir/dts"
	cat >"$dir/dts/dmarcts-report-parser.conf" <<EOF
\$debug = 0; \$delete_reports = 0; \$dbtype = 'Pg'; \$dbname = 'dmarcts';
\$dbuser = '$PGUSER'; \$dbpass = '$PGPASSWORD'; \$dbhost = '127.0.0.1';
\$dbport = '$PGPORT'; \$imapserver = '127.0.0.1'; \$imapuser = '$IMAP_USER';
\$imappass = '$IMAP_PASS'; \$imapport = '$IMAPS_PORT'; \$imapssl = '1';
\$imaptls = '0'; \$tlsverify = '1'; \$imapignoreerror = '0';
\$imapreadfolder = 'INBOX'; \$imapmovefolder = 'Archive';
\$imapmovefoldererr = 'Invalid'; \$maxsize_xml = 50000;
\$compress_xml = 0; \$delete_failed = 0;
1;
EOF
	_dt=0 _runs=0 _died=0
	: >"$dir/dts.why"
	while [ "$(dovecot_adm "mailbox status" messages INBOX | tr -dc 0-9)" -gt 0 ] &&
	    [ "$_runs" -lt 100 ]; do
		_runs=$((_runs + 1))
		(cd "$dir/dts" && export SSL_CERT_FILE="$IMAP_CA" &&
		    cpu "$dir/dts.$_runs" \
		    dmarcts-report-parser -i)
		_dt=$(awk -v a="$_dt" -v b="$(get "$dir/dts.$_runs" wall)" \
		    'BEGIN { print a + b }')
		[ "$(get "$dir/dts.$_runs" rc)" = 0 ] && continue
		# It died: drop what it finished, set the culprit aside.
		_died=$((_died + 1))
		dovecot_adm expunge mailbox INBOX DELETED
		_uid=$(doveadm -c "$DOVECOT_CONF" search -u "$IMAP_USER" \
		    mailbox INBOX ALL 2>/dev/null | awk 'NR == 1 { print $2 }')
		[ -n "$_uid" ] && dovecot_adm move Died mailbox INBOX UID "$_uid"
		tail -n 1 "$dir/dts.$_runs.err" >"$dir/dts.why"
	done
	_rep=$(sql -d dmarcts -c "SELECT count(*) FROM report")
	_rec=$(sql -d dmarcts -c "SELECT count(*) FROM rptrecord")
	_ok=$(dovecot_adm "mailbox status" messages Archive | tr -dc 0-9)
	_bad=$(dovecot_adm "mailbox status" messages Invalid | tr -dc 0-9)
	echo "  baseline: dmarcts-report-parser ${_dt} s, $(rate "$_n" "$_dt") mails/s ($_runs runs, died $_died times (last: \"$(cut -c1-40 "$dir/dts.why")\"); $_ok mails stored, $_bad refused, $_rep reports, $_rec records)"
	echo "$_dt" >"$dir/dts.total"
}

for n in $sizes; do
	ls "$dir/mails" | head -n "$n" | sed "s|^|$dir/mails/|" >"$dir/list"
	# shellcheck disable=SC2046 # file names without spaces
	mailbox_fill $(cat "$dir/list")
	db_reset
	# Floor (a): curl fetches the same mails over one connection (which
	# sets \Seen: fill the mailbox again afterwards).
	imap_ms=$(ms curl -s --cacert "$IMAP_CA" -u "$IMAP_USER:$IMAP_PASS" \
	    "imaps://127.0.0.1:$IMAPS_PORT/INBOX;UID=[1-$n]")
	imap_s=$(awk -v a="$imap_ms" 'BEGIN { printf "%.2f", a / 1000 }')
	# shellcheck disable=SC2046
	mailbox_fill $(cat "$dir/list")
	# Floor (b): N one-row transactions, fsync'd.
	pg_s=$("$PG_BINDIR/pgbench" -n -f "$dir/one.sql" -t "$n" 2>/dev/null |
	    awk -v n="$n" '/^tps/ && !d { printf "%.2f", n / $3; d = 1 }')
	# REPEAT polls of the same mails, each on a refilled mailbox and an
	# empty database (each stores the same rows); the median one is shown
	# (this VM is shared).
	: >"$dir/walls"
	r=1
	while [ "$r" -le "$repeat" ]; do
		if [ "$r" -gt 1 ]; then
			# shellcheck disable=SC2046
			mailbox_fill $(cat "$dir/list")
			db_reset
		fi
		[ -n "${PGSS:-}" ] && pgss_reset
		cpu "$dir/poll.$r" "$agent" -c "$dir/agent.conf" poll bench
		[ -n "${PGSS:-}" ] && pgss_show "$dir/poll.$r.pgss"
		[ "$(get "$dir/poll.$r" rc)" = 0 ] ||
		    { echo "run.sh: poll failed: $(tail -n 3 "$dir/poll.$r.err")" >&2; exit 1; }
		echo "$(get "$dir/poll.$r" wall) $r" >>"$dir/walls"
		r=$((r + 1))
	done
	med=$(sort -n "$dir/walls" | awk '{ v[NR] = $2 } END { print v[int((NR + 1) / 2)] }')
	for _f in "" .vars .err; do cp "$dir/poll.$med$_f" "$dir/poll$_f" 2>/dev/null || :; done
	wall=$(get "$dir/poll" wall)
	rss=$(get "$dir/poll" peak_kb)
	stored=$(sql -c "SELECT count(*) FROM dmarc.mail_message WHERE status <> 'claimed'")
	recs=$(sql -c "SELECT count(*) FROM dmarc.record")
	left=$(sql -c "SELECT count(*) FROM dmarc.mail_message WHERE status = 'claimed' OR after_action <> 'done'")
	echo "poll $n: ${wall} s, $(rate "$n" "$wall") mails/s, $(rate "$recs" "$wall") records/s, peak RSS $((rss / 1024)) MB ($stored mails final, $recs records, $left unfinished)"
	[ -n "${VERIFIED:-}" ] &&
	    echo "  reports by authenticity: $(sql -c "SELECT string_agg(authenticity || ' ' || n, ', ' ORDER BY authenticity) FROM (SELECT authenticity, count(*) AS n FROM dmarc.report GROUP BY 1) x")"
	[ "$repeat" -gt 1 ] &&
	    echo "  $repeat polls: $(sort -n "$dir/walls" | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }') s; the median shown"
	echo "  CPU meanwhile: agent $(get "$dir/poll" cmd) s, PostgreSQL $(get "$dir/poll" postgres) s, Dovecot $(get "$dir/poll" dovecot) s, rest of the machine $(get "$dir/poll" other) s; idle $(get "$dir/poll" idle) core-s"
	echo "  floors: IMAP (curl, one connection) ${imap_s} s; PostgreSQL ($n fsync'd one-row transactions, pgbench) ${pg_s} s"
	[ -n "${SETBATCH:-}" ] && db_setbatch "$recs"
	db_floor "$recs"
	printf '  floor: the same rows copied in again (psql %s, one transaction): %s s, PostgreSQL CPU %s s\n' \
	    '\copy' "$(get "$dir/floor" wall)" "$(get "$dir/floor" postgres)"
	# The bound: the poll if PostgreSQL worked at its copy floor and every
	# core were busy (the agent's and Dovecot's CPU in this poll, plus
	# PostgreSQL's in the floor, over the cores).
	awk -v a="$(get "$dir/poll" cmd)" -v d="$(get "$dir/poll" dovecot)" \
	    -v f="$(get "$dir/floor" postgres)" -v c="$(nproc)" -v w="$wall" \
	    'BEGIN { b = (a + d + f) / c; printf "  bound: (agent %.2f + Dovecot %.2f + PostgreSQL at the copy floor %.2f CPU-s) / %d cores = %.2f s; this poll took %.1f times that\n", a, d, f, c, b, (b > 0 ? w / b : 0) }'
	if [ -z "${NO_BASELINE:-}" ]; then
		# shellcheck disable=SC2046
		dmarcts_run "$n" $(cat "$dir/list")
		[ -f "$dir/dts.total" ] &&
		    echo "  dmarc-agent is $(awk -v a="$(cat "$dir/dts.total")" -v b="$wall" 'BEGIN { printf "%.1f", a / b }') times as fast as the baseline"
		rm -f "$dir/dts.total"
	fi
done

# Floor (d): start-up.  The mailbox is empty now (everything was moved).
best() { sort -n | head -n 1; }
cc=$(for i in 1 2 3 4 5; do
	ms "$agent" -c "$dir/agent.conf" check-config; done | best)
ep=$(for i in 1 2 3 4 5; do
	ms "$agent" -c "$dir/agent.conf" poll bench; done | best)
echo "start-up: check-config $cc ms, poll of an empty mailbox $ep ms (best of 5)"

# Round trips to PostgreSQL: sendto calls of a poll of 1,000 mails (libpq
# sends with send(2), IMAP over TLS with write(2)).  STRACE=1 to run it.
if [ -n "${STRACE:-}" ] && command -v strace >/dev/null 2>&1; then
	# shellcheck disable=SC2046
	mailbox_fill $(ls "$dir/mails" | head -n 1000 | sed "s|^|$dir/mails/|")
	db_reset
	strace -f -c -e trace=sendto -o "$dir/strace" \
	    "$agent" -c "$dir/agent.conf" poll bench >/dev/null 2>&1
	calls=$(awk '$NF == "sendto" { print $4 }' "$dir/strace")
	echo "strace: $calls sendto calls for 1000 mails ($(awk -v c="$calls" 'BEGIN { printf "%.1f", c / 1000 }') per mail)"
fi

[ "$big_records" -gt 0 ] || exit 0
python3 "$srcdir/bench/mkbig.py" "$big_records" "$dir/big"
echo "big: $(du -m "$dir/big/big.eml" | cut -f1) MB mail, $(du -m "$dir/big/big.xml" | cut -f1) MB XML, $big_records records"
mailbox_fill "$dir/big/big.eml"
db_reset
time_cmd "$dir/time" "$agent" -c "$dir/agent.conf" poll bench
read -r wall rss <"$dir/time"
recs=$(sql -c "SELECT count(*) FROM dmarc.record")
dk=$(sql -c "SELECT count(*) FROM dmarc.record_dkim")
echo "big poll: ${wall} s, $(rate "$recs" "$wall") records/s, peak RSS $((rss / 1024)) MB ($recs records, $dk DKIM rows)"
# The floor: parse the XML without building it, and \copy the same rows.
time_cmd "$dir/time" xmllint --stream --noout "$dir/big/big.xml"
read -r xwall xrss <"$dir/time"
db_reset
rid=$(sql -c "INSERT INTO dmarc.report (format, org_name, reporter_key,
    report_id, date_begin, date_end, policy_domain) VALUES ('rfc7489',
    'bench.invalid', 'bench.invalid', 'bench-copy',
    to_timestamp(1700000000), to_timestamp(1700086399), 'example.com')
    RETURNING id" | head -n 1)
base=$(sql -c "SELECT nextval('dmarc.record_id_seq')")
awk -F, -v OFS=, -v b="$base" -v r="$rid" '{ print b + $1, r, "example.com",
    "2023-11-14 22:13:20+00", $0 }' "$dir/big/record.csv" >"$dir/big/r.csv"
awk -F, -v OFS=, -v b="$base" '{ $1 = b + $1; print }' \
    "$dir/big/dkim.csv" >"$dir/big/d.csv"
awk -F, -v OFS=, -v b="$base" '{ $1 = b + $1; print }' \
    "$dir/big/spf.csv" >"$dir/big/s.csv"
cat >"$dir/copy.sql" <<EOF
\\copy dmarc.record (id, report_pk, policy_domain, date_begin, ord, source_ip, message_count, disposition, dkim_aligned, spf_aligned, header_from) FROM '$dir/big/r.csv' WITH (FORMAT csv)
\\copy dmarc.record_dkim (record_pk, ord, domain, selector, result) FROM '$dir/big/d.csv' WITH (FORMAT csv)
\\copy dmarc.record_spf (record_pk, ord, domain, result) FROM '$dir/big/s.csv' WITH (FORMAT csv)
EOF
time_cmd "$dir/time" psql -X -q -v ON_ERROR_STOP=1 -1 -f "$dir/copy.sql"
read -r cwall crss <"$dir/time"
crecs=$(sql -c "SELECT count(*) FROM dmarc.record")
printf '%s\n' "  floor: xmllint --stream $xwall s (peak RSS $((xrss / 1024)) MB) + psql copy of $crecs records with DKIM and SPF rows $cwall s = $(awk -v a="$xwall" -v b="$cwall" 'BEGIN { print a + b }') s"
