/*
 * sink-report.c: payloads, reports and records, inside the message
 * transaction that sink_msg_begin opened.
 *
 * A payload is one report_file row (sink_file_begin .. sink_file_end).  Its
 * report is inserted with ON CONFLICT DO NOTHING on the natural key
 * (reporter_key, report_id, policy_domain, date_begin); when the key exists
 * the report is a duplicate: the payload is linked to it in report_delivery
 * and seen_count goes up only when the message differs from every message
 * that delivered the report before (another ledger row, Message-ID and
 * SHA-256), so re-reading a message after a UIDVALIDITY change counts
 * nothing twice.
 *
 * A reparse (sink_reparse_begin, sink-raw.c) goes through the same
 * functions; only the head differs: it updates the report stored from the
 * payload in place instead of inserting one (sink_reparse_head).
 *
 * Every statement here is prepared once per connection.  Records arrive in
 * batches and each batch is one statement, whatever its size: the record
 * rows and all their DKIM, SPF, reason and extension rows are passed as
 * parallel arrays and unnested by data-modifying CTEs, the children joined
 * to the new record ids through the record's ord.  Arrays travel as text
 * array literals (parameter values, never SQL text).
 *
 * With sink_set_defer (the agent's poll and ingest) nothing of a payload
 * is sent before it is needed: the report_file row waits for the
 * payload's end or the first statement that refers to it (a raw chunk, a
 * TLS or failure report), the report for the payload's end or its second
 * record batch.  Most payloads then cost one statement, waited for: the
 * payload row with its final values, the last chunk of its raw copy, the
 * report, its records and totals (sink_sql_whole_payload_raw).  The
 * server's fixed cost per statement (executor start-up, CHECK constraints
 * read again, the protocol) was as large as the rows' own, and updating
 * the payload row at its end left a dead tuple and three index entries.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "agent/agent.h"
#include "report/report.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

/* The columns of one record batch, in parameter order ($2 ...). */
enum {
	R_ORD, R_IP, R_IPRAW, R_COUNT, R_COUNTRAW, R_DISP, R_DISPRAW,
	R_DKIM, R_DKIMRAW, R_SPF, R_SPFRAW, R_HFROM, R_EFROM, R_ETO, R_TAG,
	R_WARN,
	D_REC, D_ORD, D_DOMAIN, D_SEL, D_RES, D_RESRAW, D_HUMAN, D_LANG,
	S_REC, S_ORD, S_DOMAIN, S_SCOPE, S_SCOPERAW, S_RES, S_RESRAW, S_HUMAN,
	S_LANG,
	X_REC, X_ORD, X_TYPE, X_TYPERAW, X_COMMENT, X_LANG,
	E_REC, E_ORD, E_NS, E_NAME, E_XML,
	SINK_NCOLS
};

#define SINK_FILE_COLS \
	"id, message_pk, mime_path, filename, content_type,"		\
	" transfer_encoding, container, zip_member, kind, encoded_bytes,"	\
	" fn_receiver, fn_policy_domain, fn_begin, fn_end, fn_unique_id,"	\
	" subj_domain, subj_submitter, subj_report_id"

/* The 18 parameters of sink_file_begin, in SINK_FILE_COLS order. */
static const char sink_sql_file[] =
	"INSERT INTO dmarc.report_file (" SINK_FILE_COLS ")"
	" VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13, $14,"
	" $15, $16, $17, $18) RETURNING id";

/*
 * A payload's end: $1 the row, $2 size, $3 SHA-256, $4 error; with the
 * last raw chunk, $5 $6 its number and bytes.
 */
#define SINK_SQL_FILE_END \
	"UPDATE dmarc.report_file SET payload_bytes = $2,"		\
	" payload_sha256 = $3::bytea, error = $4 WHERE id = $1"
static const char sink_sql_file_end[] = SINK_SQL_FILE_END;
static const char sink_sql_file_end_raw[] =
	"WITH w AS (INSERT INTO dmarc.report_raw (file_pk, seq, data)"
	" VALUES ($1, $5, $6::bytea)) " SINK_SQL_FILE_END;

/*
 * A payload held back to its end (sink_set_defer) that nothing referred
 * to: its row inserted whole.  sink_file_begin's 18 parameters, then $19
 * size, $20 SHA-256, $21 error; with the last raw chunk, $22 $23.
 */
#define SINK_SQL_FILE_ONCE \
	"INSERT INTO dmarc.report_file (" SINK_FILE_COLS ", payload_bytes,"	\
	" payload_sha256, error)"						\
	" VALUES ($10, $1, $2, $3, $4, $5, $6, $7, $8, $9, $11, $12, $13,"	\
	" $14, $15, $16, $17, $18, $19, $20::bytea, $21)"
static const char sink_sql_file_once[] = SINK_SQL_FILE_ONCE;
static const char sink_sql_file_once_raw[] =
	"WITH w AS (INSERT INTO dmarc.report_raw (file_pk, seq, data)"
	" VALUES ($10, $22, $23::bytea)) " SINK_SQL_FILE_ONCE;

static const char sink_sql_head[] =
	"WITH ins AS ("
	"INSERT INTO dmarc.report (file_pk, format, xml_namespace,"
	" xml_version, org_name, reporter_key, org_email, extra_contact_info,"
	" extra_contact_info_lang, report_id, date_begin, date_end,"
	" begin_raw, end_raw, generator, policy_domain,"
	" policy_p, policy_p_raw, policy_sp, policy_sp_raw,"
	" policy_np, policy_np_raw, policy_adkim, policy_adkim_raw,"
	" policy_aspf, policy_aspf_raw, policy_pct, policy_pct_raw,"
	" policy_fo, policy_testing, policy_testing_raw,"
	" discovery_method, discovery_method_raw, policy_published_count,"
	" parse_warnings)"
	" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
	" to_timestamp($11::double precision),"
	" to_timestamp($12::double precision), $13, $14, $15, $16,"
	" $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28,"
	" $29, $30, $31, $32, $33, $34, $35::text[])"
	" ON CONFLICT (reporter_key, report_id, policy_domain, date_begin)"
	" DO NOTHING RETURNING id),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT ins.id, e.ord, coalesce(e.message, ''), e.lang"
	" FROM ins, unnest($36::text[], $37::text[]) WITH ORDINALITY"
	" AS e(message, lang, ord)),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT ins.id, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	" FROM ins, unnest($38::text[], $39::text[], $40::text[])"
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord)),"
	" dlv AS (INSERT INTO dmarc.report_delivery (report_pk, file_pk,"
	" counted) SELECT ins.id, $1, true FROM ins)"
	" SELECT id FROM ins";

static const char sink_sql_dup_lock[] =
	"SELECT id FROM dmarc.report WHERE reporter_key = $1"
	" AND report_id = $2 AND policy_domain = $3"
	" AND date_begin = to_timestamp($4::double precision) FOR UPDATE";

/*
 * $1-$4 the report's natural key, $5 current message, $6 current payload.
 * Sent after sink_sql_dup_lock, in its own statement, so its snapshot
 * sees every delivery committed before the lock was granted.
 */
