/*
 * tst_tlsrpt_live.c: SMTP TLS reports and failure reports end to end,
 * mime/ -> report/ -> sink/, against a real PostgreSQL
 * (tests/server/tlsrpt.test starts one and sets DMARC_CONNINFO).
 *
 * store_payload() below does what agent/pipeline.c does with payloads of
 * kind json and arf, without the rest of the agent: every TLS
 * and failure report of the corpus goes through it, and the rows are
 * checked against CATALOG.tsv (one delivery per file, policies per TLS
 * report), the seen_count rule, the views and the privacy switch.  It
 * works in its own database, dmarc_tlsrpt, created here.
 */
#include "config.h"

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "mime/mime.h"
#include "report/report.h"
#include "sink/sink.h"
#include "tests/tst.h"

/* One message on its way. */
struct msg {
	struct sink	*sink;
	int		 store_body;
	unsigned	 stored, duplicate, ignored, invalid;
	char		*dberr;
};

static PGconn	*db;
static const char *corpus;
static int64_t	 inbox_pk;	/* the IMAP rows' mailbox */

static int	 store_payload(struct mime_payload *, void *, char **);
static int	 on_tls(const struct tlsrpt_report *, void *, char **);
static int	 on_arf(const struct failure_report *, void *, char **);
static void	 drain(struct mime_stream *);
static int	 ingest(struct sink *, const char *, const char *, uint32_t,
		    const char *, int, struct msg *);
static char	*q1(const char *);
static long long qint(const char *);
static void	 test_corpus(struct sink *);
static void	 test_dups(struct sink *);
static void	 test_body(struct sink *);
static void	 show_views(void);
static char	*slurp(const char *, size_t *);

static const struct tlsrpt_callbacks tls_cb = { on_tls };
static const struct arf_callbacks arf_cb = { on_arf };

static int
on_tls(const struct tlsrpt_report *r, void *arg, char **cause)
{
	struct msg	*m = arg;

	return (sink_tlsrpt_store(m->sink, r, cause));
}

static int
on_arf(const struct failure_report *r, void *arg, char **cause)
{
	struct msg	*m = arg;

	return (sink_failure_store(m->sink, r, cause));
}

static void
drain(struct mime_stream *s)
{
	char	 buf[65536], *cause = NULL;

	while (mime_stream_read(s, buf, sizeof buf, &cause) > 0)
		;
	free(cause);
}

/*
 * The pipeline's branch for kind json and arf: savepoint, report_file
 * row, parse into the sink; a report the parser or the database refuses
 * is rolled back to the savepoint and recorded as a failed payload.
 */
static int
store_payload(struct mime_payload *p, void *arg, char **cause)
{
	struct msg		*m = arg;
	struct sink_file_info	 fi;
	struct report_limits	 rl;
	struct arf_input	 in;
	enum report_status	 st;
	uint64_t		 bytes;
	unsigned char		 sha[32];
	char			*pcause = NULL, *rc = NULL;

	if (p->kind == MIME_KIND_XML)
		return (0);
	memset(&fi, 0, sizeof fi);
	fi.mime_path = p->mime_path;
	fi.filename = p->filename;
	fi.content_type = p->content_type;
	fi.transfer_encoding = p->transfer_encoding;
	fi.container = p->container;
	fi.zip_member = p->zip_member;
	fi.kind = mime_kind_name(p->kind);
	fi.encoded_bytes = p->encoded_bytes;
	report_limits_default(&rl);
	if (sink_payload_savepoint(m->sink, cause) != 0 ||
	    sink_file_begin(m->sink, &fi, cause) != 0)
		return (-1);
	if (p->kind == MIME_KIND_JSON)
		st = report_parse_tlsrpt(mime_stream_read, p->stream, &rl,
		    &tls_cb, m, &pcause);
	else {
		memset(&in, 0, sizeof in);
		in.report_type = p->arf_report_type;
		in.text = p->arf_text;
		in.text_len = p->arf_text_len;
		in.original = p->arf_original;
		in.original_len = p->arf_original_len;
		in.headers_only = p->arf_headers_only;
		in.plain = p->arf_plain;
		in.store_body = m->store_body;
		st = report_parse_arf(mime_stream_read, p->stream, &in, &rl,
		    &arf_cb, m, &pcause);
	}
	if (st == REPORT_ABORTED && sink_last_error(m->sink) !=
	    SINK_ERR_DATA) {
		*cause = pcause;
		return (-1);
	}
	if (st == REPORT_ABORTED || st == REPORT_INVALID) {
		fprintf(stderr, "payload %s refused: %s\n", p->mime_path,
		    pcause);
		if (sink_payload_rollback(m->sink, cause) != 0 ||
		    sink_file_begin(m->sink, &fi, cause) != 0) {
			free(pcause);
			return (-1);
		}
		if (mime_stream_rewind(p->stream, &rc) != 0)
			free(rc);
		m->invalid++;
	} else if (st == REPORT_NOT_DMARC)
		m->ignored++;
	else if (st == REPORT_DUPLICATE)
		m->duplicate++;
	else
		m->stored++;
	drain(p->stream);
	mime_stream_stats(p->stream, &bytes, sha);
	if (sink_file_end(m->sink, bytes, sha, st == REPORT_OK ||
	    st == REPORT_DUPLICATE ? NULL : pcause, cause) != 0) {
		free(pcause);
		return (-1);
	}
	free(pcause);
	return (0);
}

