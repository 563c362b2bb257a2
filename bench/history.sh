# bench/history.sh: the `history` scenario of bench/run.sh (sourced by
# it once its PostgreSQL and Dovecot run): does a poll cost what its new
# mail costs, whatever the mailbox's past?
#
# A poll of 20 new mails (bench/mkcorpus.py) on an empty history, and the
# same after a history: HIST_ROWS (1,000,000) settled ledger rows for the
# mailbox (one INSERT ... generate_series), the last HIST_LEFT (100,000)
# of whose messages are still in the folder, \Seen (bench/mkhistory.py
# writes them and Dovecot's uidlist: UIDs 900,001 to 1,000,000, next UID
# 1,000,001).  Three mailboxes: after = "seen" with search = "unseen",
# the same with search = "all", and after = "move".  Every poll HREPEAT
# times (default 5: the machine is shared), each time on 20 new mails
# (the reports stored before are dropped, so that they are stored again,
# not counted as duplicates).  For each: wall time, the CPU seconds of the
# agent (user + system), PostgreSQL and Dovecot, and what the rest of the
# machine used meanwhile; peak RSS; the median of the polls, and its
# ratio to the empty history's, against the targets (1.2x, 64 MiB).  Also
# the first poll after the history (no mark of a last search yet: it
# searches everything once), polls with nothing new, the IMAP server
# alone on the same folder (curl), and a prune of the history's ledger
# with a poll meanwhile.  HIST_VERY_DIRTY=1 sets Dovecot's
# maildir_very_dirty_syncs (it then rescans a folder's cur/ only when
# something else changed it): what the same polls cost when the server
# does not read a 100,000-entry directory again at each command.
# HIST_FORMAT=sdbox (or mdbox) keeps the user's mail in Dovecot's dbox
# format instead of a maildir: no directory of 100,000 files and no
# dovecot-uidlist to read or rewrite, only the index, so the same polls
# show what the agent costs apart from what a big maildir costs the
# server.  The history is written as a maildir, then copied into dbox
# with `doveadm backup` (dsync keeps the UIDs, UIDVALIDITY, next UID and
# \Seen flags; checked below); new mail comes in by `doveadm import`.

hist_rows=${HIST_ROWS:-1000000}
hist_left=${HIST_LEFT:-100000}
hrep=${HREPEAT:-5}
hist_uv=1700000000
if [ -n "${HIST_VERY_DIRTY:-}" ]; then
	echo "maildir_very_dirty_syncs = yes" >>"$DOVECOT_CONF"
	doveadm -c "$DOVECOT_CONF" reload
	sleep 1
	echo "history: Dovecot with maildir_very_dirty_syncs = yes"
fi
hfmt=${HIST_FORMAT:-maildir}
case $hfmt in
maildir)	;;
sdbox|mdbox)
	sed "s|^mail_location = maildir:|mail_location = $hfmt:|" \
	    "$DOVECOT_CONF" >"$DOVECOT_CONF.new"
	mv "$DOVECOT_CONF.new" "$DOVECOT_CONF"
	doveadm -c "$DOVECOT_CONF" reload
	sleep 1
	echo "history: Dovecot stores the mail as $hfmt"
	;;
*)	echo "history: HIST_FORMAT must be maildir, sdbox or mdbox" >&2
	exit 1;;
esac
hcases="seen-unseen seen-all move"

# hconf CASE: the configuration of a case.
hconf()
{
	case $1 in
	seen-unseen)	_s='after = "seen";' ;;
	seen-all)	_s='after = "seen"; search = "all";' ;;
	move)		_s='after = "move"; archive_folder = "Archive";' ;;
	esac
	cat >"$dir/h-$1.conf" <<EOF
database = { conninfo = "$DMARC_CONNINFO"; };
mailboxes = (
  { name = "bench";
    url = "imaps://127.0.0.1:$IMAPS_PORT/INBOX";
    username = "$IMAP_USER"; password_file = "$dir/secret";
    tls_ca_file = "$IMAP_CA"; $_s } );