static const char sink_sql_dup[] =
	"WITH rp AS (SELECT id FROM dmarc.report WHERE reporter_key = $1"
	" AND report_id = $2 AND policy_domain = $3"
	" AND date_begin = to_timestamp($4::double precision)),"
	" same AS (SELECT EXISTS (SELECT 1 FROM dmarc.report_delivery d"
	" JOIN dmarc.report_file f ON f.id = d.file_pk"
	" JOIN dmarc.mail_message m ON m.id = f.message_pk"
	" JOIN dmarc.mail_message c ON c.id = $5"
	" WHERE d.report_pk = (SELECT id FROM rp) AND (m.id = c.id"
	" OR m.sha256 = c.sha256"
	" OR (m.message_id <> '' AND m.message_id = c.message_id))) AS v),"
	" upd AS (UPDATE dmarc.report SET seen_count = seen_count + 1,"
	" last_seen = now() WHERE id = (SELECT id FROM rp)"
	" AND NOT (SELECT v FROM same) RETURNING id)"
	" INSERT INTO dmarc.report_delivery (report_pk, file_pk, counted)"
	" SELECT rp.id, $6, EXISTS (SELECT 1 FROM upd) FROM rp"
	" ON CONFLICT (report_pk, file_pk) DO NOTHING RETURNING counted";

/*
 * The records of one batch and their DKIM, SPF, reason and extension rows,
 * as CTEs after a CTE "ins" that gives the report (id, policy_domain,
 * date_begin): $2-$45 are the parallel arrays of sink_records_lits, the
 * children joined to the new record ids through the record's ord.
 * Shared by sink_sql_records and sink_sql_whole.
 */
#define SINK_SQL_RECORDS \
	"r AS (" \
	"INSERT INTO dmarc.record (report_pk, ord, policy_domain, date_begin," \
	" source_ip, source_ip_raw, message_count, count_raw, disposition," \
	" disposition_raw, dkim_aligned, dkim_aligned_raw, spf_aligned," \
	" spf_aligned_raw, header_from, envelope_from, envelope_to," \
	" identifiers_tag, parse_warnings)" \
	" SELECT ins.id, t.ord, ins.policy_domain, ins.date_begin, t.ip," \
	" t.ip_raw, t.n, t.n_raw, t.disp, t.disp_raw, t.dkim, t.dkim_raw, t.spf," \
	" t.spf_raw, t.hfrom, t.efrom, t.eto," \
	" coalesce(t.tag, 'identifiers'), coalesce(t.warn::text[], '{}')" \
	" FROM ins, unnest($2::integer[], $3::inet[], $4::text[]," \
	" $5::bigint[], $6::text[], $7::text[], $8::text[], $9::text[]," \
	" $10::text[], $11::text[], $12::text[], $13::text[], $14::text[]," \
	" $15::text[], $16::text[], $17::text[])" \
	" AS t(ord, ip, ip_raw, n, n_raw, disp, disp_raw, dkim, dkim_raw, spf," \
	" spf_raw, hfrom, efrom, eto, tag, warn)" \
	" RETURNING id, ord)," \
	" d AS (INSERT INTO dmarc.record_dkim (record_pk, ord, domain," \
	" selector, result, result_raw, human_result, human_result_lang)" \
	" SELECT r.id, t.ord, t.domain, t.sel, t.res, t.res_raw, t.human," \
	" t.lang FROM unnest($18::integer[], $19::integer[], $20::text[]," \
	" $21::text[], $22::text[], $23::text[], $24::text[], $25::text[])" \
	" AS t(rec, ord, domain, sel, res, res_raw, human, lang)" \
	" JOIN r ON r.ord = t.rec)," \
	" s AS (INSERT INTO dmarc.record_spf (record_pk, ord, domain, scope," \
	" scope_raw, result, result_raw, human_result, human_result_lang)" \
	" SELECT r.id, t.ord, t.domain, t.scope, t.scope_raw, t.res," \
	" t.res_raw, t.human, t.lang FROM unnest($26::integer[]," \
	" $27::integer[], $28::text[], $29::text[], $30::text[], $31::text[]," \
	" $32::text[], $33::text[], $34::text[])" \
	" AS t(rec, ord, domain, scope, scope_raw, res, res_raw, human, lang)" \
	" JOIN r ON r.ord = t.rec)," \
	" x AS (INSERT INTO dmarc.record_reason (record_pk, ord, type," \
	" type_raw, comment, comment_lang)" \
	" SELECT r.id, t.ord, t.type, t.type_raw, t.comment, t.lang" \
	" FROM unnest($35::integer[], $36::integer[], $37::text[]," \
	" $38::text[], $39::text[], $40::text[])" \
	" AS t(rec, ord, type, type_raw, comment, lang)" \
	" JOIN r ON r.ord = t.rec)," \
	" e AS (INSERT INTO dmarc.record_extension (record_pk, ord, ns_uri," \
	" local_name, xml)" \
	" SELECT r.id, t.ord, t.ns, coalesce(t.name, ''), coalesce(t.xml, '')" \
	" FROM unnest($41::integer[], $42::integer[], $43::text[]," \
	" $44::text[], $45::text[]) AS t(rec, ord, ns, name, xml)" \
	" JOIN r ON r.ord = t.rec)"

/* $1 the report, $2-$45 the batch. */
static const char sink_sql_records[] =
	"WITH ins AS (SELECT id, policy_domain, date_begin FROM dmarc.report"
	" WHERE id = $1), " SINK_SQL_RECORDS
	" SELECT count(*) FROM r";

/*
 * $1 report, $2 records skipped, $3 warnings, $4 $5 errors, $6 $7 $8
 * extensions: the end header may hold more of them than the head had.
 */
static const char sink_sql_end[] =
	"WITH c AS (SELECT count(*) AS n,"
	" coalesce(sum(message_count), 0) AS total"
	" FROM dmarc.record WHERE report_pk = $1),"
	" u AS (UPDATE dmarc.report r SET record_count = c.n,"
	" message_total = c.total, records_skipped = $2,"
	" parse_warnings = $3::text[] FROM c WHERE r.id = $1 RETURNING r.id),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT $1, e.ord, coalesce(e.message, ''), e.lang"
	" FROM unnest($4::text[], $5::text[]) WITH ORDINALITY"
	" AS e(message, lang, ord)"
	" ON CONFLICT (report_pk, ord) DO UPDATE SET"
	" message = EXCLUDED.message, lang = EXCLUDED.lang),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT $1, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	" FROM unnest($6::text[], $7::text[], $8::text[])"
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord)"
	" ON CONFLICT (report_pk, ord) DO UPDATE SET"
	" ns_uri = EXCLUDED.ns_uri, local_name = EXCLUDED.local_name,"
	" xml = EXCLUDED.xml)"
	" SELECT count(*) FROM u";

/*
 * A whole report in one statement (sink_set_defer): $1 the payload row,
 * $2-$45 one batch of records (SINK_SQL_RECORDS), $46-$84 the rest of
 * sink_head_params's 40 (the lists from the end header), $85 records
 * skipped, $86 record count, $87 message total.  Answers the new report's
 * id (NULL when the report is a duplicate: then nothing was written) and
 * the number of records stored.
 */
