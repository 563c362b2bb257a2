# tests/lib/robust-compare.sh: compare a database and its folders with a
# clean run's.  Source after pg.sh, dovecot.sh and robust.sh.
#
# robust_snapshot DB MAILBOX OUT
#	write OUT.rows (tests/lib/dump.sql plus reporter_key, report_id,
#	seen_count per report) and OUT.ledger (uid, status, after_action,
#	sha256 per ledger row of MAILBOX, and how many are stored and how
#	many duplicate), both sorted.  A stored or duplicate message is
#	"delivered" in its own line: when two messages carry one report, the
#	one whose batch commits first is "stored", and with several workers
#	(or a kill between them) that need not be the lower UID.  The counts
#	still catch a report stored twice or not at all, and the rows catch
#	any difference in what was stored.
# robust_compare SCENARIO CLEANOUT OUT
#	set ROBUST_LOST and ROBUST_DUP (rows in the clean run missing here,
#	rows here not in the clean run, ledger included); err on any
robust_snapshot()
{
	PGDATABASE=$1 psql -X -At -v ON_ERROR_STOP=1 \
	    -f "$top_srcdir/tests/lib/dump.sql" \
	    -c "SELECT 'seen' || E'\t' || reporter_key || E'\t' || report_id || E'\t' || seen_count FROM dmarc.report" |
	    LC_ALL=C sort >"$3.rows"
	PGDATABASE=$1 psql -X -At -v ON_ERROR_STOP=1 -F "$(printf '\t')" -c \
	    "SELECT uid::text, CASE WHEN status IN ('stored', 'duplicate')
	         THEN 'delivered' ELSE status END, after_action,
	         encode(sha256, 'hex') FROM dmarc.mail_message WHERE mailbox = '$2'
	     UNION ALL SELECT 'count', status, count(*)::text, ''
	     FROM dmarc.mail_message WHERE mailbox = '$2'
	     AND status IN ('stored', 'duplicate') GROUP BY status" |
	    LC_ALL=C sort >"$3.ledger"
}

robust_compare()
{
	ROBUST_LOST=$(( $(LC_ALL=C comm -23 "$2.rows" "$3.rows" | wc -l) +
	    $(LC_ALL=C comm -23 "$2.ledger" "$3.ledger" | wc -l) ))
	ROBUST_DUP=$(( $(LC_ALL=C comm -13 "$2.rows" "$3.rows" | wc -l) +
	    $(LC_ALL=C comm -13 "$2.ledger" "$3.ledger" | wc -l) ))
	if [ "$ROBUST_LOST" -ne 0 ] || [ "$ROBUST_DUP" -ne 0 ]; then
		err "$1: $ROBUST_LOST rows lost, $ROBUST_DUP rows extra or changed (< clean, > here):"
		{ diff "$2.rows" "$3.rows"; diff "$2.ledger" "$3.ledger"; } | head -20 >&2
	fi
}