/* A file of the corpus, whole. */
static char *
slurp(const char *rel, size_t *len)
{
	FILE	*f;
	char	*path, *data;
	long	 n;

	xasprintf(&path, "%s/%s", corpus, rel);
	if ((f = fopen(path, "rb")) == NULL) {
		free(path);
		return (NULL);
	}
	free(path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	data = xmalloc((size_t)n + 1);
	*len = fread(data, 1, (size_t)n, f);
	data[*len] = '\0';
	fclose(f);
	return (data);
}

/*
 * One file as a message: a file row (uid 0) or an IMAP row (uid > 0, with
 * msgid as its Message-ID and a SHA-256 of its own).  0, or -1.
 */
static int
ingest(struct sink *s, const char *rel, const char *mailbox, uint32_t uid,
    const char *msgid, int store_body, struct msg *m)
{
	struct sink_msg_info	 mi;
	struct mime_limits	 ml;
	enum sink_status	 prior;
	unsigned char		 sha[32];
	char			*data, *cause = NULL;
	size_t			 len;
	enum mime_status	 ms;

	if ((data = slurp(rel, &len)) == NULL)
		return (-1);
	memset(m, 0, sizeof *m);
	m->sink = s;
	m->store_body = store_body;
	mime_sha256(data, len, sha);
	if (uid != 0)
		sha[0] ^= (unsigned char)uid;
	memset(&mi, 0, sizeof mi);
	mi.mailbox = mailbox;
	mi.mailbox_pk = uid != 0 ? inbox_pk : 0;
	mi.uidvalidity = uid != 0 ? 1 : 0;
	mi.uid = uid;
	mi.path = rel;
	mi.message_id = msgid;
	mi.date = SINK_NO_DATE;
	mi.size = len;
	mi.sha256 = sha;
	if (sink_msg_begin(s, &mi, &prior, &cause) != 0)
		goto fail;
	if (prior != SINK_NONE && prior != SINK_CLAIMED) {
		sink_msg_rollback(s);
		free(data);
		return (1);
	}
	mime_limits_default(&ml);
	ms = mime_scan_all(data, len, &ml, NULL, store_payload, NULL, m,
	    &cause);
	if (ms == MIME_ABORTED)
		goto fail;
	free(cause);
	cause = NULL;
	if (sink_msg_commit(s, m->stored ? SINK_STORED : m->duplicate ?
	    SINK_DUPLICATE : m->invalid ? SINK_INVALID : SINK_IGNORED, NULL,
	    &cause) != 0)
		goto fail;
	free(data);
	return (0);
fail:
	fprintf(stderr, "%s: %s\n", rel, cause);
	free(cause);
	sink_msg_rollback(s);
	free(data);
	tst_failures++;
	return (-1);
}

static char *
q1(const char *sql)
{
	PGresult	*res;
	char		*v = NULL;

	res = PQexec(db, sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "query failed: %s: %s", sql,
		    PQresultErrorMessage(res));
		tst_failures++;
	} else if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return (v);
}