#define SINK_SQL_WHOLE \
	"ins AS (" \
	"INSERT INTO dmarc.report (file_pk, format, xml_namespace," \
	" xml_version, org_name, reporter_key, org_email, extra_contact_info," \
	" extra_contact_info_lang, report_id, date_begin, date_end," \
	" begin_raw, end_raw, generator, policy_domain," \
	" policy_p, policy_p_raw, policy_sp, policy_sp_raw," \
	" policy_np, policy_np_raw, policy_adkim, policy_adkim_raw," \
	" policy_aspf, policy_aspf_raw, policy_pct, policy_pct_raw," \
	" policy_fo, policy_testing, policy_testing_raw," \
	" discovery_method, discovery_method_raw, policy_published_count," \
	" parse_warnings, records_skipped, record_count, message_total)" \
	" VALUES ($1, $46, $47, $48, $49, $50, $51, $52, $53, $54," \
	" to_timestamp($55::double precision)," \
	" to_timestamp($56::double precision), $57, $58, $59, $60," \
	" $61, $62, $63, $64, $65, $66, $67, $68, $69, $70, $71, $72," \
	" $73, $74, $75, $76, $77, $78, $79::text[], $85, $86, $87)" \
	" ON CONFLICT (reporter_key, report_id, policy_domain, date_begin)" \
	" DO NOTHING RETURNING id, policy_domain, date_begin)," \
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message," \
	" lang) SELECT ins.id, e.ord, coalesce(e.message, ''), e.lang" \
	" FROM ins, unnest($80::text[], $81::text[]) WITH ORDINALITY" \
	" AS e(message, lang, ord))," \
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri," \
	" local_name, xml) SELECT ins.id, x.ord, x.ns_uri," \
	" coalesce(x.local_name, ''), coalesce(x.xml, '')" \
	" FROM ins, unnest($82::text[], $83::text[], $84::text[])" \
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord))," \
	" dlv AS (INSERT INTO dmarc.report_delivery (report_pk, file_pk," \
	" counted) SELECT ins.id, $1, true FROM ins)," \
	SINK_SQL_RECORDS \
	" SELECT (SELECT id FROM ins), (SELECT count(*) FROM r)"

static const char sink_sql_whole[] = "WITH " SINK_SQL_WHOLE;

/*
 * The same with the whole payload row first: sink_file_begin's 18
 * parameters ($88-$105), size, SHA-256 and error ($106-$108), and in the
 * second variant the last raw chunk ($109 $110).
 */
#define SINK_SQL_WHOLE_FILE \
	"WITH f AS (INSERT INTO dmarc.report_file (" SINK_FILE_COLS ","	\
	" payload_bytes, payload_sha256, error)"				\
	" VALUES ($97, $88, $89, $90, $91, $92, $93, $94, $95, $96, $98,"	\
	" $99, $100, $101, $102, $103, $104, $105, $106, $107::bytea,"	\
	" $108)), "
static const char sink_sql_whole_payload[] =
	SINK_SQL_WHOLE_FILE SINK_SQL_WHOLE;
static const char sink_sql_whole_payload_raw[] =
	SINK_SQL_WHOLE_FILE "w AS (INSERT INTO dmarc.report_raw (file_pk, seq,"
	" data) VALUES ($97, $109, $110::bytea)), " SINK_SQL_WHOLE;

/* What sink_reparse_head found. */
enum sink_reparse {
	SINK_REPARSE_ERROR = -1,
	SINK_REPARSE_UPDATED,	/* the payload's report, updated in place */
	SINK_REPARSE_DUP,	/* the payload only delivered a duplicate */
	SINK_REPARSE_NONE	/* it stored no report: store it as new */
};

/* Where sink_head_params puts the natural key. */
#define HP_REPORTER	5
#define HP_REPORT_ID	9
#define HP_BEGIN	10
#define HP_DOMAIN	15
#define HP_NPARAMS	40

/*
 * A report held back (sink_set_defer): the head's parameters and at most
 * one batch of records, as array literals.  Sent as one statement by
 * sink_report_end, or the old way when a second batch comes.
 */
struct sink_defer {
	struct sink_params	 head;		/* sink_head_params, owned */
	char			*lit[SINK_NCOLS];	/* a batch, or NULLs */
	size_t			 n;		/* records in it */
	long long		 total;		/* their message_count sum */
	int			 ended;		/* sink_report_end came: */
	struct sink_params	 end;		/* sink_sql_whole's 87, owned */
};

/*
 * Reparse: the report stored from payload $1, locked.  A payload stores at
 * most one report, but be safe: the first.
 */
static const char sink_sql_reparse_lock[] =
	"SELECT id FROM dmarc.report WHERE file_pk = $1"
	" ORDER BY id LIMIT 1 FOR UPDATE";

/* Reparse: forget what was derived from report $1. */
static const char sink_sql_reparse_clear[] =
	"WITH a AS (DELETE FROM dmarc.record WHERE report_pk = $1),"
	" b AS (DELETE FROM dmarc.report_error WHERE report_pk = $1)"
	" DELETE FROM dmarc.report_extension WHERE report_pk = $1";

/*
 * Reparse: the head's columns into report $1, in the parameter order of
 * sink_sql_head; the natural key ($6 $10 $11 $16), id, first_seen,
 * last_seen and seen_count are kept (k only gives the unused parameters
 * their types).
 */
static const char sink_sql_reparse_head[] =
	"WITH k AS (SELECT $6::text, $10::text, $11::double precision,"
	" $16::text),"
	" upd AS (UPDATE dmarc.report SET format = $2, xml_namespace = $3,"
	" xml_version = $4, org_name = $5, org_email = $7,"
	" extra_contact_info = $8, extra_contact_info_lang = $9,"
	" date_end = to_timestamp($12::double precision),"
	" begin_raw = $13, end_raw = $14, generator = $15,"
	" policy_p = $17, policy_p_raw = $18, policy_sp = $19,"
	" policy_sp_raw = $20, policy_np = $21, policy_np_raw = $22,"
	" policy_adkim = $23, policy_adkim_raw = $24, policy_aspf = $25,"
	" policy_aspf_raw = $26, policy_pct = $27, policy_pct_raw = $28,"
	" policy_fo = $29, policy_testing = $30, policy_testing_raw = $31,"
	" discovery_method = $32, discovery_method_raw = $33,"
	" policy_published_count = $34, parse_warnings = $35::text[],"
	" record_count = 0, message_total = 0, records_skipped = 0"
	" WHERE id = $1 RETURNING id),"
	" err AS (INSERT INTO dmarc.report_error (report_pk, ord, message,"
	" lang) SELECT upd.id, e.ord, coalesce(e.message, ''), e.lang"
	" FROM upd, unnest($36::text[], $37::text[]) WITH ORDINALITY"
	" AS e(message, lang, ord)),"
	" ext AS (INSERT INTO dmarc.report_extension (report_pk, ord, ns_uri,"
	" local_name, xml) SELECT upd.id, x.ord, x.ns_uri,"
	" coalesce(x.local_name, ''), coalesce(x.xml, '')"
	" FROM upd, unnest($38::text[], $39::text[], $40::text[])"
	" WITH ORDINALITY AS x(ns_uri, local_name, xml, ord))"
	" SELECT count(*) FROM upd";

/*
 * Reparse of a payload that stored nothing, whose report another payload
 * stored: link it, uncounted ($1 report key, $5 payload).
 */
