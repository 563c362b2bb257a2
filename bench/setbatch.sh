# bench/setbatch.sh: the database half of a set-based batch (one statement
# per table for many messages; see bench/README.md), measured without the
# agent.  Sourced by bench/run.sh (SETBATCH=1), right after the poll
# (before the copy floor, which leaves the authenticity rows out); it
# leaves the same rows in the tables.
#
# The rows are written again the way a set-based batch would write them:
# per batch of SETBATCH_SIZE messages (default 100, as the poll's
# writers), one transaction with a savepoint (the fallback's), one
# UPDATE ... FROM unnest of the ledger rows (facts and final status at
# once; the rows exist already, claimed, as in a poll), one INSERT ...
# SELECT FROM unnest per table with the ids given (reserved from the
# sequences beforehand, as report_file's are today; the report with ON
# CONFLICT DO NOTHING RETURNING id, which is how a duplicate would show),
# what the records add to the rollup into rollup_pending (its rows
# computed beforehand, as the agent would compute them in C), then
# rollup_flush() and COMMIT.  Arrays travel as literals in the statement
# text, parsed by the server as parameters would be.  The statements are
# made before the clock starts; psql runs them on one connection (two
# with SETBATCH_JOBS=2).
#
# What it does not measure: the agent's side (keeping the rows, building
# the arrays) and the replay of a batch that a duplicate or a refused row
# sends back to the per-message path.
#
# SETBATCH_SIZE=N mails a batch (100); SETBATCH_JOBS=2 two connections;
# SETBATCH_ROLLUP=0 leaves the rollup out (its share).

# shellcheck disable=SC2154 # dir, sql, cpu, get: bench/run.sh's

# setbatch_gen TABLE ORDER STEP [SUFFIX]: for each batch, the INSERT of
# TABLE's rows in src (column b: the batch) into src.stmts, at STEP.
setbatch_gen()
{
	sql -c "
	WITH c AS (
		SELECT a.attname AS col, a.attnum,
		    format_type(a.atttypid, a.atttypmod) AS ty,
		    a.attndims > 0 OR t.typcategory = 'A' AS arr
		  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
		 WHERE a.attrelid = 'dmarc.$1'::regclass AND a.attnum > 0
		   AND NOT a.attisdropped AND a.attgenerated = ''
		   AND a.attname <> 'txid')
	SELECT 'INSERT INTO src.stmts SELECT b, $3, ' || quote_literal('INSERT INTO dmarc.$1 ('
	    || string_agg(quote_ident(col), ', ' ORDER BY attnum)
	    || ') SELECT ' || string_agg(CASE WHEN arr THEN 't.'
	    || quote_ident(col) || '::' || ty ELSE 't.' || quote_ident(col) END,
	    ', ' ORDER BY attnum) || ' FROM unnest(')
	    || ' || concat_ws('', '', '
	    || string_agg(CASE WHEN arr THEN
		'quote_literal(array_agg(' || quote_ident(col)
		|| '::text ORDER BY $2)::text) || ''::text[]'''
	    ELSE 'quote_literal(array_agg(' || quote_ident(col)
		|| ' ORDER BY $2)::text) || ''::' || ty || '[]''' END,
		', ' ORDER BY attnum)
	    || ') || ' || quote_literal(') AS t('
	    || string_agg(quote_ident(col), ', ' ORDER BY attnum) || ')${4:-}')
	    || ' FROM src.$1 GROUP BY b' FROM c" >"$dir/setbatch.q"
	sql -f "$dir/setbatch.q"
}