static long long
qint(const char *sql)
{
	char		*v = q1(sql);
	long long	 n = v != NULL ? strtoll(v, NULL, 10) : -1;

	free(v);
	return (n);
}

/*
 * Every TLS and failure report of the corpus: each file delivers one
 * report, stored or a duplicate, and a TLS report has as many policies as
 * the catalog says.
 */
static void
test_corpus(struct sink *s)
{
	FILE		*f;
	struct msg	 m;
	PGresult	*res;
	char		*path, line[8192], *fld[10], *p, sql[256];
	const char	*pv[1];
	int		 nf, ntls = 0, narf = 0;
	unsigned	 stored = 0, dup = 0;

	xasprintf(&path, "%s/CATALOG.tsv", corpus);
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "cannot open %s\n", path);
		tst_failures++;
		free(path);
		return;
	}
	free(path);
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		for (nf = 0, p = line; nf < 10 && p != NULL; nf++)
			fld[nf] = strsep(&p, "\t");
		if (nf < 9 || (strcmp(fld[3], "tlsrpt") != 0 &&
		    strcmp(fld[3], "forensic") != 0))
			continue;
		if (ingest(s, fld[0], "file", 0, NULL, 0, &m) != 0)
			continue;
		if (strcmp(fld[3], "tlsrpt") == 0)
			ntls++;
		else
			narf++;
		stored += m.stored;
		dup += m.duplicate;
		tst_checks++;
		if (m.stored + m.duplicate != 1 || m.invalid + m.ignored != 0) {
			tst_failures++;
			fprintf(stderr, "%s: %u stored, %u duplicate, %u "
			    "ignored, %u invalid\n", fld[0], m.stored,
			    m.duplicate, m.ignored, m.invalid);
		}
		if (strcmp(fld[3], "tlsrpt") != 0)
			continue;
		pv[0] = fld[0];
		res = PQexecParams(db, "SELECT r.policy_count FROM"
		    " dmarc.tlsrpt_report r JOIN dmarc.tlsrpt_delivery d"
		    " ON d.report_pk = r.id JOIN dmarc.report_file rf"
		    " ON rf.id = d.file_pk JOIN dmarc.mail_message mm"
		    " ON mm.id = rf.message_pk WHERE mm.path = $1",
		    1, NULL, pv, NULL, NULL, 0);
		tst_checks++;
		if (PQresultStatus(res) != PGRES_TUPLES_OK ||
		    PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0),
		    fld[6]) != 0) {
			tst_failures++;
			fprintf(stderr, "%s: %d reports, policies %s, catalog "
			    "%s\n", fld[0], PQntuples(res), PQntuples(res) ?
			    PQgetvalue(res, 0, 0) : "-", fld[6]);
		}
		PQclear(res);
	}
	fclose(f);
	printf("corpus: %d TLS report files, %d failure report files: "
	    "%u stored, %u duplicates\n", ntls, narf, stored, dup);
	CHECK(ntls >= 30);
	CHECK(narf >= 15);
	snprintf(sql, sizeof sql, "SELECT count(*) FROM dmarc.tlsrpt_delivery");
	CHECK_INT(qint(sql), ntls);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_delivery"), narf);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.tlsrpt_report") +
	    qint("SELECT count(*) FROM dmarc.failure_report"), stored);
	/* Totals: policy rows and failure rows add up. */
	CHECK_INT(qint("SELECT sum(policy_count) FROM dmarc.tlsrpt_report"),
	    qint("SELECT count(*) FROM dmarc.tlsrpt_policy"));
	CHECK_INT(qint("SELECT count(*) FROM dmarc.tlsrpt_report r WHERE"
	    " successful_total <> (SELECT coalesce(sum(successful_sessions),"
	    " 0) FROM dmarc.tlsrpt_policy p WHERE p.report_pk = r.id)"), 0);
	/* The quirks made it to the rows. */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.tlsrpt_report WHERE"
	    " begin_raw = '2023-01-10T00:00:00' AND date_begin ="
	    " '2023-01-10T00:00:00Z' AND parse_warnings[1] LIKE"
	    " '%no time zone: read as UTC'"), 1);
	CHECK(qint("SELECT count(*) FROM dmarc.tlsrpt_policy WHERE"
	    " mx_host_was_string") >= 1);
	CHECK(qint("SELECT count(*) FROM dmarc.tlsrpt_failure WHERE"
	    " result_type IS NULL AND result_type_raw ="
	    " 'quantum-handshake-flux'") == 1);
	CHECK(qint("SELECT count(*) FROM dmarc.tlsrpt_policy WHERE"
	    " policy_domain = 'xn--gpher-jua.test'") >= 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_report WHERE"
	    " format = 'plain' AND reason LIKE 'no message/feedback-report"
	    "%' AND source_ip = '203.0.113.68'"), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_report WHERE"
	    " user_agent = 'NtesDmarcReporter/1.0' AND"
	    " identity_alignment = '{spf,dkim}' AND sample_headers IS NOT"
	    " NULL"), 1);
	/* All have their sample but feedback2.eml, whose parts end their
	   header blocks with a line of blanks: GMime finds no message in
	   its message/rfc822 part.  A warning says so. */
	CHECK(qint("SELECT count(*) FROM dmarc.failure_report WHERE"
	    " sample_headers IS NULL") <= 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_report WHERE"
	    " sample_headers IS NULL AND NOT 'no copy of the original"
	    " message' = ANY (parse_warnings)"), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_report WHERE"
	    " sample_body IS NOT NULL"), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_file WHERE"
	    " kind IN ('json', 'arf') AND error IS NOT NULL"), 0);
}