static const char sink_sql_reparse_link[] =
	"INSERT INTO dmarc.report_delivery (report_pk, file_pk, counted)"
	" SELECT id, $5, false FROM dmarc.report WHERE reporter_key = $1"
	" AND report_id = $2 AND policy_domain = $3"
	" AND date_begin = to_timestamp($4::double precision)"
	" ON CONFLICT (report_pk, file_pk) DO NOTHING";

static const char *sink_format_word(enum report_format);
static char	*sink_strings(char **, size_t, char **);
static int	 sink_head_params(struct sink_params *, const char *,
		    const struct report_head *, char **);
static int	 sink_head_lists(struct sink_params *,
		    const struct report_head *, char **);
static int	 sink_report_dup(struct sink *, const struct sink_params *,
		    char **);
static void	 sink_params_keep(struct sink_params *);
static void	 sink_report_drop(struct sink *);
static void	 sink_file_drop(struct sink *);
static int	 sink_records_lits(const struct report_record *, size_t,
		    char **, long long *, char **);
static int	 sink_records_send(struct sink *, char **, size_t, char **);
static enum sink_result sink_defer_flush(struct sink *, char **);
static int	 sink_defer_end(struct sink *, const struct report_head *,
		    char **);
static void	 sink_params_append(struct sink_params *,
		    const struct sink_params *);
static enum sink_result sink_report_send(struct sink *,
		    const struct sink_params *, enum sink_stmt, const char *,
		    char **);
static enum sink_reparse sink_reparse_head(struct sink *,
		    const struct report_head *, char **);
static int	 sink_reparse_link(struct sink *, const struct report_head *,
		    char **);
static void	 sink_batch_record(struct sink_array *,
		    const struct report_record *);
static void	 sink_batch_children(struct sink_array *,
		    const struct report_record *);

/* Start an empty array literal. */
void
sink_array_init(struct sink_array *a)
{
	buf_init(&a->b, SINK_ARRAY_MAX);
	a->n = 0;
	a->overflow = 0;
	if (buf_add(&a->b, "{", 1) != 0)
		a->overflow = 1;
}

/* Append one element, double-quoted, or NULL. */
void
sink_array_add(struct sink_array *a, const char *v)
{
	const char	*p;
	size_t		 len;

	if (a->overflow)
		return;
	if (a->n++ > 0 && buf_add(&a->b, ",", 1) != 0)
		goto overflow;
	if (v == NULL) {
		if (buf_add(&a->b, "NULL", 4) != 0)
			goto overflow;
		return;
	}
	if (buf_add(&a->b, "\"", 1) != 0)
		goto overflow;
	while (*v != '\0') {
		len = strcspn(v, "\"\\");
		if (len > 0 && buf_add(&a->b, v, len) != 0)
			goto overflow;
		p = v + len;
		if (*p == '\0')
			break;
		if (buf_add(&a->b, "\\", 1) != 0 || buf_add(&a->b, p, 1) != 0)
			goto overflow;
		v = p + 1;
	}
	if (buf_add(&a->b, "\"", 1) != 0)
		goto overflow;
	return;
overflow:
	a->overflow = 1;
}

/* Append an integer element. */
void
sink_array_addint(struct sink_array *a, long long v)
{
	char	tmp[32];

	snprintf(tmp, sizeof tmp, "%lld", v);
	sink_array_add(a, tmp);
}

/* Close the literal and hand it over; NULL with *cause past the cap. */
char *
sink_array_end(struct sink_array *a, char **cause)
{
	if (a->overflow || buf_add(&a->b, "}", 1) != 0) {
		xasprintf(cause, "array parameter larger than %lu bytes",
		    (unsigned long)SINK_ARRAY_MAX);
		buf_free(&a->b);
		return (NULL);
	}
	return (buf_steal(&a->b, NULL));
}

/* Drop an unfinished literal. */
void
sink_array_free(struct sink_array *a)
{
	buf_free(&a->b);
}

/* The database's word for a report format (report.format CHECK). */
static const char *
sink_format_word(enum report_format f)
{
	switch (f) {
	case REPORT_FMT_RFC7489:
		return ("rfc7489");
	case REPORT_FMT_RFC9990:
		return ("rfc9990");
	case REPORT_FMT_DRAFT:
		return ("draft");
	default:
		return ("unknown");
	}
}

/* A text[] literal of n strings. */
static char *
sink_strings(char **v, size_t n, char **cause)
{
	struct sink_array	a;
	size_t			i;

	sink_array_init(&a);
	for (i = 0; i < n; i++)
		sink_array_add(&a, v[i]);
	return (sink_array_end(&a, cause));
}

/*
 * Open a payload: its report_file row, with an id from the pool, sent
 * without waiting (a failure shows at the next call that waits).
 */