# db_setbatch RECORDS: time the set-based writes; prints its line.
db_setbatch()
{
	_size=${SETBATCH_SIZE:-100}
	_tables="message_auth message_signature message_raw report_file
	    report_raw report report_delivery report_error report_extension
	    record record_dkim record_spf record_reason record_extension"
	PGOPTIONS="-c client_min_messages=warning" sql \
	    -c "DROP SCHEMA IF EXISTS src CASCADE; CREATE SCHEMA src" \
	    -c "CREATE TABLE src.mail_message AS SELECT *,
		(row_number() OVER (ORDER BY id) - 1) / $_size AS b
		FROM dmarc.mail_message" \
	    -c "CREATE TABLE src.message_auth AS SELECT a.*, m.b
		FROM dmarc.message_auth a JOIN src.mail_message m ON m.id = a.message_pk" \
	    -c "CREATE TABLE src.message_signature AS SELECT a.*, m.b
		FROM dmarc.message_signature a JOIN src.mail_message m ON m.id = a.message_pk" \
	    -c "CREATE TABLE src.message_raw AS SELECT a.*, m.b
		FROM dmarc.message_raw a JOIN src.mail_message m ON m.id = a.message_pk" \
	    -c "CREATE TABLE src.report_file AS SELECT f.*, m.b
		FROM dmarc.report_file f JOIN src.mail_message m ON m.id = f.message_pk" \
	    -c "CREATE TABLE src.report_raw AS SELECT r.*, f.b
		FROM dmarc.report_raw r JOIN src.report_file f ON f.id = r.file_pk" \
	    -c "CREATE TABLE src.report AS SELECT r.*, f.b
		FROM dmarc.report r JOIN src.report_file f ON f.id = r.file_pk" \
	    -c "CREATE TABLE src.report_delivery AS SELECT d.*, f.b
		FROM dmarc.report_delivery d JOIN src.report_file f ON f.id = d.file_pk" \
	    -c "CREATE TABLE src.report_error AS SELECT e.*, r.b
		FROM dmarc.report_error e JOIN src.report r ON r.id = e.report_pk" \
	    -c "CREATE TABLE src.report_extension AS SELECT e.*, r.b
		FROM dmarc.report_extension e JOIN src.report r ON r.id = e.report_pk" \
	    -c "CREATE TABLE src.record AS SELECT c.*, r.b
		FROM dmarc.record c JOIN src.report r ON r.id = c.report_pk" \
	    -c "CREATE TABLE src.record_dkim AS SELECT c.*, r.b
		FROM dmarc.record_dkim c JOIN src.record r ON r.id = c.record_pk" \
	    -c "CREATE TABLE src.record_spf AS SELECT c.*, r.b
		FROM dmarc.record_spf c JOIN src.record r ON r.id = c.record_pk" \
	    -c "CREATE TABLE src.record_reason AS SELECT c.*, r.b
		FROM dmarc.record_reason c JOIN src.record r ON r.id = c.record_pk" \
	    -c "CREATE TABLE src.record_extension AS SELECT c.*, r.b
		FROM dmarc.record_extension c JOIN src.record r ON r.id = c.record_pk" \
	    -c "CREATE TABLE src.rollup_pending AS SELECT u.day, u.policy_domain,
		u.report_pk, u.source_ip, u.header_from, u.envelope_from,
		u.disposition, u.dkim_aligned, u.spf_aligned, u.dkim_results,
		u.spf_results, u.reasons, u.forwarded, u.authenticity,
		u.message_count AS messages, 1::bigint AS records, r.b
		FROM dmarc.v_record_rollup u JOIN src.report r ON r.id = u.report_pk"
	sql -c "CREATE TABLE src.stmts (b bigint, step int, stmt text)"
	# The ledger: facts and final status of the batch's rows in one UPDATE.
	sql -c "INSERT INTO src.stmts SELECT b, 2, 'UPDATE dmarc.mail_message m'
	    || ' SET path = t.path, message_id = t.message_id,'
	    || ' from_addr = t.from_addr, subject = t.subject,'
	    || ' date_hdr = t.date_hdr, size_bytes = t.size_bytes,'
	    || ' sha256 = t.sha256, auth_results = t.auth_results,'
	    || ' fetched_at = now(), status = t.status,'
	    || ' status_detail = t.status_detail, status_at = now()'
	    || ' FROM unnest(' || concat_ws(', ',
	    quote_literal(array_agg(id ORDER BY id)::text) || '::bigint[]',
	    quote_literal(array_agg(path ORDER BY id)::text) || '::text[]',
	    quote_literal(array_agg(message_id ORDER BY id)::text) || '::text[]',
	    quote_literal(array_agg(from_addr ORDER BY id)::text) || '::text[]',
	    quote_literal(array_agg(subject ORDER BY id)::text) || '::text[]',
	    quote_literal(array_agg(date_hdr ORDER BY id)::text) || '::timestamptz[]',
	    quote_literal(array_agg(size_bytes ORDER BY id)::text) || '::bigint[]',
	    quote_literal(array_agg(sha256 ORDER BY id)::text) || '::bytea[]',
	    quote_literal(array_agg(auth_results ORDER BY id)::text) || '::text[]',
	    quote_literal(array_agg(status ORDER BY id)::text) || '::text[]',
	    quote_literal(array_agg(status_detail ORDER BY id)::text) || '::text[]')
	    || ') AS t(id, path, message_id, from_addr, subject, date_hdr,'
	    || ' size_bytes, sha256, auth_results, status, status_detail)'
	    || ' WHERE m.id = t.id' FROM src.mail_message GROUP BY b"
	_i=3
	for _t in $_tables; do
		case $_t in
		report) _suf=" ON CONFLICT (reporter_key, report_id,"
			_suf="$_suf policy_domain, date_begin) DO NOTHING RETURNING id" ;;
		*) _suf= ;;
		esac
		setbatch_gen "$_t" "$(case $_t in
		    message_auth) echo message_pk ;;
		    message_signature) echo 'message_pk, ord' ;;
		    message_raw) echo 'message_pk, seq' ;;
		    report_raw) echo 'file_pk, seq' ;;
		    report_delivery) echo 'report_pk, file_pk' ;;
		    report_error|report_extension) echo 'report_pk, ord' ;;
		    record_dkim|record_spf|record_reason|record_extension)
			echo 'record_pk, ord' ;;
		    *) echo id ;;
		    esac)" "$_i" "$_suf"
		_i=$((_i + 1))
	done
	# SETBATCH_ROLLUP=0: without the rollup, to see its share.
	_flush="SELECT dmarc.rollup_flush()"
	if [ "${SETBATCH_ROLLUP:-1}" = 0 ]; then
		_flush="SELECT 0"
	else
		setbatch_gen rollup_pending "report_pk, source_ip" 50
	fi
	# Each batch: BEGIN, SAVEPOINT, the statements, RELEASE, flush, COMMIT.
	sql -c "INSERT INTO src.stmts SELECT b, s.step, s.stmt
	    FROM (SELECT DISTINCT b FROM src.mail_message) m,
	    (VALUES (0, 'BEGIN'), (1, 'SAVEPOINT b'), (97, 'RELEASE b'),
	    (98, '$_flush'), (99, 'COMMIT')) s(step, stmt)"
	_stmts=$(sql -c "SELECT count(*) FROM src.stmts")
	# Rows of tables the batch leaves out (TLS and failure reports).
	_left=$(sql -c "SELECT (SELECT count(*) FROM dmarc.tlsrpt_report)
	    + (SELECT count(*) FROM dmarc.failure_report)")
	# The database as a poll finds it: ledger rows claimed, nothing else.
	PGOPTIONS='-c client_min_messages=warning' sql -c "TRUNCATE
	    dmarc.mail_message, dmarc.report_file, dmarc.report,
	    dmarc.rollup_volume, dmarc.rollup_source, dmarc.rollup_source_month
	    CASCADE" >/dev/null
	_cols=$(sql -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
	    FROM pg_attribute WHERE attrelid = 'dmarc.mail_message'::regclass
	    AND attnum > 0 AND NOT attisdropped AND attgenerated = ''")
	sql -c "INSERT INTO dmarc.mail_message ($_cols) SELECT $_cols FROM
	    src.mail_message" -c "UPDATE dmarc.mail_message SET status = 'claimed',
	    status_detail = NULL" -c "VACUUM dmarc.mail_message" >/dev/null
	pg_admin_psql -d "$PGDATABASE" -c CHECKPOINT >/dev/null
	# SETBATCH_JOBS=2: two connections, even and odd batches, as the
	# poll's two writers (their rollup flushes meet on the same rows).
	_jobs=${SETBATCH_JOBS:-1}
	sql -o "$dir/setbatch.0.sql" -c "SELECT stmt || ';' FROM src.stmts
	    WHERE b % $_jobs = 0 ORDER BY b, step"
	sql -o "$dir/setbatch.1.sql" -c "SELECT stmt || ';' FROM src.stmts
	    WHERE b % $_jobs = 1 ORDER BY b, step"
	# shellcheck disable=SC2016 # expanded by the inner sh
	cpu "$dir/setb" sh -c 'psql -X -q -v ON_ERROR_STOP=1 -o /dev/null \
	    -f "$1" & a=$!; psql -X -q -v ON_ERROR_STOP=1 -o /dev/null -f "$2" &&
	    wait $a' setbatch "$dir/setbatch.0.sql" "$dir/setbatch.1.sql"
	[ "$(get "$dir/setb" rc)" = 0 ] ||
	    { echo "run.sh: the set-based batch failed: $(tail -n 3 "$dir/setb.err")" >&2; return 1; }
	_got=$(sql -c "SELECT count(*) FROM dmarc.record")
	[ "$_got" = "$1" ] ||
	    { echo "run.sh: the set-based batch wrote $_got records, not $1" >&2; return 1; }
	_roll=$(sql -c "SELECT count(*) FROM dmarc.rollup_check()")
	[ "${SETBATCH_ROLLUP:-1}" = 0 ] && _roll=off
	printf '  set-based batch (bench/setbatch.sh: %s statements, batches of %s mails on %s connections, rollup %s, %s rows of other tables left out): %s s, PostgreSQL CPU %s s\n' \
	    "$_stmts" "$_size" "$_jobs" "$(case $_roll in 0) echo 'equal to the records' ;; off) echo 'left out' ;; *) echo "NOT equal ($_roll rows differ)" ;; esac)" "$_left" \
	    "$(get "$dir/setb" wall)" "$(get "$dir/setb" postgres)"
	PGOPTIONS="-c client_min_messages=warning" sql -c "DROP SCHEMA src CASCADE"
}