/* The seen_count rule, as for aggregate reports. */
static void
test_dups(struct sink *s)
{
	static const char rel[] = "isseis__tlsrpt-digest/testdata/"
	    "tlsrpt_failure.eml";
	static const char arf[] = "stalwartlabs__mail-auth/resources/arf/"
	    "004.eml";
	struct msg	m;
	const char	*key = "SELECT seen_count FROM dmarc.tlsrpt_report"
	    " WHERE report_id = (SELECT report_id FROM dmarc.tlsrpt_report r"
	    " JOIN dmarc.tlsrpt_delivery d ON d.report_pk = r.id JOIN"
	    " dmarc.report_file f ON f.id = d.file_pk JOIN dmarc.mail_message"
	    " mm ON mm.id = f.message_pk WHERE mm.path LIKE"
	    " '%tlsrpt_failure.eml' AND mm.mailbox = 'file')";
	long long	n0;

	n0 = qint(key);
	CHECK(n0 >= 1);
	/* Another message: counted. */
	CHECK_INT(ingest(s, rel, "INBOX", 1, "<a@x>", 0, &m), 0);
	CHECK_INT(m.duplicate, 1);
	CHECK_INT(qint(key), n0 + 1);
	/* The same Message-ID again (another UID): not counted. */
	CHECK_INT(ingest(s, rel, "INBOX", 2, "<a@x>", 0, &m), 0);
	CHECK_INT(m.duplicate, 1);
	CHECK_INT(qint(key), n0 + 1);
	/* The same UID again: already in the ledger. */
	CHECK_INT(ingest(s, rel, "INBOX", 2, "<a@x>", 0, &m), 1);
	CHECK_INT(qint(key), n0 + 1);

	CHECK_INT(qint("SELECT seen_count FROM dmarc.failure_report WHERE"
	    " user_agent = 'OpenDMARC-Filter/1.3.2'"), 1);
	CHECK_INT(ingest(s, arf, "INBOX", 3, "<b@x>", 0, &m), 0);
	CHECK_INT(m.duplicate, 1);
	CHECK_INT(qint("SELECT seen_count FROM dmarc.failure_report WHERE"
	    " user_agent = 'OpenDMARC-Filter/1.3.2'"), 2);
	CHECK_INT(ingest(s, arf, "INBOX", 4, "<b@x>", 0, &m), 0);
	CHECK_INT(qint("SELECT seen_count FROM dmarc.failure_report WHERE"
	    " user_agent = 'OpenDMARC-Filter/1.3.2'"), 2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_delivery d JOIN"
	    " dmarc.failure_report r ON r.id = d.failure_pk WHERE"
	    " r.user_agent = 'OpenDMARC-Filter/1.3.2' AND NOT d.counted"), 1);
}