int
sink_file_begin(struct sink *s, const struct sink_file_info *fi,
    char **cause)
{
	struct sink_params	 p;
	char			 id[24];
	int			 rc;

	if (!s->in_msg)
		fatalx("%s: no message transaction", __func__);
	if (s->reparse)
		fatalx("%s: inside a reparse", __func__);
	sink_payload_closed(s, __func__);
	sink_rawout_discard(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	if (sink_pool_take(s, id, sizeof id, cause) != 0)
		return (-1);
	sink_params_init(&p);
	sink_param_str(&p, s->message_pk);
	sink_param_str(&p, fi->mime_path);
	sink_param_str(&p, fi->filename);
	sink_param_str(&p, fi->content_type);
	sink_param_str(&p, fi->transfer_encoding);
	sink_param_str(&p, fi->container);
	sink_param_str(&p, fi->zip_member);
	sink_param_str(&p, fi->kind);
	sink_param_int(&p, fi->encoded_bytes > INT64_MAX ? INT64_MAX :
	    (long long)fi->encoded_bytes);
	sink_param_str(&p, id);
	sink_param_str(&p, fi->fn_receiver);
	sink_param_str(&p, fi->fn_policy_domain);
	if (fi->fn_receiver != NULL && fi->fn_begin >= 0)
		sink_param_int(&p, fi->fn_begin);
	else
		sink_param_str(&p, NULL);
	if (fi->fn_receiver != NULL && fi->fn_end >= 0)
		sink_param_int(&p, fi->fn_end);
	else
		sink_param_str(&p, NULL);
	sink_param_str(&p, fi->fn_unique_id);
	sink_param_str(&p, fi->subj_domain);
	sink_param_str(&p, fi->subj_submitter);
	sink_param_str(&p, fi->subj_report_id);
	if (s->defer_on) {
		/* Sent with the report, or at the end, or when first
		   referred to (sink_file_flush). */
		sink_params_keep(&p);
		s->file_held = xmalloc(sizeof *s->file_held);
		*s->file_held = p;
		snprintf(s->file_pk, sizeof s->file_pk, "%s", id);
		return (0);
	}
	rc = sink_send(s, SINK_ST_FILE, "insert report_file", sink_sql_file,
	    &p, PGRES_TUPLES_OK, SINK_CHK_ROW, 0, NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	snprintf(s->file_pk, sizeof s->file_pk, "%s", id);
	return (0);
}

/* Send the report_file row held back, if it is (contract in sink_p.h). */
int
sink_file_flush(struct sink *s, char **cause)
{
	int	rc;

	if (s->file_held == NULL)
		return (0);
	rc = sink_send(s, SINK_ST_FILE, "insert report_file", sink_sql_file,
	    s->file_held, PGRES_TUPLES_OK, SINK_CHK_ROW, 0, NULL, cause);
	sink_file_drop(s);
	return (rc);
}

/*
 * Close the payload: its size, digest and error text, with the last chunk
 * of its raw copy (not waiting).  A row still held back is inserted whole,
 * and a report held back that has ended is stored with it, in one
 * statement (waiting for it: SINK_DUP when it was a duplicate,
 * SINK_REFUSED when the database refused it).
 */
enum sink_result
sink_file_end(struct sink *s, uint64_t payload_bytes,
    const unsigned char sha256[32], const char *error, char **cause)
{
	struct sink_params	 p;
	const unsigned char	*chunk;
	size_t			 len;
	long long		 seq;
	enum sink_result	 rc = SINK_OK, rep = SINK_OK;
	int			 once, raw;

	if (s->file_pk[0] == '\0' || s->reparse)
		fatalx("%s: no payload open", __func__);
	if (s->defer != NULL && !s->defer->ended)
		fatalx("%s: a report held back was never ended", __func__);
	if (sink_rawout_finish(s, cause) != 0)
		rc = SINK_FAILED;
	once = rc == SINK_OK && s->file_held != NULL;
	sink_params_init(&p);
	if (once)
		sink_params_append(&p, s->file_held);
	else
		sink_param_str(&p, s->file_pk);
	sink_param_int(&p, payload_bytes > INT64_MAX ? INT64_MAX :
	    (long long)payload_bytes);
	sink_param_sha(&p, sha256);
	sink_param_str(&p, error);
	raw = sink_rawout_last(s, &chunk, &len, &seq);
	if (raw) {
		sink_param_int(&p, seq);
		sink_param_bin(&p, chunk, len);
	}
	if (rc == SINK_OK && once && s->defer != NULL)
		rc = rep = sink_report_send(s, &p, raw ?
		    SINK_ST_WHOLE_PAYLOAD_RAW : SINK_ST_WHOLE_PAYLOAD, raw ?
		    sink_sql_whole_payload_raw : sink_sql_whole_payload, cause);
	else if (rc == SINK_OK && once) {
		if (sink_send(s, raw ? SINK_ST_FILE_ONCE_RAW :
		    SINK_ST_FILE_ONCE, "insert report_file", raw ?
		    sink_sql_file_once_raw : sink_sql_file_once, &p,
		    PGRES_COMMAND_OK, SINK_CHK_NONE, 0, NULL, cause) != 0)
			rc = SINK_FAILED;
	} else if (rc == SINK_OK) {
		/* The row went out early (a raw chunk referred to it). */
		if (s->defer != NULL)
			rc = rep = sink_report_send(s, NULL, SINK_ST_WHOLE,
			    sink_sql_whole, cause);
		if (rc != SINK_FAILED && sink_send(s, raw ?
		    SINK_ST_FILE_END_RAW : SINK_ST_FILE_END,
		    "update report_file", raw ? sink_sql_file_end_raw :
		    sink_sql_file_end, &p, PGRES_COMMAND_OK, SINK_CHK_NONE, 0,
		    NULL, cause) != 0)
			rc = SINK_FAILED;
	}
	/* The database refused the report held back (see sink.h). */
	if (rc == SINK_FAILED && s->defer != NULL && rep == SINK_FAILED &&
	    s->err == SINK_ERR_DATA)
		rc = SINK_REFUSED;
	sink_params_free(&p);
	sink_rawout_discard(s);
	sink_defer_free(s);
	s->file_pk[0] = s->report_pk[0] = '\0';
	return (rc);
}

/* The 40 parameters of sink_sql_head: 34 columns, then the lists. */
static int
sink_head_params(struct sink_params *p, const char *file_pk,
    const struct report_head *h, char **cause)
{
	sink_param_str(p, file_pk);
	sink_param_str(p, sink_format_word(h->format));
	sink_param_str(p, h->xml_namespace);
	sink_param_str(p, h->xml_version);
	sink_param_str(p, h->org_name);
	sink_param_str(p, h->reporter_key);
	sink_param_str(p, h->org_email);
	sink_param_str(p, h->extra_contact_info);
	sink_param_str(p, h->extra_contact_info_lang);
	sink_param_str(p, h->report_id);
	sink_param_int(p, h->date_begin);
	sink_param_int(p, h->date_end);
	sink_param_str(p, h->begin_raw);
	sink_param_str(p, h->end_raw);
	sink_param_str(p, h->generator);
	sink_param_str(p, h->policy_domain);
	sink_param_str(p, h->policy_p);
	sink_param_str(p, h->policy_p_raw);
	sink_param_str(p, h->policy_sp);
	sink_param_str(p, h->policy_sp_raw);
	sink_param_str(p, h->policy_np);
	sink_param_str(p, h->policy_np_raw);
	sink_param_str(p, h->policy_adkim);
	sink_param_str(p, h->policy_adkim_raw);
	sink_param_str(p, h->policy_aspf);
	sink_param_str(p, h->policy_aspf_raw);
	if (h->policy_pct >= 0 && h->policy_pct <= 100)
		sink_param_int(p, h->policy_pct);
	else
		sink_param_str(p, NULL);
	sink_param_str(p, h->policy_pct_raw);
	sink_param_str(p, h->policy_fo);
	sink_param_str(p, h->policy_testing);
	sink_param_str(p, h->policy_testing_raw);
	sink_param_str(p, h->discovery_method);
	sink_param_str(p, h->discovery_method_raw);
	sink_param_int(p, h->policy_published_count > INT16_MAX ? INT16_MAX :
	    h->policy_published_count);
	return (sink_head_lists(p, h, cause));
}

/* Six parameters: warnings, errors (text, lang), extensions (ns, name, xml). */
static int
sink_head_lists(struct sink_params *p, const struct report_head *h,
    char **cause)
{
	struct sink_array	 e[5];
	char			*lit;
	size_t			 i;
	int			 j;

	if ((lit = sink_strings(h->warnings, h->nwarnings, cause)) == NULL)
		return (-1);
	sink_param_own(p, lit);
	for (j = 0; j < 5; j++)
		sink_array_init(&e[j]);
	for (i = 0; i < h->nerrors; i++) {
		sink_array_add(&e[0], h->errors[i].text);
		sink_array_add(&e[1], h->errors[i].lang);
	}
	for (i = 0; i < h->next; i++) {
		sink_array_add(&e[2], h->ext[i].ns_uri);
		sink_array_add(&e[3], h->ext[i].local_name);
		sink_array_add(&e[4], h->ext[i].xml);
	}
	for (j = 0; j < 5; j++) {
		if ((lit = sink_array_end(&e[j], cause)) == NULL) {
			while (++j < 5)
				sink_array_free(&e[j]);
			return (-1);
		}
		sink_param_own(p, lit);
	}
	return (0);
}

/*
 * Store a report's header.  SINK_OK: new, its records follow; SINK_DUP: a
 * duplicate (see sink_report_dup); SINK_FAILED on error.  With
 * sink_set_defer (and not in a reparse) nothing is sent yet: SINK_OK, and
 * sink_report_records or sink_report_end tell a duplicate later.
 */
enum sink_result
sink_report_head(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	 p;
	PGresult		*res = NULL;
	enum sink_reparse	 found;
	int			 rc;

	if (s->file_pk[0] == '\0')
		fatalx("%s: no payload open", __func__);
	s->report_pk[0] = '\0';
	sink_report_drop(s);
	if (s->reparse) {
		found = sink_reparse_head(s, h, cause);
		if (found == SINK_REPARSE_ERROR)
			return (SINK_FAILED);
		if (found == SINK_REPARSE_UPDATED)
			return (SINK_OK);
		if (found == SINK_REPARSE_DUP)
			return (SINK_DUP);
	}
	sink_params_init(&p);
	if (sink_head_params(&p, s->file_pk, h, cause) != 0) {
		sink_fail_data(s);
		sink_params_free(&p);
		return (SINK_FAILED);
	}
	if (s->defer_on && !s->reparse) {
		sink_params_keep(&p);
		s->defer = xcalloc(1, sizeof *s->defer);
		s->defer->head = p;
		return (SINK_OK);
	}
	rc = sink_file_flush(s, cause);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_HEAD, "insert report",
		    sink_sql_head, &p, PGRES_TUPLES_OK, SINK_CHK_NONE, 0, &res,
		    cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc != 0) {
		sink_params_free(&p);
		PQclear(res);
		return (SINK_FAILED);
	}
	if (PQntuples(res) == 1) {
		snprintf(s->report_pk, sizeof s->report_pk, "%s",
		    PQgetvalue(res, 0, 0));
		sink_params_free(&p);
		PQclear(res);
		return (SINK_OK);
	}
	PQclear(res);
	if (s->reparse)
		rc = sink_reparse_link(s, h, cause);
	else
		rc = sink_report_dup(s, &p, cause);
	sink_params_free(&p);
	return (rc == 0 ? SINK_DUP : SINK_FAILED);
}

/* Make every text value of p its own copy (binary ones are not kept). */
static void
sink_params_keep(struct sink_params *p)
{
	int	i;

	for (i = 0; i < p->n; i++) {
		if (p->fmt[i] != 0)
			fatalx("%s: binary parameter", __func__);
		if (p->own[i] == NULL && p->val[i] != NULL) {
			p->own[i] = xstrdup(p->val[i]);
			p->val[i] = p->own[i];
		}
	}
}

/* Drop the report held back (not the report_file row). */
static void
sink_report_drop(struct sink *s)
{
	int	j;

	if (s->defer == NULL)
		return;
	sink_params_free(&s->defer->head);
	sink_params_free(&s->defer->end);
	for (j = 0; j < SINK_NCOLS; j++)
		free(s->defer->lit[j]);
	free(s->defer);
	s->defer = NULL;
}

/* Held rows of a payload never ended would be lost: a bug in fn's caller. */
void
sink_payload_closed(struct sink *s, const char *fn)
{
	if (s->defer != NULL || s->file_held != NULL)
		fatalx("%s: a payload was never ended", fn);
}

/* Drop the report_file row held back, if any. */
static void
sink_file_drop(struct sink *s)
{
	if (s->file_held == NULL)
		return;
	sink_params_free(s->file_held);
	free(s->file_held);
	s->file_held = NULL;
}

void
sink_defer_free(struct sink *s)
{
	sink_report_drop(s);
	sink_file_drop(s);
}

/* The head of a reparse (enum sink_reparse). */
static enum sink_reparse
sink_reparse_head(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			 report_pk[24];
	int			 rc, found, deliveries;

	sink_params_init(&p);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec_prep(s, SINK_ST_REPARSE_LOCK, "lock reparsed report",
	    sink_sql_reparse_lock, &p, PGRES_TUPLES_OK, 0, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_REPARSE_ERROR);
	found = PQntuples(res) == 1;
	if (found)
		snprintf(report_pk, sizeof report_pk, "%s",
		    PQgetvalue(res, 0, 0));
	PQclear(res);
	if (!found) {
		/* No report of its own: a duplicate, or nothing stored. */
		sink_params_init(&p);
		sink_param_str(&p, s->file_pk);
		rc = sink_exec(s, "look for deliveries", "SELECT count(*)"
		    " FROM dmarc.report_delivery WHERE file_pk = $1", &p,
		    PGRES_TUPLES_OK, &res, cause);
		sink_params_free(&p);
		if (rc != 0)
			return (SINK_REPARSE_ERROR);
		deliveries = atoi(PQgetvalue(res, 0, 0));
		PQclear(res);
		return (deliveries > 0 ? SINK_REPARSE_DUP : SINK_REPARSE_NONE);
	}

	sink_params_init(&p);
	sink_param_str(&p, report_pk);
	rc = sink_exec_prep(s, SINK_ST_REPARSE_CLEAR, "clear reparsed report",
	    sink_sql_reparse_clear, &p, PGRES_COMMAND_OK, 0, NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_REPARSE_ERROR);

	sink_params_init(&p);
	rc = sink_head_params(&p, report_pk, h, cause);
	if (rc != 0)
		sink_fail_data(s);
	else
		rc = sink_exec_prep(s, SINK_ST_REPARSE_HEAD,
		    "update reparsed report", sink_sql_reparse_head, &p,
		    PGRES_TUPLES_OK, 0, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (SINK_REPARSE_ERROR);
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), "1") != 0) {
		xasprintf(cause, "update reparsed report: report vanished");
		sink_fail_data(s);
		PQclear(res);
		return (SINK_REPARSE_ERROR);
	}
	PQclear(res);
	snprintf(s->report_pk, sizeof s->report_pk, "%s", report_pk);
	return (SINK_REPARSE_UPDATED);
}