EOF
	chmod 600 "$dir/h-$1.conf"
}

# hpoll OUT CASE: one poll under bench/cpu.py; OUT.vars holds its figures.
hpoll()
{
	python3 "$srcdir/bench/cpu.py" "$1" "$agent" -c "$dir/h-$2.conf" poll bench
	tr ' ' '\n' <"$1" >"$1.vars"
	[ "$(sed -n 's/^rc=//p' "$1.vars")" = 0 ] ||
	    { echo "history: poll failed: $(tail -n 3 "$1.err")" >&2; exit 1; }
}
hget() { sed -n "s/^$2=//p" "$1.vars"; }

# hfloor OUT TAG: the IMAP server alone on the folder as a poll finds it:
# 20 new mails, then at once curl's login, SELECT and NOOP (Dovecot brings
# its index up to date with the maildir, as for a poll's SELECT).
hfloor()
{
	hnew "$2"
	python3 "$srcdir/bench/cpu.py" "$1" curl -s --cacert "$IMAP_CA" \
	    -u "$IMAP_USER:$IMAP_PASS" "imaps://127.0.0.1:$IMAPS_PORT/INBOX" -X NOOP
	tr ' ' '\n' <"$1" >"$1.vars"
}

# hnew TAG: 20 new mails in INBOX (new file names each time); in dbox,
# imported from a maildir of them ($dir/hsrc) in one doveadm call.
hnew()
{
	if [ "$hfmt" != maildir ]; then
		dovecot_adm import "maildir:$dir/hsrc:LAYOUT=fs:INDEX=MEMORY" \
		    "" all
		return
	fi
	for _f in "$dir"/hmails/*.eml; do
		cp "$_f" "$maildir/new/$(basename "$_f").$1.bench"
	done
	[ "$(id -u)" = 0 ] && chown -R "$DOVECOT_UID:$DOVECOT_GID" "$maildir/new"
	dovecot_adm "mailbox status" messages INBOX >/dev/null
}

# hdrop: the reports stored so far go, the ledger stays.
hdrop()
{
	PGOPTIONS='-c client_min_messages=warning' sql -c \
	    "TRUNCATE dmarc.report_file, dmarc.report CASCADE" >/dev/null
}

# hsum PREFIX N: "median (min-max)" of the walls of PREFIX.1 .. PREFIX.N,
# and in $hmed the file of the median poll.
hsum()
{
	_i=1
	: >"$dir/hwalls"
	while [ "$_i" -le "$2" ]; do
		echo "$(hget "$1.$_i" wall) $_i" >>"$dir/hwalls"
		_i=$((_i + 1))
	done
	hmed=$1.$(sort -n "$dir/hwalls" | awk '{ v[NR] = $2 } END { print v[int((NR + 1) / 2)] }')
	hall=$(sort -n "$dir/hwalls" | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }')
}

# hline WHAT FILE: one line of figures.
hline()
{
	printf '  %-22s %5s s (%s); CPU agent %s s, PostgreSQL %s s, Dovecot %s s, rest of the machine %s s; peak RSS %d MB\n' \
	    "$1" "$(hget "$2" wall)" "$hall" "$(hget "$2" cmd)" \
	    "$(hget "$2" postgres)" "$(hget "$2" dovecot)" "$(hget "$2" other)" \
	    $(($(hget "$2" peak_kb) / 1024))
}

# Only this run's servers: other PostgreSQL and Dovecot instances may run
# on a shared machine (their CPU shows as the rest of the machine).
CPU_PG_PID=$(head -n 1 "$dir/pg/data/postmaster.pid")
CPU_DOVECOT_PID=$(cat "$IMAP_DIR/run/master.pid")
export CPU_PG_PID CPU_DOVECOT_PID

python3 "$srcdir/bench/mkcorpus.py" "$corpus" 20 "$dir/hmails" >/dev/null 2>&1 ||
    { echo "history: mkcorpus failed" >&2; exit 1; }
for c in $hcases; do hconf "$c"; done
if [ "$hfmt" != maildir ]; then
	mkdir -p "$dir/hsrc/new" "$dir/hsrc/cur" "$dir/hsrc/tmp"
	cp "$dir"/hmails/*.eml "$dir/hsrc/new/"
	[ "$(id -u)" = 0 ] && chown -R "$DOVECOT_UID:$DOVECOT_GID" "$dir/hsrc"
fi
echo "history: a poll of 20 new mails, $hrep times each; after $hist_rows ledger rows, $hist_left of whose messages are still in the folder"

# The empty history: each poll on a new folder (a new UIDVALIDITY) and an
# empty ledger, in a database set up once per case, as warm as the one of
# the history below.
hcheckpoint() { pg_admin_psql -d "$PGDATABASE" -c CHECKPOINT >/dev/null; }
for c in $hcases; do
	db_reset
	hcheckpoint
	r=1
	while [ "$r" -le "$hrep" ]; do
		rm -rf "$maildir"
		dovecot_adm "mailbox create" Archive
		hnew "e$r"
		PGOPTIONS='-c client_min_messages=warning' sql -c "TRUNCATE
		    dmarc.report_file, dmarc.report, dmarc.mail_message CASCADE" >/dev/null
		hpoll "$dir/he.$c.$r" "$c"
		r=$((r + 1))
	done
	hsum "$dir/he.$c" "$hrep"
	cp "$hmed.vars" "$dir/he.$c.med.vars"
	eval "hall_e_$(echo "$c" | tr - _)=\"\$hall\""
	hfloor "$dir/hfe.$c" "fe"
done

# The history: the folder, then the ledger.
hnow() { date +%s.%N; }
hsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
t0=$(hnow)
rm -rf "$maildir"
hmd=$maildir
[ "$hfmt" != maildir ] && hmd=$dir/hmd
python3 "$srcdir/bench/mkhistory.py" "$hmd" "$hist_uv" \
    $((hist_rows - hist_left + 1)) "$hist_left" $((hist_rows + 1))
[ "$(id -u)" = 0 ] && chown -R "$DOVECOT_UID:$DOVECOT_GID" "$hmd"
if [ "$hfmt" != maildir ]; then
	# Into dbox: dsync (one way, to an empty location) keeps the UIDs.
	# LAYOUT=fs: the maildir's hierarchy separator is then dbox's ('/').
	tb=$(hnow)
	doveadm -c "$DOVECOT_CONF" -o "mail_location=maildir:$hmd:LAYOUT=fs" \
	    backup -u "$IMAP_USER" "$hfmt:$maildir" ||
	    { echo "history: doveadm backup into $hfmt failed" >&2; exit 1; }
	rm -rf "$hmd"
	echo "history: the maildir copied into $hfmt in $(hsub "$(hnow)" "$tb") s (doveadm backup)"
fi
t1=$(hnow)
dovecot_adm "mailbox status" messages INBOX >/dev/null
dovecot_adm "mailbox create" Archive
t2=$(hnow)
got=$(dovecot_adm "mailbox status" "messages uidvalidity uidnext" INBOX |
    tr ' ' '\n' | grep = | sort | paste -sd ' ' -)
[ "$got" = "messages=$hist_left uidnext=$((hist_rows + 1)) uidvalidity=$hist_uv" ] ||
    { echo "history: the folder is not as made: $got" >&2; exit 1; }
db_reset
# A poll of the empty ledger makes the mailbox's row (nothing unseen).
hpoll "$dir/hz" seen-unseen
sql -c "INSERT INTO dmarc.mail_message (mailbox_pk, mailbox, uidvalidity,
    uid, message_id, from_addr, subject, date_hdr, size_bytes, sha256,
    fetched_at, status, status_at, after_action)
    SELECT b.id, b.name, $hist_uv, u, '<old-' || u || '@bench.invalid>',
    'dmarc-reports@old.bench.invalid',
    'Report Domain: example.com Report-ID: <old-' || u || '>',
    now() - (($hist_rows - u) * interval '100 seconds'), 4000 + u % 5000,
    sha256(u::text::bytea), now() - (($hist_rows - u) * interval '100 seconds'),
    (ARRAY['stored', 'stored', 'stored', 'duplicate', 'ignored'])[1 + u % 5],
    now() - (($hist_rows - u) * interval '100 seconds'), 'done'
    FROM dmarc.mailbox b, generate_series(1, $hist_rows) AS u" >/dev/null
sql -c "VACUUM ANALYZE dmarc.mail_message" >/dev/null
# Written out now, not by a checkpoint in the middle of the polls.
hcheckpoint
t3=$(hnow)
printf 'history: made in %s s (maildir %s s, Dovecot index %s s, ledger %s s): %s messages, %s ledger rows (%s)\n' \
    "$(hsub "$t3" "$t0")" "$(hsub "$t1" "$t0")" "$(hsub "$t2" "$t1")" \
    "$(hsub "$t3" "$t2")" "$(dovecot_adm "mailbox status" messages INBOX | sed 's/.*=//')" \
    "$(sql -c "SELECT count(*) FROM dmarc.mail_message")" \
    "$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('dmarc.mail_message'))")"

hmet() { awk -v x="$1" -v t="$2" 'BEGIN { print (x <= t ? "met" : "not met") }'; }
for c in $hcases; do
	echo "history: $c"
	# The first poll with these criteria searches everything, once.
	hpoll "$dir/hw.$c" "$c"
	hall=once
	hline "first poll after it" "$dir/hw.$c"
	r=1
	while [ "$r" -le "$hrep" ]; do
		hdrop
		hnew "$c$r"
		hpoll "$dir/hh.$c.$r" "$c"
		grep -qx 'bench: 20 fetched, 20 stored, 0 duplicate, 0 invalid' "$dir/hh.$c.$r.out" ||
		    echo "history: $c: the poll said: $(cat "$dir/hh.$c.$r.out")" >&2
		r=$((r + 1))
	done
	hsum "$dir/hh.$c" "$hrep"
	hh=$hmed
	r=1
	while [ "$r" -le "$hrep" ]; do
		hpoll "$dir/hn.$c.$r" "$c"
		r=$((r + 1))
	done
	hsum "$dir/hn.$c" "$hrep"
	hn=$hmed hn_all=$hall
	hfloor "$dir/hfh.$c" "fh$c"
	hpoll "$dir/hfx.$c" "$c"	# the floor's mails, out of the way
	hdrop
	eval "hall=\$hall_e_$(echo "$c" | tr - _)"
	hline "empty history" "$dir/he.$c.med"
	hsum "$dir/hh.$c" "$hrep"
	hline "after the history" "$hh"
	hall=$hn_all
	hline "nothing new" "$hn"
	printf '  IMAP alone (curl: login, SELECT, NOOP right after 20 new mails): empty folder %s s (Dovecot %s CPU-s), after the history %s s (Dovecot %s CPU-s)\n' \
	    "$(hget "$dir/hfe.$c" wall)" "$(hget "$dir/hfe.$c" dovecot)" \
	    "$(hget "$dir/hfh.$c" wall)" "$(hget "$dir/hfh.$c" dovecot)"
	e=$dir/he.$c.med
	we=$(hget "$e" wall) wh=$(hget "$hh" wall)
	ce=$(awk -v a="$(hget "$e" cmd)" -v b="$(hget "$e" postgres)" 'BEGIN { print a + b }')
	ch=$(awk -v a="$(hget "$hh" cmd)" -v b="$(hget "$hh" postgres)" 'BEGIN { print a + b }')
	rw=$(awk -v a="$wh" -v b="$we" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	rc=$(awk -v a="$ch" -v b="$ce" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	kb=$(hget "$hh" peak_kb)
	echo "  after/empty: wall $wh / $we s = ${rw}x; CPU of the agent and PostgreSQL $ch / $ce s = ${rc}x; Dovecot $(hget "$hh" dovecot) / $(hget "$e" dovecot) s"
	echo "  targets: within 1.2x: $(hmet "$rw" 1.2) by wall time, $(hmet "$rc" 1.2) by the agent's and PostgreSQL's CPU; peak RSS $((kb / 1024)) MB under 64 MiB: $(hmet "$kb" 65536)"
	# The agent waits for each IMAP command it sends, so Dovecot's CPU
	# (a big maildir's rescans and rewrites, TLS) is nearly all wall time
	# of the poll: without it, an estimate of the agent's and
	# PostgreSQL's part (Dovecot's disk waits stay in).
	le=$(awk -v a="$we" -v b="$(hget "$e" dovecot)" 'BEGIN { printf "%.2f", a - b }')
	lh=$(awk -v a="$wh" -v b="$(hget "$hh" dovecot)" 'BEGIN { printf "%.2f", a - b }')
	echo "  wall less Dovecot's CPU: $lh / $le s = $(awk -v a="$lh" -v b="$le" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')x (Dovecot's CPU: $(hget "$hh" dovecot) s of the $wh s after the history, $(hget "$e" dovecot) s of the $we s on the empty one)"
done

# Retention over the history: ledger = "30d" prunes the rows settled
# before (nearly all of them, most of those left in the folder included).
# A poll of 20 new mails while it runs (its batches are short: the poll
# should not wait on them), then a poll that searches everything (its mark
# dropped): the pruned UIDs must come back settled, nothing fetched.
if ! "$agent" -c "$dir/h-seen-all.conf" prune --help >/dev/null 2>&1; then
	echo "history: this agent has no prune command; done"
	return 0
fi
cat >"$dir/h-prune.conf" <<EOF2
database = { conninfo = "$DMARC_CONNINFO"; };
retention = { ledger = "30d"; };
mailboxes = (
  { name = "bench";
    url = "imaps://127.0.0.1:$IMAPS_PORT/INBOX";
    username = "$IMAP_USER"; password_file = "$dir/secret";
    tls_ca_file = "$IMAP_CA"; after = "seen"; search = "all"; } );
EOF2
chmod 600 "$dir/h-prune.conf"
echo "history: prune (ledger = \"30d\")"
hdrop
hnew p
# Every lock wait over 10 ms goes to the server's log.
pg_admin_psql -c "ALTER SYSTEM SET log_lock_waits = on" \
    -c "ALTER SYSTEM SET deadlock_timeout = '10ms'" -c "SELECT pg_reload_conf()" >/dev/null
waits0=$(grep -c 'still waiting for' "$dir/pg/log" || :)
python3 "$srcdir/bench/cpu.py" "$dir/hp" "$agent" -c "$dir/h-prune.conf" prune &
hp_pid=$!
sleep 1
hpoll "$dir/hpp" seen-all
wait "$hp_pid"
waits=$(($(grep -c 'still waiting for' "$dir/pg/log" || :) - waits0))
tr ' ' '\n' <"$dir/hp" >"$dir/hp.vars"
hall=once
sed 's/^/  /' "$dir/hp.out"
hline "prune" "$dir/hp"
hline "a poll of 20 meanwhile" "$dir/hpp"
echo "  lock waits over 10 ms meanwhile (log_lock_waits): $waits"
grep -qx 'bench: 20 fetched, 20 stored, 0 duplicate, 0 invalid' "$dir/hpp.out" ||
    echo "history: the poll during the prune said: $(cat "$dir/hpp.out")" >&2
echo "  (prune's batches: $(sql -c "SELECT count(*) FROM dmarc.mail_settled") UID ranges for $(sql -c "SELECT count(*) FROM dmarc.mail_message") rows left)"
sql -c "DELETE FROM dmarc.mailbox_search" >/dev/null
hpoll "$dir/hpa" seen-all
hline "search of everything" "$dir/hpa"
grep -qx 'bench: 0 fetched, 0 stored, 0 duplicate, 0 invalid' "$dir/hpa.out" ||
    echo "history: after the prune, the poll said: $(cat "$dir/hpa.out")" >&2