/* store_body: the sample body only when asked for. */
static void
test_body(struct sink *s)
{
	struct msg	m;

	CHECK_INT(qint("DELETE FROM dmarc.failure_report WHERE user_agent ="
	    " 'Lua/1.0' RETURNING 1"), 1);
	CHECK_INT(ingest(s, "domainaware__parsedmarc/samples/failure/DMARC "
	    "Failure Report for domain.de (mail-from=sharepoint@domain.de, "
	    "ip=10.10.10.10).eml", "INBOX", 9, "<c@x>", 1, &m), 0);
	CHECK_INT(m.stored, 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.failure_report WHERE"
	    " user_agent = 'Lua/1.0' AND sample_body LIKE '%<html>%' AND"
	    " NOT sample_is_headers_only AND original_subject = 'Subject'"),
	    1);
}

/* Counts and one row of each view, for the note. */
static void
show_views(void)
{
	static const char *const q[] = {
		"SELECT 'tlsrpt_report ' || (SELECT count(*) FROM"
		" dmarc.tlsrpt_report) || ', tlsrpt_policy ' || (SELECT"
		" count(*) FROM dmarc.tlsrpt_policy) || ', tlsrpt_failure ' ||"
		" (SELECT count(*) FROM dmarc.tlsrpt_failure) ||"
		" ', failure_report ' || (SELECT count(*) FROM"
		" dmarc.failure_report)",
		"SELECT 'v_tlsrpt_daily: ' || row_to_json(v)::text FROM"
		" dmarc.v_tlsrpt_daily v ORDER BY failed_sessions DESC, day"
		" LIMIT 1",
		"SELECT 'v_tlsrpt_failures: ' || row_to_json(v)::text FROM"
		" dmarc.v_tlsrpt_failures v ORDER BY failed_sessions DESC,"
		" result_type LIMIT 1",
		"SELECT 'v_failure_reports: ' || row_to_json(v)::text FROM"
		" dmarc.v_failure_reports v ORDER BY day DESC,"
		" reported_domain LIMIT 1"
	};
	char	*v;
	size_t	 i;

	for (i = 0; i < sizeof q / sizeof q[0]; i++) {
		v = q1(q[i]);
		CHECK(v != NULL);
		printf("%s\n", v != NULL ? v : "(none)");
		free(v);
	}
}

int
main(void)
{
	struct sink	*s;
	PGconn		*admin;
	PGresult	*res;
	const char	*ci;
	char		*cause = NULL, *dbci;

	log_init(LOG_TO_STDERR, 0);
	if ((corpus = getenv("DMARC_CORPUS")) == NULL)
		corpus = "../shared/corpus";
	if ((ci = getenv("DMARC_CONNINFO")) == NULL) {
		fprintf(stderr, "tst_tlsrpt_live: DMARC_CONNINFO is not set\n");
		return (1);
	}
	admin = PQconnectdb(ci);
	if (PQstatus(admin) != CONNECTION_OK) {
		fprintf(stderr, "%s", PQerrorMessage(admin));
		return (1);
	}
	PQclear(PQexec(admin, "DROP DATABASE IF EXISTS dmarc_tlsrpt"));
	res = PQexec(admin, "CREATE DATABASE dmarc_tlsrpt");
	CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
	PQclear(res);
	PQfinish(admin);
	xasprintf(&dbci, "%s dbname=dmarc_tlsrpt", ci);
	db = PQconnectdb(dbci);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "%s", PQerrorMessage(db));
		return (1);
	}
	PQclear(PQexec(db, "SET TimeZone = 'UTC'"));
	if ((s = sink_open(dbci, &cause)) == NULL) {
		fprintf(stderr, "sink_open: %s\n", cause);
		return (1);
	}
	free(dbci);
	CHECK_INT(sink_migrate(s, &cause), 0);
	CHECK_INT(sink_mailbox_claim(s, "imap://tst@127.0.0.1:993/INBOX",
	    "INBOX", &inbox_pk, &cause), 0);
	mime_init();

	test_corpus(s);
	test_dups(s);
	test_body(s);
	show_views();

	mime_shutdown();
	sink_close(s);
	PQfinish(db);
	free(cause);
	return (TST_DONE());
}