/* Reparse: the report came from another payload; link this one to it. */
static int
sink_reparse_link(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_str(&p, h->reporter_key);
	sink_param_str(&p, h->report_id);
	sink_param_str(&p, h->policy_domain);
	sink_param_int(&p, h->date_begin);
	sink_param_str(&p, s->file_pk);
	rc = sink_exec_prep(s, SINK_ST_REPARSE_LINK, "link reparsed payload",
	    sink_sql_reparse_link, &p, PGRES_COMMAND_OK, 0, NULL, cause);
	sink_params_free(&p);
	return (rc);
}

/*
 * The report exists: lock it, link this payload to it and count the
 * delivery when the message is a new one (two statements, one round
 * trip).  hp: the report's sink_head_params, for its natural key.
 */
static int
sink_report_dup(struct sink *s, const struct sink_params *hp, char **cause)
{
	struct sink_params	p;
	int			rc;

	sink_params_init(&p);
	sink_param_str(&p, hp->val[HP_REPORTER]);
	sink_param_str(&p, hp->val[HP_REPORT_ID]);
	sink_param_str(&p, hp->val[HP_DOMAIN]);
	sink_param_str(&p, hp->val[HP_BEGIN]);
	rc = sink_send(s, SINK_ST_DUP_LOCK, "lock duplicate report",
	    sink_sql_dup_lock, &p, PGRES_TUPLES_OK, SINK_CHK_ROW, 0, NULL,
	    cause);
	sink_param_str(&p, s->message_pk);
	sink_param_str(&p, s->file_pk);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_DUP, "count duplicate report",
		    sink_sql_dup, &p, PGRES_TUPLES_OK, SINK_CHK_NONE, 0, NULL,
		    cause);
	sink_params_free(&p);
	if (rc == 0)
		rc = sink_sync(s, cause);
	return (rc);
}

/* Add one record's own columns to the batch arrays. */
static void
sink_batch_record(struct sink_array *a, const struct report_record *r)
{
	struct sink_array	 w;
	char			*lit, *cause = NULL;
	size_t			 i;

	sink_array_addint(&a[R_ORD], r->ord);
	sink_array_add(&a[R_IP], r->source_ip);
	sink_array_add(&a[R_IPRAW], r->source_ip_raw);
	sink_array_addint(&a[R_COUNT], r->message_count);
	sink_array_add(&a[R_COUNTRAW], r->count_raw);
	sink_array_add(&a[R_DISP], r->disposition);
	sink_array_add(&a[R_DISPRAW], r->disposition_raw);
	sink_array_add(&a[R_DKIM], r->dkim_aligned);
	sink_array_add(&a[R_DKIMRAW], r->dkim_aligned_raw);
	sink_array_add(&a[R_SPF], r->spf_aligned);
	sink_array_add(&a[R_SPFRAW], r->spf_aligned_raw);
	sink_array_add(&a[R_HFROM], r->header_from);
	sink_array_add(&a[R_EFROM], r->envelope_from);
	sink_array_add(&a[R_ETO], r->envelope_to);
	sink_array_add(&a[R_TAG], r->identifiers_tag);

	/* The warnings: a text[] literal, itself one element of R_WARN. */
	sink_array_init(&w);
	for (i = 0; i < r->nwarnings; i++)
		sink_array_add(&w, r->warnings[i]);
	if ((lit = sink_array_end(&w, &cause)) == NULL) {
		free(cause);
		a[R_WARN].overflow = 1;
		return;
	}
	sink_array_add(&a[R_WARN], lit);
	free(lit);
}

/* Add one record's DKIM, SPF, reason and extension rows. */
static void
sink_batch_children(struct sink_array *a, const struct report_record *r)
{
	size_t	i;

	for (i = 0; i < r->ndkim; i++) {
		sink_array_addint(&a[D_REC], r->ord);
		sink_array_addint(&a[D_ORD], (long long)i + 1);
		sink_array_add(&a[D_DOMAIN], r->dkim[i].domain);
		sink_array_add(&a[D_SEL], r->dkim[i].selector);
		sink_array_add(&a[D_RES], r->dkim[i].result);
		sink_array_add(&a[D_RESRAW], r->dkim[i].result_raw);
		sink_array_add(&a[D_HUMAN], r->dkim[i].human_result);
		sink_array_add(&a[D_LANG], r->dkim[i].human_result_lang);
	}
	for (i = 0; i < r->nspf; i++) {
		sink_array_addint(&a[S_REC], r->ord);
		sink_array_addint(&a[S_ORD], (long long)i + 1);
		sink_array_add(&a[S_DOMAIN], r->spf[i].domain);
		sink_array_add(&a[S_SCOPE], r->spf[i].scope);
		sink_array_add(&a[S_SCOPERAW], r->spf[i].scope_raw);
		sink_array_add(&a[S_RES], r->spf[i].result);
		sink_array_add(&a[S_RESRAW], r->spf[i].result_raw);
		sink_array_add(&a[S_HUMAN], r->spf[i].human_result);
		sink_array_add(&a[S_LANG], r->spf[i].human_result_lang);
	}
	for (i = 0; i < r->nreasons; i++) {
		sink_array_addint(&a[X_REC], r->ord);
		sink_array_addint(&a[X_ORD], (long long)i + 1);
		sink_array_add(&a[X_TYPE], r->reasons[i].type);
		sink_array_add(&a[X_TYPERAW], r->reasons[i].type_raw);
		sink_array_add(&a[X_COMMENT], r->reasons[i].comment);
		sink_array_add(&a[X_LANG], r->reasons[i].comment_lang);
	}
	for (i = 0; i < r->next; i++) {
		sink_array_addint(&a[E_REC], r->ord);
		sink_array_addint(&a[E_ORD], (long long)i + 1);
		sink_array_add(&a[E_NS], r->ext[i].ns_uri);
		sink_array_add(&a[E_NAME], r->ext[i].local_name);
		sink_array_add(&a[E_XML], r->ext[i].xml);
	}
}

/*
 * The array literals of a batch of records (SINK_NCOLS of them, in lit),
 * and the sum of their message counts.  -1 with *cause past the cap.
 */
static int
sink_records_lits(const struct report_record *recs, size_t n, char **lit,
    long long *total, char **cause)
{
	struct sink_array	 a[SINK_NCOLS];
	size_t			 i;
	int			 j, rc = 0;

	*total = 0;
	for (j = 0; j < SINK_NCOLS; j++)
		sink_array_init(&a[j]);
	for (i = 0; i < n; i++) {
		sink_batch_record(a, &recs[i]);
		sink_batch_children(a, &recs[i]);
		*total += recs[i].message_count;
	}
	for (j = 0; j < SINK_NCOLS; j++) {
		lit[j] = NULL;
		if (rc != 0)
			sink_array_free(&a[j]);
		else if ((lit[j] = sink_array_end(&a[j], cause)) == NULL)
			rc = -1;
	}
	if (rc != 0) {
		for (j = 0; j < SINK_NCOLS; j++) {
			free(lit[j]);
			lit[j] = NULL;
		}
	}
	return (rc);
}

/*
 * Send a batch of n records of the current report (its literals, which
 * this takes) without waiting; the result of the batch before is read
 * now, so the server stores one batch while the parser reads the next.
 */
static int
sink_records_send(struct sink *s, char **lit, size_t n, char **cause)
{
	struct sink_params	 p;
	int			 j, prev, rc;

	sink_params_init(&p);
	sink_param_str(&p, s->report_pk);
	for (j = 0; j < SINK_NCOLS; j++) {
		sink_param_own(&p, lit[j]);
		lit[j] = NULL;
	}
	prev = s->last_records;
	rc = sink_send(s, SINK_ST_RECORDS, "insert records", sink_sql_records,
	    &p, PGRES_TUPLES_OK, SINK_CHK_COUNT, (long long)n, NULL, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (prev >= 0 && prev < s->npend - 1)
		rc = sink_wait(s, prev + 1, cause);
	s->last_records = rc == 0 ? s->npend - 1 : -1;
	return (rc);
}

/*
 * A second batch came for a report held back: send its head (one round
 * trip) and the batch held.  SINK_OK when the report is new, SINK_DUP when
 * it is a duplicate (counted as such, nothing more to send), SINK_FAILED
 * on error.
 */
static enum sink_result
sink_defer_flush(struct sink *s, char **cause)
{
	struct sink_defer	*d = s->defer;
	PGresult		*res = NULL;
	enum sink_result	 r = SINK_OK;
	int			 rc;

	rc = sink_file_flush(s, cause);
	if (rc == 0)
		rc = sink_send(s, SINK_ST_HEAD, "insert report",
		    sink_sql_head, &d->head, PGRES_TUPLES_OK, SINK_CHK_NONE, 0,
		    &res, cause);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc != 0)
		r = SINK_FAILED;
	else if (PQntuples(res) == 1)
		snprintf(s->report_pk, sizeof s->report_pk, "%s",
		    PQgetvalue(res, 0, 0));
	else if (sink_report_dup(s, &d->head, cause) == 0)
		r = SINK_DUP;
	else
		r = SINK_FAILED;
	PQclear(res);
	if (r == SINK_OK && d->lit[0] != NULL &&
	    sink_records_send(s, d->lit, d->n, cause) != 0)
		r = SINK_FAILED;
	sink_report_drop(s);
	return (r);
}

/*
 * Store a batch of records of the current (new) report: one statement,
 * sent without waiting; its result is read when the next batch has been
 * sent, or by sink_report_end.  A report held back keeps its first batch;
 * the second sends the head and both.
 */
enum sink_result
sink_report_records(struct sink *s, const struct report_record *recs,
    size_t n, char **cause)
{
	char			*lit[SINK_NCOLS];
	long long		 total;
	enum sink_result	 rc;

	if (s->report_pk[0] == '\0' && s->defer == NULL)
		fatalx("%s: no new report open", __func__);
	if (n == 0)
		return (SINK_OK);
	if (sink_records_lits(recs, n, lit, &total, cause) != 0) {
		sink_fail_data(s);
		return (SINK_FAILED);
	}
	if (s->defer != NULL && s->defer->lit[0] == NULL) {
		memcpy(s->defer->lit, lit, sizeof lit);
		s->defer->n = n;
		s->defer->total = total;
		return (SINK_OK);
	}
	if (s->defer != NULL && (rc = sink_defer_flush(s, cause)) != SINK_OK) {
		for (n = 0; n < SINK_NCOLS; n++)
			free(lit[n]);
		return (rc);
	}
	if (sink_records_send(s, lit, n, cause) != 0)
		return (SINK_FAILED);
	return (SINK_OK);
}

/*
 * A report held back has ended: the 87 parameters of sink_sql_whole (the
 * head from the end header, the batch held, the totals) into d->end.
 */
static int
sink_defer_end(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_defer	*d = s->defer;
	struct sink_params	 hp;
	int			 i, j;

	if (d->lit[0] == NULL && sink_records_lits(NULL, 0, d->lit,
	    &d->total, cause) != 0)
		return (-1);
	sink_params_init(&hp);
	if (sink_head_params(&hp, s->file_pk, h, cause) != 0) {
		sink_params_free(&hp);
		return (-1);
	}
	sink_params_init(&d->end);
	for (i = 0; i < hp.n; i++) {
		if (hp.own[i] != NULL) {
			sink_param_own(&d->end, hp.own[i]);
			hp.own[i] = NULL;
		} else
			sink_param_str(&d->end, hp.val[i]);
		for (j = 0; i == 0 && j < SINK_NCOLS; j++) {
			sink_param_own(&d->end, d->lit[j]);
			d->lit[j] = NULL;
		}
	}
	sink_params_free(&hp);
	sink_param_int(&d->end, h->records_skipped);
	sink_param_int(&d->end, (long long)d->n);
	sink_param_int(&d->end, d->total);
	sink_params_keep(&d->end);
	d->ended = 1;
	return (0);
}

/* Add src's values to dst, borrowed. */
static void
sink_params_append(struct sink_params *dst, const struct sink_params *src)
{
	int	i;

	for (i = 0; i < src->n; i++) {
		sink_param_str(dst, src->val[i]);
		dst->len[dst->n - 1] = src->len[i];
		dst->fmt[dst->n - 1] = src->fmt[i];
	}
	dst->binary |= src->binary;
}

/*
 * Store the ended report held back: statement st (sink_sql_whole, or a
 * variant that also writes the payload row from tail's parameters), one
 * round trip.  SINK_OK stored, SINK_DUP a duplicate, SINK_FAILED on error.
 */
static enum sink_result
sink_report_send(struct sink *s, const struct sink_params *tail,
    enum sink_stmt st, const char *sql, char **cause)
{
	struct sink_defer	*d = s->defer;
	struct sink_params	 p;
	PGresult		*res = NULL;
	long long		 got;
	enum sink_result	 r = SINK_OK;
	int			 rc;

	sink_params_init(&p);
	sink_params_append(&p, &d->end);
	if (tail != NULL)
		sink_params_append(&p, tail);
	rc = sink_send(s, st, "insert report", sql, &p, PGRES_TUPLES_OK,
	    SINK_CHK_ROW, 0, &res, cause);
	sink_params_free(&p);
	if (rc == 0)
		rc = sink_sync(s, cause);
	if (rc != 0)
		r = SINK_FAILED;
	else if (PQgetisnull(res, 0, 0))
		r = sink_report_dup(s, &d->head, cause) == 0 ? SINK_DUP :
		    SINK_FAILED;
	else if ((got = strtoll(PQgetvalue(res, 0, 1), NULL, 10)) !=
	    (long long)d->n) {
		xasprintf(cause, "insert records: %lld rows stored, not %zu",
		    got, d->n);
		sink_fail_data(s);
		r = SINK_FAILED;
	}
	PQclear(res);
	return (r);
}

/*
 * Close the report: its totals, counted from the stored records, and the
 * warnings, errors and extensions of the end header (a superset of the
 * head's).  Waits for every pending statement, so that a record batch the
 * server refused is reported here, for this payload, at the latest.  A
 * report still held back is stored whole here: SINK_DUP when it is a
 * duplicate.
 */
enum sink_result
sink_report_end(struct sink *s, const struct report_head *h, char **cause)
{
	struct sink_params	 p;
	enum sink_result	 r;
	int			 rc;

	if (s->defer != NULL) {
		if (sink_defer_end(s, h, cause) != 0) {
			sink_fail_data(s);
			sink_report_drop(s);
			return (SINK_FAILED);
		}
		/* With its payload row, at the payload's end. */
		if (s->file_held != NULL)
			return (SINK_OK);
		r = sink_report_send(s, NULL, SINK_ST_WHOLE, sink_sql_whole,
		    cause);
		sink_report_drop(s);
		return (r);
	}
	if (s->report_pk[0] == '\0')
		fatalx("%s: no new report open", __func__);
	sink_params_init(&p);
	sink_param_str(&p, s->report_pk);
	sink_param_int(&p, h->records_skipped);
	rc = sink_head_lists(&p, h, cause);
	if (rc != 0)
		sink_fail_data(s);
	else
		rc = sink_send(s, SINK_ST_END, "update report totals",
		    sink_sql_end, &p, PGRES_TUPLES_OK, SINK_CHK_COUNT, 1, NULL,
		    cause);
	sink_params_free(&p);
	s->report_pk[0] = '\0';
	if (rc == 0)
		rc = sink_sync(s, cause);
	return (rc == 0 ? SINK_OK : SINK_FAILED);
}

/* Hold reports back and store each whole (contract in sink.h). */
void
sink_set_defer(struct sink *s, int on)
{
	s->defer_on = on != 0;
}
