/*
 * tst_sink.c: the PostgreSQL sink against a real server.  tests/server/sink.test
 * starts a throwaway cluster and runs this with DMARC_CONNINFO set.
 *
 * Every step is checked by reading the rows back with a second libpq
 * connection: each expected row is a table of (column, value) pairs, and
 * every column of the table must be either in it or explicitly skipped, so
 * a new column cannot go unchecked.  Values are compared in PostgreSQL's
 * text output with TimeZone UTC; a NULL value means SQL NULL.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "mime/mime.h"
#include "report/report.h"
#include "sink/sink.h"
#include "sink/sink_p.h"
#include "tests/tst.h"

#define S(x)	((char *)(x))
#define NCOLS	48

struct colwant {
	const char	*col;
	const char	*want;		/* NULL: SQL NULL */
};
struct rowwant {
	struct colwant	 c[NCOLS];	/* ends at col NULL */
};

static PGconn	*db;			/* the checking connection */
static const char *conninfo;
static int64_t	 inbox_pk;		/* the mailbox of msg_info */

static char	*q1(const char *, const char *, const char *);
static long long qint(const char *, const char *, const char *);
static void	 check_rows(const char *, const char *, const char *,
		    const char *, const struct rowwant *, int,
		    const char *const *);
static int	 check_value(const char *, int, const char *, const char *,
		    const struct rowwant *);
static void	 sha_fill(unsigned char *, int);
static void	 build_report(struct report_head *, struct report_record *);
static void	 build_end(struct report_head *, const struct report_head *);
static void	 msg_info(struct sink_msg_info *, uint32_t, uint32_t,
		    const char *, const unsigned char *);
static int	 store_message(struct sink *, const struct sink_msg_info *,
		    const struct report_head *, const struct report_head *,
		    const struct report_record *, size_t, enum sink_status *,
		    int *, enum sink_status);
static void	 test_migrate(struct sink *);
static void	 test_comments(void);
static int	 run_sql(PGconn *, const char *);
static char	*mailbox_name(int64_t);
static void	 test_mailbox(struct sink *);
static void	 test_claim(struct sink *);
static void	 test_history(struct sink *);
static void	 test_store(struct sink *);
static void	 test_duplicates(struct sink *);
static void	 test_payload_rollback(struct sink *);
static void	 test_files(struct sink *);
static void	 test_after_done(struct sink *);
static void	 test_data_error(struct sink *);
static void	 test_newer_schema(struct sink *);
static void	 test_broken(struct sink *);
static int	 cb_head(const struct report_head *, void *, char **);
static int	 cb_records(const struct report_record *, size_t, void *,
		    char **);
static int	 cb_end(const struct report_head *, void *, char **);
static ssize_t	 mem_read(void *, char *, size_t, char **);
static char	*server_sha(const void *, size_t);
static void	 unhex(const char *, unsigned char *);
static char	*reparse_snapshot(void);
static long long store_xml(struct sink *, uint32_t, const char *, size_t,
		    size_t);
static char	*raw_readback(struct sink *, long long, size_t *);
static void	 test_raw(struct sink *);
static int	 reparse_one(struct sink *, long long);
static void	 test_reparse(struct sink *);
static void	 test_view_sums(void);
static void	 test_error_classes(void);
static char	*conninfo_db(const char *, const char *);
static void	 upgrade_store(struct sink *);
static void	 upgrade_rows(struct sink *, const char *);
static void	 upgrade_rollup(const char *);
static void	 test_upgrade(void);
static void	 list_upgrade_dbs(void);
static int	 test_roles(const char *);
static struct sink *open_sink(void);
static long long count_uv(const char *, uint32_t);
static void	 test_batch_commit(void);
static void	 test_batch_rollback(void);
static void	 test_batch_data_error(void);
static void	 test_batch_poisoned(void);
static void	 test_batch_broken(void);
static void	 test_round_trips(void);
static void	 test_many_payloads(void);
static void	 test_defer(void);

/* The first column of the first row as text (malloc'd), NULL for NULL. */
static char *
q1(const char *sql, const char *p1, const char *p2)
{
	const char	*pv[2] = { p1, p2 };
	PGresult	*res;
	char		*v = NULL;

	res = PQexecParams(db, sql, p2 ? 2 : p1 ? 1 : 0, NULL, pv, NULL, NULL,
	    0);
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
qint(const char *sql, const char *p1, const char *p2)
{
	char		*v = q1(sql, p1, p2);
	long long	 n = v ? strtoll(v, NULL, 10) : -1;

	free(v);
	return (n);
}

/*
 * Compare the rows of sql (ordered) with want[0..n-1]; columns named in
 * skip are not compared, every other column must be in the want row.
 */
static void
check_rows(const char *what, const char *sql, const char *p1, const char *p2,
    const struct rowwant *want, int n, const char *const *skip)
{
	const char	*pv[2] = { p1, p2 };
	PGresult	*res;
	const char	*col, *got;
	int		 r, f, k;

	res = PQexecParams(db, sql, p2 ? 2 : 1, NULL, pv, NULL, NULL, 0);
	tst_checks++;
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != n) {
		fprintf(stderr, "%s: got %d rows (%s), want %d\n", what,
		    PQntuples(res), PQresultErrorMessage(res), n);
		tst_failures++;
		PQclear(res);
		return;
	}
	for (r = 0; r < n; r++) {
		for (f = 0; f < PQnfields(res); f++) {
			col = PQfname(res, f);
			for (k = 0; skip[k] != NULL; k++)
				if (strcmp(skip[k], col) == 0)
					break;
			if (skip[k] != NULL)
				continue;
			got = PQgetisnull(res, r, f) ? NULL :
			    PQgetvalue(res, r, f);
			tst_checks++;
			if (!check_value(what, r, col, got, &want[r])) {
				tst_failures++;
				fprintf(stderr, "%s: column %s not checked\n",
				    what, col);
			}
		}
	}
	PQclear(res);
}

/* Compare one value with its want entry; 0 when col has none. */
static int
check_value(const char *what, int r, const char *col, const char *got,
    const struct rowwant *want)
{
	const struct colwant	*w;

	for (w = want->c; w->col != NULL; w++)
		if (strcmp(w->col, col) == 0)
			break;
	if (w->col == NULL)
		return (0);
	tst_checks++;
	if ((got == NULL) != (w->want == NULL) ||
	    (got != NULL && strcmp(got, w->want) != 0)) {
		tst_failures++;
		fprintf(stderr, "%s row %d: %s = %s%s%s, want %s%s%s\n", what,
		    r + 1, col, got ? "\"" : "", got ? got : "NULL",
		    got ? "\"" : "", w->want ? "\"" : "",
		    w->want ? w->want : "NULL", w->want ? "\"" : "");
	}
	return (1);
}

static void
sha_fill(unsigned char *sha, int byte)
{
	memset(sha, byte, 32);
}

/* Report 1: three records, every field set, odd values included. */
static struct report_text errs[] = {
	{ S("first error"), NULL }, { S("zweiter Fehler"), S("de") }
};
static struct report_ext head_ext[] = {
	{ NULL, S("bar"), S("<bar/>") }
};
static char *head_warn[] = {
	S("odd \"quoted\" \\ {x,y}"), S("plain"), S("late warning")
};
/* The end header has one more error, extension and warning. */
static struct report_text end_errs[] = {
	{ S("first error"), NULL }, { S("zweiter Fehler"), S("de") },
	{ S("late error"), S("en") }
};
static struct report_ext end_ext[] = {
	{ NULL, S("bar"), S("<bar/>") }, { S("urn:y"), S("baz"), S("<baz/>") }
};
static struct report_dkim dkim1[] = {
	{ S("example.com"), S("sel1"), S("pass"), NULL, NULL, NULL },
	{ S("other.example"), S("S2"), NULL, S("Hardfail "), S("bad sig"),
	  S("en") }
};
static struct report_spf spf1[] = {
	{ S("example.com"), S("mfrom"), NULL, NULL, S("hardfail"), NULL,
	  NULL },
	{ S("helo.example"), NULL, S("HELO!"), S("softfail"), NULL, S("soft"),
	  S("de") }
};
static struct report_reason reasons1[] = {
	{ S("forwarded"), NULL, S("via list"), S("en") },
	{ NULL, S("weird_reason"), NULL, NULL }
};
static struct report_reason reasons3[] = {
	{ S("local_policy"), NULL, NULL, NULL }
};
static struct report_ext rec_ext1[] = {
	{ S("urn:x"), S("foo"), S("<foo xmlns=\"urn:x\">1</foo>") }
};
static char *rec_warn1[] = { S("count had spaces") };

static void
build_report(struct report_head *h, struct report_record *r)
{
	memset(h, 0, sizeof *h);
	h->format = REPORT_FMT_RFC9990;
	h->xml_namespace = S("urn:ietf:params:xml:ns:dmarc-2.0");
	h->xml_version = S("1.0");
	h->org_name = S("Example Org");
	h->reporter_key = S("example org");
	h->org_email = S("dmarc@example.net");
	h->extra_contact_info = S("https://example.net/dmarc");
	h->extra_contact_info_lang = S("en");
	h->report_id = S("r-0001");
	h->date_begin = 1700000000;
	h->date_end = 1700086399;
	h->end_raw = S(" 1700086399 ");
	h->generator = S("tst_sink 1.0");
	h->policy_domain = S("example.com");
	h->policy_p = S("reject");
	h->policy_sp_raw = S("Quarantine!");
	h->policy_np = S("none");
	h->policy_adkim = S("r");
	h->policy_aspf_raw = S("x");
	h->policy_pct = -1;
	h->policy_pct_raw = S("150");
	h->policy_fo = S("1");
	h->policy_testing = S("n");
	h->discovery_method = S("treewalk");
	h->discovery_method_raw = NULL;
	h->policy_published_count = 1;
	h->errors = errs;
	h->nerrors = 2;
	h->ext = head_ext;
	h->next = 1;
	h->warnings = head_warn;
	h->nwarnings = 2;		/* the end header has 3 */
	h->record_count = 3;
	h->message_total = 12;
	h->records_skipped = 1;

	memset(r, 0, 3 * sizeof *r);
	r[0].ord = 1;
	r[0].source_ip = S("192.0.2.1");
	r[0].message_count = 5;
	r[0].disposition = S("none");
	r[0].dkim_aligned = S("pass");
	r[0].spf_aligned = S("pass");
	r[0].header_from = S("example.com");
	r[0].envelope_from = S("example.com");
	r[0].identifiers_tag = "identifiers";
	r[0].dkim = dkim1;
	r[0].ndkim = 2;
	r[0].spf = spf1;
	r[0].nspf = 2;
	r[0].reasons = reasons1;
	r[0].nreasons = 2;
	r[0].ext = rec_ext1;
	r[0].next = 1;
	r[0].warnings = rec_warn1;
	r[0].nwarnings = 1;

	r[1].ord = 2;
	r[1].source_ip = S("2001:db8::1");
	r[1].message_count = 7;
	r[1].disposition = S("quarantine");
	r[1].dkim_aligned = S("fail");
	r[1].spf_aligned = S("fail");
	r[1].header_from = S("example.com");
	r[1].envelope_from = S("");
	r[1].envelope_to = S("example.org");
	r[1].identifiers_tag = "identities";

	r[2].ord = 3;
	r[2].source_ip_raw = S("not-an-ip");
	r[2].message_count = 0;
	r[2].count_raw = S("n/a");
	r[2].disposition_raw = S("discard");
	r[2].dkim_aligned_raw = S("unknown");
	r[2].spf_aligned = S("pass");
	r[2].identifiers_tag = "missing";
	r[2].reasons = reasons3;
	r[2].nreasons = 1;
}

/* Report 1's end header: one more error, extension and warning. */
static void
build_end(struct report_head *hend, const struct report_head *h)
{
	*hend = *h;
	hend->errors = end_errs;
	hend->nerrors = 3;
	hend->ext = end_ext;
	hend->next = 2;
	hend->nwarnings = 3;
}

/*
 * Store one message holding one payload with report h (records in batches
 * of two, hend the end header or NULL for h): *prior, *head the
 * sink_report_head result (enum sink_result).  Returns 0 or -1.
 */
static int
store_message(struct sink *s, const struct sink_msg_info *mi,
    const struct report_head *h, const struct report_head *hend,
    const struct report_record *r, size_t n, enum sink_status *prior,
    int *head, enum sink_status final)
{
	struct sink_file_info	 fi;
	unsigned char		 psha[32];
	char			*cause = NULL;
	size_t			 i, k;

	memset(&fi, 0, sizeof fi);
	fi.mime_path = "2";
	fi.filename = "google.com!example.com!1700000000!1700086399.zip";
	fi.content_type = "application/zip";
	fi.transfer_encoding = "base64";
	fi.container = "zip>xml";
	fi.zip_member = "google.com!example.com!1700000000!1700086399.xml";
	fi.kind = "xml";
	fi.encoded_bytes = 1234;
	/* What mime_name_parse and mime_subject_parse make of them. */
	fi.fn_receiver = "google.com";
	fi.fn_policy_domain = "example.com";
	fi.fn_begin = 1700000000;
	fi.fn_end = 1700086399;
	fi.subj_domain = "example.com";
	fi.subj_submitter = "google.com";
	fi.subj_report_id = "r-0001";
	sha_fill(psha, 0x01);

	if (sink_msg_begin(s, mi, prior, &cause) != 0)
		goto fail;
	if (sink_payload_savepoint(s, &cause) != 0 ||
	    sink_file_begin(s, &fi, &cause) != 0)
		goto fail;
	if ((*head = sink_report_head(s, h, &cause)) == SINK_FAILED)
		goto fail;
	if (*head == SINK_OK) {
		for (i = 0; i < n; i += k) {
			k = n - i < 2 ? n - i : 2;
			if (sink_report_records(s, r + i, k, &cause) != 0)
				goto fail;
		}
		if (sink_report_end(s, hend ? hend : h, &cause) != 0)
			goto fail;
	}
	if (sink_file_end(s, 4321, psha, NULL, &cause) != 0 ||
	    sink_msg_commit(s, final, "1 report", &cause) != 0)
		goto fail;
	return (0);
fail:
	fprintf(stderr, "store_message: %s\n", cause);
	free(cause);
	sink_msg_rollback(s);
	tst_failures++;
	return (-1);
}

static void
test_migrate(struct sink *s)
{
	char	*cause = NULL, *at1, *at2;

	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_OLD);
	CHECK(sink_schema_version() >= 1);
	CHECK_INT(sink_migrate(s, &cause), 0);
	if (cause != NULL)
		fprintf(stderr, "migrate: %s\n", cause);
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_CURRENT);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.schema_version", NULL,
	    NULL), sink_nmigrations);
	at1 = q1("SELECT max(applied_at)::text FROM dmarc.schema_version",
	    NULL, NULL);
	/* Twice: a no-op. */
	CHECK_INT(sink_migrate(s, &cause), 0);
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_CURRENT);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.schema_version", NULL,
	    NULL), sink_nmigrations);
	at2 = q1("SELECT max(applied_at)::text FROM dmarc.schema_version",
	    NULL, NULL);
	CHECK_STR(at2, at1);
	free(at1);
	free(at2);
	/*
	 * 001-002: 13 tables, 8 views; 003 health: +1, +2; 004 enrichment:
	 * +3, +2; 005 TLS and failure reports: +6, +3; 008 mailbox: +1;
	 * 009 scoped readers: +1 (domain_grant); 011 alerts: +4, +2; 012
	 * authenticity: +4, +1; 013 history: +2 (mailbox_search,
	 * mail_settled); 014 rollup: +4, +1; 017 sender pairs: +1.
	 */
	CHECK_INT(qint("SELECT count(*) FROM pg_tables WHERE schemaname ="
	    " 'dmarc'", NULL, NULL), 40);
	CHECK_INT(qint("SELECT count(*) FROM pg_views WHERE schemaname ="
	    " 'dmarc'", NULL, NULL), 19);
	free(cause);
}

/* Every table, view and column of the schema has a comment. */
static void
test_comments(void)
{
	char	*missing;

	missing = q1("SELECT string_agg(c.relname || '.' || a.attname, ' ')"
	    " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
	    " JOIN pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE n.nspname = 'dmarc' AND c.relkind IN ('r', 'v')"
	    " AND a.attnum > 0 AND NOT a.attisdropped"
	    " AND col_description(c.oid, a.attnum) IS NULL", NULL, NULL);
	CHECK_STR(missing, NULL);
	free(missing);
	missing = q1("SELECT string_agg(c.relname, ' ') FROM pg_class c"
	    " JOIN pg_namespace n ON n.oid = c.relnamespace"
	    " WHERE n.nspname = 'dmarc' AND c.relkind IN ('r', 'v')"
	    " AND obj_description(c.oid, 'pg_class') IS NULL", NULL, NULL);
	CHECK_STR(missing, NULL);
	free(missing);
	CHECK_INT(qint("SELECT count(*) FROM pg_namespace WHERE nspname ="
	    " 'dmarc' AND obj_description(oid, 'pg_namespace') IS NOT NULL",
	    NULL, NULL), 1);
}

/* Run SQL on the checking connection; 0 or -1 (printed). */
static int
run_sql(PGconn *c, const char *sql)
{
	PGresult	*res;
	int		 ok;

	res = PQexec(c, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		fprintf(stderr, "tst_sink: %s: %s", sql, PQerrorMessage(c));
	PQclear(res);
	return (ok ? 0 : -1);
}

/* The name of the mailbox row id, malloc'd. */
static char *
mailbox_name(int64_t id)
{
	char	v[24];

	snprintf(v, sizeof v, "%lld", (long long)id);
	return (q1("SELECT coalesce(identity, '-') || ' ' || name"
	    " FROM dmarc.mailbox WHERE id = $1::bigint", v, NULL));
}

/*
 * Mailboxes: found by their identity, the name only a label; a ledger
 * from before schema version 8 (no identity) goes to the first mailbox
 * of its name, and only to that one.
 */
static void
test_mailbox(struct sink *s)
{
	static const char *ia = "imap://tst@127.0.0.1:993/INBOX",
	    *ib = "imap://tst@127.0.0.1:993/Other",
	    *ic = "imap://u@h:143/L", *id = "imap://v@h:143/L";
	int64_t		 a = 0, b = 0, c = 0, old = 0, d = 0, e = 0;
	char		*cause = NULL, *v;

	CHECK_INT(sink_mailbox_claim(s, ia, "INBOX", &a, &cause), 0);
	CHECK(a > 0);
	CHECK_INT(sink_mailbox_claim(s, ia, "INBOX", &c, &cause), 0);
	CHECK(c == a);
	/* Another folder under the same name is another mailbox. */
	CHECK_INT(sink_mailbox_claim(s, ib, "INBOX", &b, &cause), 0);
	CHECK(b > 0 && b != a);
	/* Renamed: the same row, the new name. */
	CHECK_INT(sink_mailbox_claim(s, ib, "other", &c, &cause), 0);
	CHECK(c == b);
	v = mailbox_name(b);
	CHECK_STR(v, "imap://tst@127.0.0.1:993/Other other");
	free(v);
	/* An old ledger: claimed by the first mailbox of its name. */
	CHECK_INT(run_sql(db, "INSERT INTO dmarc.mailbox (name)"
	    " VALUES ('legacy')"), 0);
	old = qint("SELECT id FROM dmarc.mailbox WHERE name = 'legacy'",
	    NULL, NULL);
	CHECK_INT(sink_mailbox_claim(s, ic, "legacy", &d, &cause), 0);
	CHECK(d == old);
	v = mailbox_name(old);
	CHECK_STR(v, "imap://u@h:143/L legacy");
	free(v);
	CHECK_INT(sink_mailbox_claim(s, id, "legacy", &e, &cause), 0);
	CHECK(e > 0 && e != old);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mailbox WHERE"
	    " identity IS NULL", NULL, NULL), 0);
	free(cause);
	inbox_pk = a;
}

static void
test_claim(struct sink *s)
{
	static const uint32_t	 a[] = { 1, 2, 3 }, b[] = { 3, 4 };
	struct sink_ledger_entry *e;
	size_t			 n;
	int64_t			 other = 0;
	char			*cause = NULL;

	CHECK_INT(sink_claim(s, inbox_pk, 100, a, 3, &cause), 0);
	CHECK_INT(sink_claim(s, inbox_pk, 100, b, 2, &cause), 0);
	CHECK_INT(sink_claim(s, inbox_pk, 100, b, 0, &cause), 0);
	CHECK_INT(sink_ledger_list(s, inbox_pk, 100, &e, &n, &cause), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_INT(e[0].uid, 1);
		CHECK_INT(e[3].uid, 4);
		CHECK_INT(e[2].status, SINK_CLAIMED);
		CHECK_INT(e[3].after_done, 0);
	}
	free(e);
	CHECK_INT(sink_ledger_list(s, inbox_pk, 999, &e, &n, &cause), 0);
	CHECK_INT(n, 0);
	CHECK(e == NULL);
	/* Another folder of the same name has a ledger of its own. */
	CHECK_INT(sink_mailbox_claim(s, "imap://tst@127.0.0.1:993/Other",
	    "INBOX", &other, &cause), 0);
	CHECK_INT(sink_ledger_list(s, other, 100, &e, &n, &cause), 0);
	CHECK_INT(n, 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message m"
	    " JOIN dmarc.mailbox b ON b.id = m.mailbox_pk WHERE"
	    " m.mailbox = 'INBOX' AND b.identity = $1",
	    "imap://tst@127.0.0.1:993/INBOX", NULL), 4);
	CHECK_STR(sink_status_name(SINK_TOO_LARGE), "too_large");
	CHECK_STR(sink_status_name(SINK_NONE), "none");
	free(cause);
}

/* "uid:status[+] ..." of ledger entries, into a static buffer. */
static const char *
ledger_str(const struct sink_ledger_entry *e, size_t n)
{
	static char	out[512];
	size_t		i, off = 0;

	out[0] = '\0';
	for (i = 0; i < n && off < sizeof out - 40; i++)
		off += (size_t)snprintf(out + off, sizeof out - off, "%s%u:%s%s",
		    i == 0 ? "" : " ", e[i].uid, sink_status_name(e[i].status),
		    e[i].after_done ? "+" : "");
	return (out);
}

/*
 * A poll's history: sink_ledger_find reads the rows of the UIDs asked
 * and the unfinished ones, and pruned rows' UIDs from mail_settled;
 * prune of the ledger keeps UIDs as runs; the search mark round-trips.
 */
static void
test_history(struct sink *s)
{
	static const uint32_t	 ask[] = { 2, 5, 13, 20, 21 };
	struct sink_ledger_entry *e;
	struct sink_search_mark	 m, r;
	struct sink_prune_count	 c;
	time_t			 cut[SINK_NPRUNE];
	size_t			 n;
	int64_t			 mb = 0, cursor = 0;
	char			*cause = NULL, *v;
	int			 more = 1, batches = 0;

	CHECK_INT(sink_mailbox_claim(s, "imap://tst@127.0.0.1:993/History",
	    "history", &mb, &cause), 0);
	CHECK_INT(run_sql(db, "INSERT INTO dmarc.mail_message (mailbox_pk,"
	    " mailbox, uidvalidity, uid, status, after_action, status_at)"
	    " SELECT b.id, b.name, 7, u, CASE WHEN u = 11 THEN 'claimed'"
	    " ELSE 'stored' END, CASE WHEN u IN (11, 12) THEN 'pending'"
	    " ELSE 'done' END, now() - interval '2 days'"
	    " FROM dmarc.mailbox b, (SELECT generate_series(1, 12) UNION ALL"
	    " SELECT 20) AS g(u) WHERE b.name = 'history' ORDER BY u"), 0);
	CHECK_INT(sink_ledger_find(s, mb, 7, ask, 5, &e, &n, &cause), 0);
	CHECK_STR(ledger_str(e, n), "2:stored+ 5:stored+ 11:claimed "
	    "12:stored 20:stored+");
	free(e);
	/* Nothing asked: the unfinished rows only. */
	CHECK_INT(sink_ledger_find(s, mb, 7, NULL, 0, &e, &n, &cause), 0);
	CHECK_STR(ledger_str(e, n), "11:claimed 12:stored");
	free(e);
	CHECK_INT(sink_ledger_find(s, mb, 8, ask, 5, &e, &n, &cause), 0);
	CHECK_INT(n, 0);
	free(e);
	/* Prune settled rows (not 11 and 12), four ids a batch. */
	memset(&c, 0, sizeof c);
	memset(cut, 0, sizeof cut);
	cut[SINK_PRUNE_LEDGER] = time(NULL) - 86400;
	CHECK_INT(sink_prune_count(s, SINK_PRUNE_LEDGER, cut, &c, &cause), 0);
	CHECK_INT(c.rows, 11);
	memset(&c, 0, sizeof c);
	cursor = qint("SELECT min(id) - 1 FROM dmarc.mail_message WHERE"
	    " mailbox = 'history'", NULL, NULL);
	while (more && batches++ < 10)
		CHECK_INT(sink_prune_batch(s, SINK_PRUNE_LEDGER, time(NULL) -
		    86400, 4, &cursor, &c, &more, &cause), 0);
	CHECK_INT(batches, 4);		/* the fourth window is short */
	CHECK_INT(c.rows, 11);
	CHECK_INT(c.items, 2);		/* new ranges; the others grew */
	v = q1("SELECT string_agg(uid_lo || '-' || uid_hi, ' ' ORDER BY uid_lo)"
	    " FROM dmarc.mail_settled s JOIN dmarc.mailbox b"
	    " ON b.id = s.mailbox_pk WHERE b.name = 'history'", NULL, NULL);
	CHECK_STR(v, "1-10 20-20");
	free(v);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " mailbox = 'history'", NULL, NULL), 2);
	CHECK_INT(sink_ledger_find(s, mb, 7, ask, 5, &e, &n, &cause), 0);
	CHECK_STR(ledger_str(e, n), "2:pruned+ 5:pruned+ 11:claimed "
	    "12:stored 20:pruned+");
	free(e);
	/* The search mark. */
	CHECK_INT(sink_mark_read(s, mb, &r, &cause), 0);
	CHECK_INT(r.uidvalidity, 0);
	memset(&m, 0, sizeof m);
	m.uidvalidity = 7;
	snprintf(m.criteria, sizeof m.criteria, "all since 30d");
	m.uidnext = 4000000000U;
	m.highestmodseq = UINT64_C(9223372036854775807);
	m.full_at = 1800000000;
	CHECK_INT(sink_mark_write(s, mb, &m, &cause), 0);
	CHECK_INT(sink_mark_read(s, mb, &r, &cause), 0);
	CHECK_INT(r.uidvalidity, 7);
	CHECK_STR(r.criteria, "all since 30d");
	CHECK(r.uidnext == 4000000000U);
	CHECK(r.highestmodseq == UINT64_C(9223372036854775807));
	CHECK(r.full_at == 1800000000);
	m.uidnext = 0;
	m.highestmodseq = 0;
	CHECK_INT(sink_mark_write(s, mb, &m, &cause), 0);
	CHECK_INT(sink_mark_read(s, mb, &r, &cause), 0);
	CHECK(r.uidnext == 0 && r.highestmodseq == 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mailbox_search WHERE"
	    " uidnext IS NULL AND highestmodseq IS NULL", NULL, NULL), 1);
	free(cause);
}

static const char *const skip_ids[] = { "id", "report_pk", "record_pk",
	"file_pk", "message_pk", "first_seen", "last_seen", "fetched_at",
	"status_at", "created_at", "delivered_at", "mailbox_pk", NULL };

static const struct rowwant want_msg1[] = { { {
	{ "mailbox", "INBOX" }, { "uidvalidity", "100" }, { "uid", "1" },
	{ "path", NULL }, { "message_id", "<m1@example.net>" },
	{ "from_addr", "noreply-dmarc@google.com" },
	{ "subject", "Report Domain: example.com Submitter: google.com"
	    " Report-ID: <r-0001>" },
	{ "date_hdr", "2023-11-15 23:13:20+00" }, { "size_bytes", "5000" },
	{ "sha256", "\\xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaa" },
	{ "auth_results", "mx.example.com; dkim=pass" },
	{ "status", "stored" }, { "status_detail", "1 report" },
	{ "after_action", "pending" }, { NULL, NULL } } } };

static const struct rowwant want_file1[] = { { {
	{ "mime_path", "2" },
	{ "filename", "google.com!example.com!1700000000!1700086399.zip" },
	{ "content_type", "application/zip" },
	{ "transfer_encoding", "base64" }, { "container", "zip>xml" },
	{ "zip_member", "google.com!example.com!1700000000!1700086399.xml" },
	{ "kind", "xml" }, { "encoded_bytes", "1234" },
	{ "payload_bytes", "4321" },
	{ "payload_sha256", "\\x0101010101010101010101010101010101010101010101"
	    "010101010101010101" },
	{ "error", NULL }, { "fn_receiver", "google.com" },
	{ "fn_policy_domain", "example.com" }, { "fn_begin", "1700000000" },
	{ "fn_end", "1700086399" }, { "fn_unique_id", NULL },
	{ "subj_domain", "example.com" }, { "subj_submitter", "google.com" },
	{ "subj_report_id", "r-0001" }, { NULL, NULL } } } };

static const struct rowwant want_report1[] = { { {
	{ "format", "rfc9990" },
	{ "xml_namespace", "urn:ietf:params:xml:ns:dmarc-2.0" },
	{ "xml_version", "1.0" }, { "org_name", "Example Org" },
	{ "reporter_key", "example org" }, { "org_email", "dmarc@example.net" },
	{ "extra_contact_info", "https://example.net/dmarc" },
	{ "extra_contact_info_lang", "en" }, { "report_id", "r-0001" },
	{ "date_begin", "2023-11-14 22:13:20+00" },
	{ "date_end", "2023-11-15 22:13:19+00" }, { "begin_raw", NULL },
	{ "end_raw", " 1700086399 " }, { "generator", "tst_sink 1.0" },
	{ "policy_domain", "example.com" }, { "policy_p", "reject" },
	{ "policy_p_raw", NULL }, { "policy_sp", NULL },
	{ "policy_sp_raw", "Quarantine!" }, { "policy_np", "none" },
	{ "policy_np_raw", NULL }, { "policy_adkim", "r" },
	{ "policy_adkim_raw", NULL }, { "policy_aspf", NULL },
	{ "policy_aspf_raw", "x" }, { "policy_pct", NULL },
	{ "policy_pct_raw", "150" }, { "policy_fo", "1" },
	{ "policy_testing", "n" }, { "policy_testing_raw", NULL },
	{ "discovery_method", "treewalk" }, { "discovery_method_raw", NULL },
	{ "policy_published_count", "1" }, { "record_count", "3" },
	{ "message_total", "12" }, { "records_skipped", "1" },
	{ "parse_warnings",
	    "{\"odd \\\"quoted\\\" \\\\ {x,y}\",plain,\"late warning\"}" },
	{ "seen_count", "1" }, { "authenticity", "unverified" },
	{ NULL, NULL } } } };

#define REC_COMMON \
	{ "policy_domain", "example.com" }, \
	{ "date_begin", "2023-11-14 22:13:20+00" }, \
	{ "report_day", "2023-11-14" }

static const struct rowwant want_records1[] = { { {
	REC_COMMON, { "ord", "1" }, { "source_ip", "192.0.2.1" },
	{ "source_ip_raw", NULL }, { "message_count", "5" },
	{ "count_raw", NULL }, { "disposition", "none" },
	{ "disposition_raw", NULL }, { "dkim_aligned", "pass" },
	{ "dkim_aligned_raw", NULL }, { "spf_aligned", "pass" },
	{ "spf_aligned_raw", NULL }, { "dmarc_pass", "t" },
	{ "header_from", "example.com" }, { "envelope_from", "example.com" },
	{ "envelope_to", NULL }, { "identifiers_tag", "identifiers" },
	{ "parse_warnings", "{\"count had spaces\"}" }, { NULL, NULL } } }, { {
	REC_COMMON, { "ord", "2" }, { "source_ip", "2001:db8::1" },
	{ "source_ip_raw", NULL }, { "message_count", "7" },
	{ "count_raw", NULL }, { "disposition", "quarantine" },
	{ "disposition_raw", NULL }, { "dkim_aligned", "fail" },
	{ "dkim_aligned_raw", NULL }, { "spf_aligned", "fail" },
	{ "spf_aligned_raw", NULL }, { "dmarc_pass", "f" },
	{ "header_from", "example.com" }, { "envelope_from", "" },
	{ "envelope_to", "example.org" }, { "identifiers_tag", "identities" },
	{ "parse_warnings", "{}" }, { NULL, NULL } } }, { {
	REC_COMMON, { "ord", "3" }, { "source_ip", NULL },
	{ "source_ip_raw", "not-an-ip" }, { "message_count", "0" },
	{ "count_raw", "n/a" }, { "disposition", NULL },
	{ "disposition_raw", "discard" }, { "dkim_aligned", NULL },
	{ "dkim_aligned_raw", "unknown" }, { "spf_aligned", "pass" },
	{ "spf_aligned_raw", NULL }, { "dmarc_pass", "t" },
	{ "header_from", NULL }, { "envelope_from", NULL },
	{ "envelope_to", NULL }, { "identifiers_tag", "missing" },
	{ "parse_warnings", "{}" }, { NULL, NULL } } } };

static const struct rowwant want_dkim1[] = { { {
	{ "ord", "1" }, { "domain", "example.com" }, { "selector", "sel1" },
	{ "result", "pass" }, { "result_raw", NULL }, { "human_result", NULL },
	{ "human_result_lang", NULL }, { NULL, NULL } } }, { {
	{ "ord", "2" }, { "domain", "other.example" }, { "selector", "S2" },
	{ "result", NULL }, { "result_raw", "Hardfail " },
	{ "human_result", "bad sig" }, { "human_result_lang", "en" },
	{ NULL, NULL } } } };

static const struct rowwant want_spf1[] = { { {
	{ "ord", "1" }, { "domain", "example.com" }, { "scope", "mfrom" },
	{ "scope_raw", NULL }, { "result", NULL }, { "result_raw", "hardfail" },
	{ "human_result", NULL }, { "human_result_lang", NULL },
	{ NULL, NULL } } }, { {
	{ "ord", "2" }, { "domain", "helo.example" }, { "scope", NULL },
	{ "scope_raw", "HELO!" }, { "result", "softfail" },
	{ "result_raw", NULL }, { "human_result", "soft" },
	{ "human_result_lang", "de" }, { NULL, NULL } } } };

static const struct rowwant want_reason1[] = { { {
	{ "ord", "1" }, { "type", "forwarded" }, { "type_raw", NULL },
	{ "comment", "via list" }, { "comment_lang", "en" }, { NULL, NULL } } },
	{ { { "ord", "2" }, { "type", NULL }, { "type_raw", "weird_reason" },
	{ "comment", NULL }, { "comment_lang", NULL }, { NULL, NULL } } } };

static const struct rowwant want_reason3[] = { { {
	{ "ord", "1" }, { "type", "local_policy" }, { "type_raw", NULL },
	{ "comment", NULL }, { "comment_lang", NULL }, { NULL, NULL } } } };

static const struct rowwant want_recext1[] = { { {
	{ "ord", "1" }, { "ns_uri", "urn:x" }, { "local_name", "foo" },
	{ "xml", "<foo xmlns=\"urn:x\">1</foo>" }, { NULL, NULL } } } };

static const struct rowwant want_errors1[] = { { {
	{ "ord", "1" }, { "message", "first error" }, { "lang", NULL },
	{ NULL, NULL } } }, { {
	{ "ord", "2" }, { "message", "zweiter Fehler" }, { "lang", "de" },
	{ NULL, NULL } } }, { {
	{ "ord", "3" }, { "message", "late error" }, { "lang", "en" },
	{ NULL, NULL } } } };

static const struct rowwant want_repext1[] = { { {
	{ "ord", "1" }, { "ns_uri", NULL }, { "local_name", "bar" },
	{ "xml", "<bar/>" }, { NULL, NULL } } }, { {
	{ "ord", "2" }, { "ns_uri", "urn:y" }, { "local_name", "baz" },
	{ "xml", "<baz/>" }, { NULL, NULL } } } };

static struct report_head	 head1;
static struct report_record	 recs1[3];
static unsigned char		 msha1[32], msha2[32];
static char			*report1_pk;

static void
msg_info(struct sink_msg_info *mi, uint32_t uv, uint32_t uid,
    const char *msgid, const unsigned char *sha)
{
	memset(mi, 0, sizeof *mi);
	mi->mailbox_pk = inbox_pk;
	mi->mailbox = "INBOX";
	mi->uidvalidity = uv;
	mi->uid = uid;
	mi->message_id = msgid;
	mi->from = "noreply-dmarc@google.com";
	mi->subject = "Report Domain: example.com Submitter: google.com"
	    " Report-ID: <r-0001>";
	mi->date = 1700090000;
	mi->auth_results = "mx.example.com; dkim=pass";
	mi->size = 5000;
	mi->sha256 = sha;
}

/* Claimed uid 1 carries report 1: every column read back. */
static void
test_store(struct sink *s)
{
	struct sink_msg_info	 mi;
	struct report_head	 hend;
	enum sink_status	 prior = SINK_NONE;
	int			 head = -1;
	char			*msg_pk, *file_pk, *rec;

	build_report(&head1, recs1);
	build_end(&hend, &head1);
	sha_fill(msha1, 0xaa);
	msg_info(&mi, 100, 1, "<m1@example.net>", msha1);
	if (store_message(s, &mi, &head1, &hend, recs1, 3, &prior, &head,
	    SINK_STORED) != 0)
		return;
	CHECK_INT(prior, SINK_CLAIMED);
	CHECK_INT(head, SINK_OK);
	check_rows("mail_message", "SELECT * FROM dmarc.mail_message"
	    " WHERE mailbox = $1 AND uidvalidity = 100 AND uid = 1", "INBOX",
	    NULL, want_msg1, 1, skip_ids);
	msg_pk = q1("SELECT id FROM dmarc.mail_message WHERE uidvalidity = 100"
	    " AND uid = $1", "1", NULL);
	check_rows("report_file", "SELECT * FROM dmarc.report_file"
	    " WHERE message_pk = $1", msg_pk, NULL, want_file1, 1, skip_ids);
	file_pk = q1("SELECT id FROM dmarc.report_file WHERE message_pk = $1",
	    msg_pk, NULL);
	check_rows("report", "SELECT * FROM dmarc.report WHERE file_pk = $1",
	    file_pk, NULL, want_report1, 1, skip_ids);
	report1_pk = q1("SELECT id FROM dmarc.report WHERE file_pk = $1",
	    file_pk, NULL);
	check_rows("record", "SELECT * FROM dmarc.record WHERE report_pk = $1"
	    " ORDER BY ord", report1_pk, NULL, want_records1, 3, skip_ids);
	rec = q1("SELECT id FROM dmarc.record WHERE report_pk = $1 AND"
	    " ord = 1", report1_pk, NULL);
	check_rows("record_dkim", "SELECT * FROM dmarc.record_dkim"
	    " WHERE record_pk = $1 ORDER BY ord", rec, NULL, want_dkim1, 2,
	    skip_ids);
	check_rows("record_spf", "SELECT * FROM dmarc.record_spf"
	    " WHERE record_pk = $1 ORDER BY ord", rec, NULL, want_spf1, 2,
	    skip_ids);
	check_rows("record_reason", "SELECT * FROM dmarc.record_reason"
	    " WHERE record_pk = $1 ORDER BY ord", rec, NULL, want_reason1, 2,
	    skip_ids);
	check_rows("record_extension", "SELECT * FROM dmarc.record_extension"
	    " WHERE record_pk = $1 ORDER BY ord", rec, NULL, want_recext1, 1,
	    skip_ids);
	free(rec);
	rec = q1("SELECT id FROM dmarc.record WHERE report_pk = $1 AND"
	    " ord = 3", report1_pk, NULL);
	check_rows("record_reason 3", "SELECT * FROM dmarc.record_reason"
	    " WHERE record_pk = $1 ORDER BY ord", rec, NULL, want_reason3, 1,
	    skip_ids);
	free(rec);
	check_rows("report_error", "SELECT * FROM dmarc.report_error"
	    " WHERE report_pk = $1 ORDER BY ord", report1_pk, NULL,
	    want_errors1, 3, skip_ids);
	check_rows("report_extension", "SELECT * FROM dmarc.report_extension"
	    " WHERE report_pk = $1 ORDER BY ord", report1_pk, NULL,
	    want_repext1, 2, skip_ids);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record_dkim d JOIN"
	    " dmarc.record r ON r.id = d.record_pk WHERE r.report_pk = $1",
	    report1_pk, NULL), 2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record_spf d JOIN"
	    " dmarc.record r ON r.id = d.record_pk WHERE r.report_pk = $1",
	    report1_pk, NULL), 2);
	/* The warning survived the array literal byte for byte. */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE id = $1 AND"
	    " parse_warnings[1] = $2", report1_pk, head_warn[0]), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_delivery WHERE"
	    " report_pk = $1 AND file_pk = $2 AND counted", report1_pk,
	    file_pk), 1);
	/* The views see it. */
	CHECK_INT(qint("SELECT messages FROM dmarc.v_daily_volume WHERE"
	    " day = '2023-11-14' AND header_from = $1", "example.com", NULL),
	    12);
	CHECK_INT(qint("SELECT round(sum(messages)) FROM"
	    " dmarc.v_daily_volume_prorated WHERE policy_domain = $1",
	    "example.com", NULL), 12);
	free(msg_pk);
	free(file_pk);
}

/*
 * Report 1 again from another message (counted), then the first message
 * re-read under a new UIDVALIDITY (not counted).
 */
static void
test_duplicates(struct sink *s)
{
	struct sink_msg_info	mi;
	enum sink_status	prior = SINK_NONE;
	int			head = -1;

	if (report1_pk == NULL)
		return;
	sha_fill(msha2, 0xbb);
	msg_info(&mi, 100, 2, "<m2@example.net>", msha2);
	if (store_message(s, &mi, &head1, NULL, recs1, 3, &prior, &head,
	    SINK_DUPLICATE) != 0)
		return;
	CHECK_INT(prior, SINK_CLAIMED);
	CHECK_INT(head, SINK_DUP);
	CHECK_INT(qint("SELECT seen_count FROM dmarc.report WHERE id = $1",
	    report1_pk, NULL), 2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record", NULL, NULL), 3);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record_dkim", NULL, NULL),
	    2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report", NULL, NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_delivery WHERE"
	    " report_pk = $1 AND counted", report1_pk, NULL), 2);
	CHECK_INT(qint("SELECT duplicate_deliveries FROM"
	    " dmarc.v_reporter_activity WHERE reporter_key = $1",
	    "example org", NULL), 1);

	/* Same mail, new UIDVALIDITY: a new ledger row, seen_count kept. */
	msg_info(&mi, 101, 1, "<m1@example.net>", msha1);
	if (store_message(s, &mi, &head1, NULL, recs1, 3, &prior, &head,
	    SINK_DUPLICATE) != 0)
		return;
	CHECK_INT(prior, SINK_NONE);
	CHECK_INT(head, SINK_DUP);
	CHECK_INT(qint("SELECT seen_count FROM dmarc.report WHERE id = $1",
	    report1_pk, NULL), 2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_delivery WHERE"
	    " report_pk = $1", report1_pk, NULL), 3);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_delivery WHERE"
	    " report_pk = $1 AND NOT counted", report1_pk, NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record", NULL, NULL), 3);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " uidvalidity = 101 AND status = 'duplicate'", NULL, NULL), 1);

	/* The stored ledger row itself, met again: prior says stored. */
	msg_info(&mi, 100, 1, "<m1@example.net>", msha1);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, NULL), 0);
	CHECK_INT(prior, SINK_STORED);
	sink_msg_rollback(s);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " uidvalidity = 100 AND uid = 1 AND status = 'stored'", NULL,
	    NULL), 1);
}

/*
 * Message 3: a payload rolled back to its savepoint leaves nothing; the
 * next payload (an org_name made to look like SQL) is stored verbatim.
 */
static void
test_payload_rollback(struct sink *s)
{
	static const char	 evil[] = "Robert'); DROP TABLE dmarc.record;--"
				    " \\x00 $1 \"";
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	char			*cause = NULL, *got;
	int			 rc = 0;

	build_report(&h, r);
	h.report_id = S("r-rolled-back");
	sha_fill(sha, 0xcc);
	msg_info(&mi, 100, 3, "<m3@example.net>", sha);
	memset(&fi, 0, sizeof fi);
	fi.mime_path = "1";
	fi.kind = "xml";
	rc |= sink_msg_begin(s, &mi, &prior, &cause);
	rc |= sink_payload_savepoint(s, &cause);
	rc |= sink_file_begin(s, &fi, &cause);
	CHECK(sink_report_head(s, &h, &cause) == SINK_OK);
	rc |= sink_report_records(s, r, 3, &cause);
	rc |= sink_payload_rollback(s, &cause);

	h.report_id = S("r-evil");
	h.org_name = S(evil);
	fi.mime_path = "2";
	rc |= sink_payload_savepoint(s, &cause);
	rc |= sink_file_begin(s, &fi, &cause);
	CHECK(sink_report_head(s, &h, &cause) == SINK_OK);
	rc |= sink_report_records(s, r, 1, &cause);
	rc |= sink_report_end(s, &h, &cause);
	rc |= sink_file_end(s, 10, NULL, "partly odd", &cause);
	rc |= sink_msg_commit(s, SINK_STORED, NULL, &cause);
	CHECK_INT(rc, 0);
	if (cause != NULL)
		fprintf(stderr, "payload rollback: %s\n", cause);
	free(cause);

	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id ="
	    " $1", "r-rolled-back", NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_file f JOIN"
	    " dmarc.mail_message m ON m.id = f.message_pk WHERE m.uid = 3 AND"
	    " m.uidvalidity = 100", NULL, NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_file WHERE"
	    " mime_path = '2' AND error = $1 AND payload_sha256 IS NULL",
	    "partly odd", NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " uid = 3 AND uidvalidity = 100 AND status = 'stored'"
	    " AND status_detail IS NULL", NULL, NULL), 1);
	got = q1("SELECT org_name FROM dmarc.report WHERE report_id = $1",
	    "r-evil", NULL);
	CHECK_STR(got, evil);
	free(got);
	CHECK_INT(qint("SELECT record_count FROM dmarc.report WHERE"
	    " report_id = $1", "r-evil", NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record", NULL, NULL), 4);
}

/* Files: the content SHA-256 is the key. */
static void
test_files(struct sink *s)
{
	struct sink_msg_info	mi;
	struct report_head	h;
	struct report_record	r[3];
	enum sink_status	prior = SINK_NONE;
	unsigned char		sha[32];
	int			head = -1;

	build_report(&h, r);
	h.report_id = S("r-file");
	sha_fill(sha, 0xdd);
	memset(&mi, 0, sizeof mi);
	mi.mailbox = "file";
	mi.path = "/tmp/report.xml";
	mi.date = SINK_NO_DATE;
	mi.size = 777;
	mi.sha256 = sha;
	if (store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED) != 0)
		return;
	CHECK_INT(prior, SINK_NONE);
	CHECK_INT(head, SINK_OK);
	mi.path = "/tmp/elsewhere/report.xml";
	CHECK_INT(sink_msg_begin(s, &mi, &prior, NULL), 0);
	CHECK_INT(prior, SINK_STORED);
	sink_msg_rollback(s);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " mailbox = 'file' AND uidvalidity = 0 AND uid IS NULL AND"
	    " path = $1 AND date_hdr IS NULL AND size_bytes = 777", 
	    "/tmp/report.xml", NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " mailbox = 'file'", NULL, NULL), 1);
}

static void
test_after_done(struct sink *s)
{
	static const uint32_t	 done[] = { 1, 2 };
	struct sink_ledger_entry *e;
	size_t			 n;
	char			*cause = NULL;

	CHECK_INT(sink_after_done(s, inbox_pk, 100, done, 2, &cause), 0);
	CHECK_INT(sink_ledger_list(s, inbox_pk, 100, &e, &n, &cause), 0);
	CHECK_INT(n, 4);
	if (n == 4) {
		CHECK_INT(e[0].uid, 1);
		CHECK_INT(e[0].status, SINK_STORED);
		CHECK_INT(e[0].after_done, 1);
		CHECK_INT(e[1].status, SINK_DUPLICATE);
		CHECK_INT(e[1].after_done, 1);
		CHECK_INT(e[2].status, SINK_STORED);
		CHECK_INT(e[2].after_done, 0);
		CHECK_INT(e[3].status, SINK_CLAIMED);
	}
	free(e);
	CHECK_INT(sink_ledger_list(s, inbox_pk, 101, &e, &n, &cause), 0);
	CHECK_INT(n, 1);
	free(e);
	free(cause);
}

/* A data error: -1 with a one-line cause, the connection still fine. */
static void
test_data_error(struct sink *s)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	char			*cause = NULL;

	build_report(&h, r);
	h.report_id = S("r-bad-ip");
	r[0].source_ip = S("300.1.2.3");
	sha_fill(sha, 0xee);
	msg_info(&mi, 100, 4, "<m4@example.net>", sha);
	memset(&fi, 0, sizeof fi);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	CHECK(sink_report_head(s, &h, &cause) == SINK_OK);
	/* Record batches are sent without waiting: the refusal shows at
	   sink_report_end at the latest, with the batch's own cause. */
	CHECK(sink_report_records(s, r, 3, &cause) == SINK_OK);
	CHECK(sink_report_end(s, &h, &cause) == SINK_FAILED);
	CHECK(cause != NULL && strstr(cause, "insert records: invalid input"
	    " syntax for type inet") != NULL);
	CHECK(cause != NULL && strchr(cause, '\n') == NULL);
	CHECK_INT(sink_is_broken(s), 0);
	CHECK(sink_last_error(s) == SINK_ERR_DATA);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_msg_commit(s, SINK_STORED, NULL, &cause), -1);
	CHECK(cause != NULL);
	free(cause);
	sink_msg_rollback(s);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id ="
	    " $1", "r-bad-ip", NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " uidvalidity = 100 AND uid = 4 AND status = 'claimed' AND"
	    " message_id IS NULL", NULL, NULL), 1);
}

static void
test_newer_schema(struct sink *s)
{
	PGresult	*res;
	char		*cause = NULL;

	res = PQexec(db, "INSERT INTO dmarc.schema_version (version, name)"
	    " VALUES (999, '999_future')");
	CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
	PQclear(res);
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_ERROR);
	CHECK(cause != NULL && strstr(cause, "999") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_migrate(s, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "newer") != NULL);
	free(cause);
	cause = NULL;
	PQclear(PQexec(db, "DELETE FROM dmarc.schema_version WHERE"
	    " version = 999"));
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_CURRENT);
	free(cause);
}

/* The server ends our session: sink_is_broken says so. */
static void
test_broken(struct sink *s)
{
	char	*cause = NULL, pid[16];

	snprintf(pid, sizeof pid, "%d", PQbackendPID(s->conn));
	CHECK_INT(qint("SELECT count(pg_terminate_backend(pid)) FROM"
	    " pg_stat_activity WHERE application_name = $1 AND pid = $2::int",
	    "dmarc-agent", pid), 1);
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_ERROR);
	CHECK(cause != NULL && strchr(cause, '\n') == NULL);
	CHECK_INT(sink_is_broken(s), 1);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	free(cause);
}

/* Parser callbacks straight into the sink, as the agent wires them. */
static int
cb_head(const struct report_head *h, void *arg, char **cause)
{
	return (sink_report_head(arg, h, cause));
}

static int
cb_records(const struct report_record *r, size_t n, void *arg, char **cause)
{
	return (sink_report_records(arg, r, n, cause));
}

static int
cb_end(const struct report_head *h, void *arg, char **cause)
{
	return (sink_report_end(arg, h, cause));
}

static const struct report_callbacks sink_cbs = { cb_head, cb_records,
	cb_end };

/* A memory stream for report_parse_xml. */
struct memstream {
	const char	*p;
	size_t		 left;
};

static ssize_t
mem_read(void *arg, char *buf, size_t len, char **cause)
{
	struct memstream	*m = arg;

	(void)cause;
	if (len > m->left)
		len = m->left;
	memcpy(buf, m->p, len);
	m->p += len;
	m->left -= len;
	return ((ssize_t)len);
}

/* SHA-256 of bytes, computed by the server, as a bytea hex literal. */
static char *
server_sha(const void *data, size_t len)
{
	const char	*pv[1] = { data };
	int		 pl[1] = { (int)len }, pf[1] = { 1 };
	PGresult	*res;
	char		*v = NULL;

	res = PQexecParams(db, "SELECT sha256($1::bytea)::text", 1, NULL, pv,
	    pl, pf, 0);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		v = xstrdup(PQgetvalue(res, 0, 0));
	else
		tst_failures++;
	PQclear(res);
	return (v);
}

/* The 32 bytes of a "\x..." hex literal. */
static void
unhex(const char *hex, unsigned char *out)
{
	unsigned int	b;
	int		i;

	memset(out, 0, 32);
	if (hex == NULL || strlen(hex) != 66)
		return;
	for (i = 0; i < 32; i++) {
		sscanf(hex + 2 + 2 * i, "%2x", &b);
		out[i] = (unsigned char)b;
	}
}

static const char reparse_xml[] =
	"<?xml version=\"1.0\"?>\n<feedback>\n"
	" <report_metadata><org_name>Reparse Org</org_name>"
	"<email>dmarc@reparse.example</email>"
	"<report_id>rp-1</report_id><date_range><begin>1701000000</begin>"
	"<end>1701086399</end></date_range></report_metadata>\n"
	" <policy_published><domain>reparse.example</domain><adkim>r</adkim>"
	"<aspf>r</aspf><p>none</p><sp>none</sp><pct>100</pct>"
	"</policy_published>\n"
	" <record><row><source_ip>198.51.100.7</source_ip><count>4</count>"
	"<policy_evaluated><disposition>none</disposition><dkim>pass</dkim>"
	"<spf>fail</spf></policy_evaluated></row><identifiers>"
	"<header_from>reparse.example</header_from></identifiers>"
	"<auth_results><dkim><domain>reparse.example</domain>"
	"<selector>s1</selector><result>pass</result></dkim><spf>"
	"<domain>list.example</domain><result>fail</result></spf>"
	"</auth_results></record>\n"
	" <record><row><source_ip>203.0.113.9</source_ip><count>6</count>"
	"<policy_evaluated><disposition>quarantine</disposition>"
	"<dkim>fail</dkim><spf>fail</spf><reason><type>forwarded</type>"
	"</reason></policy_evaluated></row><identifiers>"
	"<header_from>reparse.example</header_from></identifiers>"
	"<auth_results><spf><domain>evil.example</domain>"
	"<result>softfail</result></spf></auth_results></record>\n"
	"</feedback>\n";

/* Everything derived from report rp-1, ids left out, as one text. */
static char *
reparse_snapshot(void)
{
	return (q1("SELECT string_agg(t, '|' ORDER BY t) FROM ("
	    " SELECT concat_ws(',', rp.id, rp.format, rp.org_name,"
	    " rp.reporter_key, rp.date_begin, rp.date_end, rp.policy_p,"
	    " rp.policy_pct, rp.record_count, rp.message_total,"
	    " rp.first_seen, rp.last_seen, rp.seen_count, rp.file_pk,"
	    " rp.parse_warnings::text) AS t FROM dmarc.report rp"
	    " WHERE rp.report_id = $1"
	    " UNION ALL SELECT concat_ws(',', r.ord, r.source_ip,"
	    " r.message_count, r.disposition, r.dkim_aligned, r.spf_aligned,"
	    " r.header_from, r.report_day, r.dmarc_pass) FROM dmarc.record r"
	    " JOIN dmarc.report rp ON rp.id = r.report_pk"
	    " WHERE rp.report_id = $1"
	    " UNION ALL SELECT concat_ws(',', 'dkim', r.ord, d.ord, d.domain,"
	    " d.selector, d.result) FROM dmarc.record_dkim d"
	    " JOIN dmarc.record r ON r.id = d.record_pk"
	    " JOIN dmarc.report rp ON rp.id = r.report_pk"
	    " WHERE rp.report_id = $1"
	    " UNION ALL SELECT concat_ws(',', 'spf', r.ord, d.ord, d.domain,"
	    " d.result) FROM dmarc.record_spf d"
	    " JOIN dmarc.record r ON r.id = d.record_pk"
	    " JOIN dmarc.report rp ON rp.id = r.report_pk"
	    " WHERE rp.report_id = $1"
	    " UNION ALL SELECT concat_ws(',', 'reason', r.ord, x.ord, x.type)"
	    " FROM dmarc.record_reason x"
	    " JOIN dmarc.record r ON r.id = x.record_pk"
	    " JOIN dmarc.report rp ON rp.id = r.report_pk"
	    " WHERE rp.report_id = $1) s", "rp-1", NULL));
}

/*
 * Store one message whose single payload is xml (parsed by the report
 * module), its raw bytes appended in pieces of step bytes.  Returns the
 * report_file id, or -1.
 */
static long long
store_xml(struct sink *s, uint32_t uid, const char *xml, size_t len,
    size_t step)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	struct report_limits	 lim;
	struct memstream	 ms;
	enum sink_status	 prior;
	enum report_status	 rs;
	unsigned char		 msha[32], psha[32];
	char			*cause = NULL, *hex, pk[24];
	size_t			 i, k;
	long long		 file_pk;

	sha_fill(msha, (int)(0x40 + uid));
	msg_info(&mi, 300, uid, NULL, msha);
	memset(&fi, 0, sizeof fi);
	fi.mime_path = "1";
	fi.kind = "xml";
	fi.container = "xml";
	hex = server_sha(xml, len);
	unhex(hex, psha);
	free(hex);
	if (sink_msg_begin(s, &mi, &prior, &cause) != 0 ||
	    sink_payload_savepoint(s, &cause) != 0 ||
	    sink_file_begin(s, &fi, &cause) != 0)
		goto fail;
	for (i = 0; i < len; i += k) {
		k = len - i < step ? len - i : step;
		if (sink_raw_append(s, xml + i, k, &cause) != 0)
			goto fail;
	}
	report_limits_default(&lim);
	ms.p = xml;
	ms.left = len;
	rs = report_parse_xml(mem_read, &ms, &lim, &sink_cbs, s, NULL,
	    &cause);
	if (rs != REPORT_OK && rs != REPORT_DUPLICATE && rs != REPORT_INVALID)
		goto fail;
	snprintf(pk, sizeof pk, "%s", s->file_pk);
	if (rs == REPORT_INVALID) {
		/* Keep the failed payload and its raw bytes. */
		if (sink_file_end(s, len, psha, cause, &cause) != 0)
			goto fail;
	} else if (sink_file_end(s, len, psha, NULL, &cause) != 0)
		goto fail;
	if (sink_msg_commit(s, rs == REPORT_INVALID ? SINK_INVALID :
	    SINK_STORED, NULL, &cause) != 0)
		goto fail;
	free(cause);
	file_pk = strtoll(pk, NULL, 10);
	return (file_pk);
fail:
	fprintf(stderr, "store_xml: %s\n", cause ? cause : "parse failed");
	free(cause);
	sink_msg_rollback(s);
	tst_failures++;
	return (-1);
}

/* Read a stored payload back whole (test sizes only). */
static char *
raw_readback(struct sink *s, long long file_pk, size_t *len)
{
	struct sink_raw	*r;
	struct buf	 b;
	char		 tmp[7000], *cause = NULL;
	ssize_t		 n;

	*len = 0;
	if ((r = sink_raw_open(s, file_pk, &cause)) == NULL) {
		fprintf(stderr, "raw_readback: %s\n", cause);
		free(cause);
		return (NULL);
	}
	buf_init(&b, 64 * 1024 * 1024);
	while ((n = sink_raw_read(r, tmp, sizeof tmp, &cause)) > 0)
		if (buf_add(&b, tmp, (size_t)n) != 0)
			break;
	sink_raw_close(r);
	if (n < 0) {
		fprintf(stderr, "raw_readback: %s\n", cause);
		free(cause);
		buf_free(&b);
		return (NULL);
	}
	return (buf_steal(&b, len));
}

/*
 * Raw payloads: a small XML payload in odd-sized pieces and a 3 MB
 * incompressible one (several chunks) come back byte for byte, with the
 * SHA-256 stored in report_file; off means nothing stored; a payload
 * rolled back leaves no chunk.
 */
static void
test_raw(struct sink *s)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	enum sink_status	 prior;
	unsigned char		 msha[32];
	char			*big, *back, *cause = NULL, *h1, *h2, pk[24];
	size_t			 i, blen = 3 * 1024 * 1024 + 17, len;
	uint32_t		 x = 12345;
	long long		 f;

	f = store_xml(s, 1, reparse_xml, sizeof reparse_xml - 1, 7);
	back = raw_readback(s, f, &len);
	CHECK_INT(len, sizeof reparse_xml - 1);
	CHECK(back != NULL && memcmp(back, reparse_xml, len) == 0);
	snprintf(pk, sizeof pk, "%lld", f);
	h1 = q1("SELECT payload_sha256::text FROM dmarc.report_file WHERE"
	    " id = $1", pk, NULL);
	h2 = back ? server_sha(back, len) : NULL;
	CHECK_STR(h2, h1);
	free(h1);
	free(h2);
	free(back);

	/* Big and incompressible: several chunks of at most 1 MiB. */
	big = xmalloc(blen);
	for (i = 0; i < blen; i++) {
		x = x * 1103515245 + 12345;
		big[i] = (char)(x >> 16);
	}
	sha_fill(msha, 0x51);
	msg_info(&mi, 300, 50, NULL, msha);
	memset(&fi, 0, sizeof fi);
	fi.kind = "xml";
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	snprintf(pk, sizeof pk, "%s", s->file_pk);
	for (i = 0; i < blen; i += 65536)
		CHECK_INT(sink_raw_append(s, big + i, blen - i < 65536 ?
		    blen - i : 65536, &cause), 0);
	CHECK(sink_file_end(s, blen, NULL, "not a report", &cause) == SINK_OK);
	CHECK_INT(sink_msg_commit(s, SINK_INVALID, "not a report", &cause),
	    0);
	CHECK(qint("SELECT count(*) FROM dmarc.report_raw WHERE file_pk = $1",
	    pk, NULL) >= 4);
	CHECK_INT(qint("SELECT max(octet_length(data)) FROM dmarc.report_raw"
	    " WHERE file_pk = $1", pk, NULL), 1024 * 1024);
	back = raw_readback(s, strtoll(pk, NULL, 10), &len);
	CHECK_INT(len, blen);
	CHECK(back != NULL && memcmp(back, big, blen) == 0);
	free(back);
	/* The failed payload is an ingest error, with its raw data. */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_ingest_errors WHERE"
	    " file_pk = $1 AND has_raw AND status = 'invalid' AND"
	    " payload_error = 'not a report' AND uid = 50", pk, NULL), 1);

	/* Off: nothing stored.  Rolled back: nothing left. */
	sink_set_store_raw(s, 0);
	sha_fill(msha, 0x52);
	msg_info(&mi, 300, 51, NULL, msha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	snprintf(pk, sizeof pk, "%s", s->file_pk);
	CHECK_INT(sink_raw_append(s, big, 1000, &cause), 0);
	CHECK(sink_file_end(s, 1000, NULL, NULL, &cause) == SINK_OK);
	CHECK_INT(sink_msg_commit(s, SINK_IGNORED, NULL, &cause), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_raw WHERE file_pk ="
	    " $1", pk, NULL), 0);
	sink_set_store_raw(s, 1);
	sha_fill(msha, 0x53);
	msg_info(&mi, 300, 52, NULL, msha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_payload_savepoint(s, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	CHECK_INT(sink_raw_append(s, big, 2 * 1024 * 1024, &cause), 0);
	CHECK_INT(sink_payload_rollback(s, &cause), 0);
	CHECK_INT(sink_msg_commit(s, SINK_IGNORED, NULL, &cause), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_raw r JOIN"
	    " dmarc.report_file f ON f.id = r.file_pk JOIN dmarc.mail_message m"
	    " ON m.id = f.message_pk WHERE m.uid = 52", NULL, NULL), 0);
	CHECK(sink_raw_open(s, 999999, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "no raw data") != NULL);
	free(cause);
	free(big);
}

/* Reparse one payload: 0 or -1. */
static int
reparse_one(struct sink *s, long long file_pk)
{
	struct report_limits	 lim;
	struct sink_raw		*r;
	enum report_status	 rs;
	char			*cause = NULL;

	if (sink_reparse_begin(s, file_pk, &cause) != 0)
		goto fail;
	if ((r = sink_raw_open(s, file_pk, &cause)) == NULL)
		goto fail;
	report_limits_default(&lim);
	rs = report_parse_xml(sink_raw_read, r, &lim, &sink_cbs, s, NULL,
	    &cause);
	sink_raw_close(r);
	if (rs != REPORT_OK && rs != REPORT_DUPLICATE)
		goto fail;
	if (sink_reparse_commit(s, NULL, &cause) != 0)
		goto fail;
	return (0);
fail:
	fprintf(stderr, "reparse %lld: %s\n", file_pk, cause);
	free(cause);
	sink_reparse_rollback(s);
	tst_failures++;
	return (-1);
}

/*
 * Reparse: corrupt a stored report by SQL, reparse its payload, and get
 * the same rows back, the report's identity kept; twice is the same.
 */
static void
test_reparse(struct sink *s)
{
	struct sink_raw_filter	 f;
	static const char *const ids1[] = { "rp-1" }, *const ids2[] = {
		"nope" };
	int64_t			*ids;
	size_t			 n, i;
	char			*before, *after, *again, *cause = NULL, pk[24];
	long long		 file_pk = -1, bad;
	int			 found;

	before = reparse_snapshot();
	CHECK(before != NULL && strstr(before, "198.51.100.7") != NULL);
	file_pk = qint("SELECT file_pk FROM dmarc.report WHERE report_id ="
	    " $1", "rp-1", NULL);
	snprintf(pk, sizeof pk, "%lld", file_pk);

	/* The list: all; since; report ids. */
	memset(&f, 0, sizeof f);
	f.all = 1;
	f.since = -1;
	CHECK_INT(sink_raw_list(s, &f, &ids, &n, &cause), 0);
	for (found = 0, i = 0; i < n; i++)
		found += ids[i] == file_pk;
	CHECK_INT(found, 1);
	bad = qint("SELECT f.id FROM dmarc.report_file f JOIN"
	    " dmarc.mail_message m ON m.id = f.message_pk WHERE m.uid = 50"
	    " AND m.uidvalidity = 300", NULL, NULL);
	for (found = 0, i = 0; i < n; i++)
		found += ids[i] == bad;
	CHECK_INT(found, 1);		/* the failed payload too */
	free(ids);
	f.all = 0;
	f.since = 1701000000;
	CHECK_INT(sink_raw_list(s, &f, &ids, &n, &cause), 0);
	CHECK_INT(n, 1);
	CHECK(n == 1 && ids[0] == file_pk);
	free(ids);
	f.since = 1701000001;
	CHECK_INT(sink_raw_list(s, &f, &ids, &n, &cause), 0);
	CHECK_INT(n, 0);
	free(ids);
	f.since = -1;
	f.report_ids = ids1;
	f.nreport_ids = 1;
	CHECK_INT(sink_raw_list(s, &f, &ids, &n, &cause), 0);
	CHECK_INT(n, 1);
	free(ids);
	f.report_ids = ids2;
	CHECK_INT(sink_raw_list(s, &f, &ids, &n, &cause), 0);
	CHECK_INT(n, 0);
	free(ids);

	/*
	 * Corrupt, reparse, restored.  The corruption goes through the
	 * rollup (its records taken away, then added back as they are now):
	 * a wrong database, but one whose rollup equals its records.
	 */
	PQclear(PQexec(db, "SELECT dmarc.rollup_add(ARRAY[(SELECT id FROM"
	    " dmarc.report WHERE report_id = 'rp-1')], -1)"));
	PQclear(PQexec(db, "UPDATE dmarc.record SET message_count = 999,"
	    " source_ip = '10.9.9.9' WHERE ord = 1 AND report_pk = (SELECT"
	    " id FROM dmarc.report WHERE report_id = 'rp-1')"));
	PQclear(PQexec(db, "DELETE FROM dmarc.record_spf WHERE record_pk IN"
	    " (SELECT r.id FROM dmarc.record r JOIN dmarc.report rp ON"
	    " rp.id = r.report_pk WHERE rp.report_id = 'rp-1')"));
	PQclear(PQexec(db, "UPDATE dmarc.report SET org_name = 'garbage',"
	    " message_total = 0 WHERE report_id = 'rp-1'"));
	PQclear(PQexec(db, "SELECT dmarc.rollup_add(ARRAY[(SELECT id FROM"
	    " dmarc.report WHERE report_id = 'rp-1')], 1)"));
	CHECK_INT(qint("SELECT count(*) FROM dmarc.rollup_check()", NULL,
	    NULL), 0);
	CHECK_INT(qint("SELECT sum(messages) FROM dmarc.rollup_source WHERE"
	    " source_ip = '10.9.9.9'", NULL, NULL), 999);
	after = reparse_snapshot();
	CHECK(after != NULL && before != NULL && strcmp(after, before) != 0);
	free(after);
	CHECK_INT(reparse_one(s, file_pk), 0);
	after = reparse_snapshot();
	CHECK_STR(after, before);
	CHECK_INT(reparse_one(s, file_pk), 0);
	again = reparse_snapshot();
	CHECK_STR(again, before);
	/* The rollup followed: the corrupt record went out of it. */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.rollup_check()", NULL,
	    NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.rollup_source WHERE"
	    " source_ip = '10.9.9.9'", NULL, NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.rollup_pending", NULL,
	    NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id ="
	    " $1", "rp-1", NULL), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_delivery WHERE"
	    " file_pk = $1", pk, NULL), 1);
	CHECK_INT(qint("SELECT seen_count FROM dmarc.report WHERE"
	    " report_id = $1", "rp-1", NULL), 1);
	/* A payload that only delivered a duplicate: nothing changes. */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_file WHERE error"
	    " IS NULL AND id = $1", pk, NULL), 1);
	free(before);
	free(after);
	free(again);
	free(cause);
}

/* The views add up to the base tables. */
static void
test_view_sums(void)
{
	CHECK(qint("SELECT count(*) FROM dmarc.record", NULL, NULL) >= 5);
	/* Messages per day and domain. */
	CHECK_INT(qint("SELECT count(*) FROM ((SELECT day, policy_domain,"
	    " sum(messages) FROM dmarc.v_daily_volume GROUP BY 1, 2) EXCEPT"
	    " (SELECT report_day, policy_domain, sum(message_count)"
	    " FROM dmarc.record GROUP BY 1, 2)) x", NULL, NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_daily_volume WHERE"
	    " coalesce(dmarc_pass, 0) + coalesce(dmarc_fail, 0) <> messages",
	    NULL, NULL), 0);
	CHECK_INT(qint("SELECT (SELECT sum(messages) FROM dmarc.v_daily_volume)"
	    " - (SELECT sum(message_count) FROM dmarc.record)", NULL, NULL),
	    0);
	CHECK_INT(qint("SELECT count(*) FROM ((SELECT day, policy_domain,"
	    " header_from, reports FROM dmarc.v_daily_volume) EXCEPT"
	    " (SELECT report_day, policy_domain, header_from,"
	    " count(DISTINCT report_pk) FROM dmarc.record GROUP BY 1, 2, 3)) x",
	    NULL, NULL), 0);
	CHECK_INT(qint("SELECT (SELECT round(sum(messages)) FROM"
	    " dmarc.v_daily_volume_prorated) - (SELECT sum(message_count)"
	    " FROM dmarc.record)", NULL, NULL), 0);
	/* Counts say 0, not NULL, when nothing matched (migration 006). */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_daily_volume WHERE"
	    " dmarc_pass IS NULL OR dmarc_fail IS NULL OR dkim_aligned_pass"
	    " IS NULL OR spf_aligned_pass IS NULL OR quarantined IS NULL OR"
	    " rejected IS NULL OR dmarc_pass + dmarc_fail <> messages",
	    NULL, NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_daily_volume WHERE"
	    " dmarc_pass = 0", NULL, NULL) > 0, 1);
	CHECK_INT(qint("SELECT (SELECT count(*) FROM"
	    " dmarc.v_daily_volume_prorated WHERE dmarc_pass IS NULL) +"
	    " (SELECT count(*) FROM dmarc.v_source_summary WHERE"
	    " dmarc_pass_pct IS NULL AND messages > 0) + (SELECT count(*)"
	    " FROM dmarc.v_spoofing_suspects WHERE blocked IS NULL)", NULL,
	    NULL), 0);
	CHECK_INT(qint("SELECT (SELECT sum(messages) FROM"
	    " dmarc.v_source_summary) - (SELECT sum(message_count) FROM"
	    " dmarc.record)", NULL, NULL), 0);
	CHECK_INT(qint("SELECT (SELECT sum(message_count) FROM"
	    " dmarc.v_source_detail) - (SELECT sum(message_count) FROM"
	    " dmarc.record)", NULL, NULL), 0);
	CHECK_INT(qint("SELECT (SELECT sum(messages) FROM"
	    " dmarc.v_reporter_activity) - (SELECT sum(message_total) FROM"
	    " dmarc.report)", NULL, NULL), 0);
	CHECK_INT(qint("SELECT (SELECT sum(message_total) FROM dmarc.report)"
	    " - (SELECT sum(message_count) FROM dmarc.record)", NULL, NULL),
	    0);
	CHECK_INT(qint("SELECT (SELECT coalesce(sum(messages), 0) FROM"
	    " dmarc.v_forwarding_suspects) - (SELECT coalesce("
	    "sum(message_count), 0) FROM dmarc.record WHERE dkim_aligned ="
	    " 'pass' AND spf_aligned = 'fail')", NULL, NULL), 0);
	CHECK_INT(qint("SELECT (SELECT coalesce(sum(messages), 0) FROM"
	    " dmarc.v_spoofing_suspects) - (SELECT coalesce("
	    "sum(message_count), 0) FROM dmarc.record WHERE dkim_aligned ="
	    " 'fail' AND spf_aligned = 'fail')", NULL, NULL), 0);
	CHECK(qint("SELECT coalesce(sum(messages), 0) FROM"
	    " dmarc.v_forwarding_suspects", NULL, NULL) > 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_ingest_errors v WHERE"
	    " NOT EXISTS (SELECT 1 FROM dmarc.mail_message m WHERE m.id ="
	    " v.message_pk AND (m.status IN ('invalid', 'too_large') OR"
	    " v.payload_error IS NOT NULL))", NULL, NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_ingest_errors WHERE"
	    " payload_error = $1", "partly odd", NULL), 1);
}

/*
 * A DATA error inside a payload: roll back to the savepoint, record the
 * payload as failed, commit the rest.  A TRANSIENT one: the server ends
 * the session in the middle of a message; nothing of it is kept.
 */
static void
test_error_classes(void)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL, pid[16];

	if ((s = sink_open(conninfo, &cause)) == NULL) {
		fprintf(stderr, "test_error_classes: %s\n", cause);
		tst_failures++;
		free(cause);
		return;
	}
	build_report(&h, r);
	h.report_id = S("r-date-range");
	h.date_begin = 400000000000000LL;	/* year 12,677,000 */
	h.date_end = h.date_begin;
	sha_fill(sha, 0x61);
	msg_info(&mi, 400, 1, "<e1@example.net>", sha);
	memset(&fi, 0, sizeof fi);
	fi.kind = "xml";
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_payload_savepoint(s, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	CHECK_INT(sink_raw_append(s, "<feedback/>", 11, &cause), 0);
	CHECK(sink_report_head(s, &h, &cause) == SINK_FAILED);
	CHECK(sink_last_error(s) == SINK_ERR_DATA);
	CHECK(cause != NULL && strstr(cause, "out of range") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_payload_rollback(s, &cause), 0);
	CHECK_INT(sink_payload_savepoint(s, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	CHECK_INT(sink_raw_append(s, "<feedback/>", 11, &cause), 0);
	CHECK(sink_file_end(s, 11, NULL, "timestamp out of range",
	    &cause) == SINK_OK);
	CHECK_INT(sink_msg_commit(s, SINK_INVALID, "bad date", &cause), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.v_ingest_errors WHERE"
	    " uidvalidity = 400 AND uid = 1 AND status = 'invalid' AND"
	    " payload_error = $1 AND has_raw", "timestamp out of range", NULL),
	    1);

	/* Transient: the session ends mid-message. */
	sha_fill(sha, 0x62);
	msg_info(&mi, 400, 2, "<e2@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	snprintf(pid, sizeof pid, "%d", PQbackendPID(s->conn));
	CHECK_INT(qint("SELECT count(pg_terminate_backend($1::int))", pid,
	    NULL), 1);
	CHECK(sink_report_head(s, &h, &cause) == SINK_FAILED);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	CHECK_INT(sink_is_broken(s), 1);
	free(cause);
	sink_msg_rollback(s);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " uidvalidity = 400 AND uid = 2", NULL, NULL), 0);
	sink_close(s);
}

/* A sink of its own, or NULL (a failure counted). */
static struct sink *
open_sink(void)
{
	struct sink	*s;
	char		*cause = NULL;

	if ((s = sink_open(conninfo, &cause)) == NULL) {
		fprintf(stderr, "sink_open: %s\n", cause);
		tst_failures++;
		free(cause);
	}
	return (s);
}

/* Ledger rows of INBOX/uidvalidity with this status ("" for any). */
static long long
count_uv(const char *status, uint32_t uv)
{
	char	v[16];

	snprintf(v, sizeof v, "%u", uv);
	return (qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " mailbox = 'INBOX' AND uidvalidity = $2::bigint"
	    " AND ($1 = '' OR status = $1)", status, v));
}

/* Two messages in a batch: invisible until the batch commits. */
static void
test_batch_commit(void)
{
	struct sink_msg_info	 mi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL;
	int			 head;

	if ((s = open_sink()) == NULL)
		return;
	build_report(&h, r);
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	h.report_id = S("r-batch-1");
	sha_fill(sha, 0x91);
	msg_info(&mi, 700, 1, "<b1@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(prior, SINK_NONE);
	CHECK_INT(head, SINK_OK);
	h.report_id = S("r-batch-2");
	sha_fill(sha, 0x92);
	msg_info(&mi, 700, 2, "<b2@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(head, SINK_OK);
	/* The same report again in the batch: a duplicate of an
	   uncommitted report, counted once. */
	sha_fill(sha, 0x93);
	msg_info(&mi, 700, 3, "<b3@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_DUPLICATE), 0);
	CHECK_INT(head, SINK_DUP);
	CHECK_INT(count_uv("", 700), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id"
	    " LIKE $1", "r-batch-%", NULL), 0);
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	if (cause != NULL)
		fprintf(stderr, "batch commit: %s\n", cause);
	CHECK_INT(count_uv("stored", 700), 2);
	CHECK_INT(count_uv("duplicate", 700), 1);
	CHECK_INT(qint("SELECT sum(record_count) FROM dmarc.report WHERE"
	    " report_id LIKE $1", "r-batch-%", NULL), 6);
	CHECK_INT(qint("SELECT seen_count FROM dmarc.report WHERE"
	    " report_id = $1", "r-batch-2", NULL), 2);
	/* Outside a batch again: a message commits on its own. */
	h.report_id = S("r-batch-4");
	sha_fill(sha, 0x94);
	msg_info(&mi, 700, 4, "<b4@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(count_uv("stored", 700), 3);
	free(cause);
	sink_close(s);
}

/* A batch rolled back: its messages stay as they were (claimed). */
static void
test_batch_rollback(void)
{
	static const uint32_t	 uids[] = { 1, 2 };
	struct sink_msg_info	 mi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL;
	int			 head;

	if ((s = open_sink()) == NULL)
		return;
	build_report(&h, r);
	CHECK_INT(sink_claim(s, inbox_pk, 701, uids, 2, &cause), 0);
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	h.report_id = S("r-batch-rb-1");
	sha_fill(sha, 0xa1);
	msg_info(&mi, 701, 1, "<rb1@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(prior, SINK_CLAIMED);
	h.report_id = S("r-batch-rb-2");
	sha_fill(sha, 0xa2);
	msg_info(&mi, 701, 2, "<rb2@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	sink_batch_rollback(s);		/* with a message open */
	CHECK_INT(count_uv("claimed", 701), 2);
	CHECK_INT(count_uv("", 701), 2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id"
	    " LIKE $1", "r-batch-rb-%", NULL), 0);
	/* The connection is fine and the next batch works. */
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	CHECK_INT(count_uv("stored", 701), 1);
	free(cause);
	sink_close(s);
}

/*
 * A data error in one message of a batch: only that message is rolled
 * back (it stays claimed); header text the server refuses, then accepted
 * without it; the others commit.
 */
static void
test_batch_data_error(void)
{
	static const uint32_t	 uids[] = { 2 };
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL;
	int			 head, rc;

	if ((s = open_sink()) == NULL)
		return;
	build_report(&h, r);
	memset(&fi, 0, sizeof fi);
	fi.kind = "xml";
	CHECK_INT(sink_claim(s, inbox_pk, 702, uids, 1, &cause), 0);
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	h.report_id = S("r-batch-de-1");
	sha_fill(sha, 0xb1);
	msg_info(&mi, 702, 1, "<de1@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);

	/* Message 2: a record the server refuses. */
	h.report_id = S("r-batch-de-2");
	r[1].source_ip = S("300.1.2.3");
	sha_fill(sha, 0xb2);
	msg_info(&mi, 702, 2, "<de2@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_payload_savepoint(s, &cause), 0);
	CHECK_INT(sink_file_begin(s, &fi, &cause), 0);
	CHECK_INT(sink_raw_append(s, "<feedback/>", 11, &cause), 0);
	CHECK(sink_report_head(s, &h, &cause) == SINK_OK);
	rc = sink_report_records(s, r, 3, &cause);
	if (rc == SINK_OK)
		rc = sink_report_end(s, &h, &cause);
	CHECK_INT(rc, SINK_FAILED);
	CHECK(sink_last_error(s) == SINK_ERR_DATA);
	CHECK(cause != NULL && strstr(cause, "insert records:") != NULL);
	free(cause);
	cause = NULL;
	sink_msg_rollback(s);
	r[1].source_ip = r[0].source_ip;

	/* Message 3: a Date the server refuses; stored without it. */
	h.report_id = S("r-batch-de-3");
	sha_fill(sha, 0xb3);
	msg_info(&mi, 702, 3, "<de3@example.net>", sha);
	mi.date = 400000000000000LL;
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), -1);
	CHECK(sink_last_error(s) == SINK_ERR_DATA);
	free(cause);
	cause = NULL;
	mi.date = SINK_NO_DATE;
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(prior, SINK_NONE);
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	if (cause != NULL)
		fprintf(stderr, "batch commit: %s\n", cause);
	CHECK_INT(count_uv("stored", 702), 2);
	CHECK_INT(count_uv("claimed", 702), 1);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id"
	    " = $1", "r-batch-de-2", NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_file f JOIN"
	    " dmarc.mail_message m ON m.id = f.message_pk WHERE"
	    " m.uidvalidity = 702", NULL, NULL), 2);
	free(cause);
	sink_close(s);
}

/*
 * A message's status detail that is not UTF-8 is stored cleaned, never
 * refused (it quotes parser errors, which may quote the report).  A
 * failure that shows after sink_msg_commit returned (its status is written
 * without waiting; here a trigger of this test's refuses it) fails the
 * whole batch: nothing of it stays, and the connection works again.
 */
static void
test_batch_poisoned(void)
{
	struct sink_msg_info	 mi;
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL, *v;

	if ((s = open_sink()) == NULL)
		return;
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	sha_fill(sha, 0xc1);
	msg_info(&mi, 703, 1, "<p1@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_msg_commit(s, SINK_INVALID,
	    "bad \xff byte, \xc3\xa9 kept, \xe2\x82 cut, \xed\xa0\x80 surrogate",
	    &cause), 0);
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	if (cause != NULL)
		fprintf(stderr, "batch commit: %s\n", cause);
	CHECK_INT(count_uv("invalid", 703), 1);
	v = q1("SELECT status_detail FROM dmarc.mail_message WHERE"
	    " uidvalidity = 703 AND uid = 1", NULL, NULL);
	CHECK_STR(v, "bad ? byte, \xc3\xa9 kept, ?? cut, ??? surrogate");
	free(v);

	PQclear(PQexec(db, "CREATE FUNCTION dmarc.tst_poison() RETURNS trigger"
	    " LANGUAGE plpgsql AS $$BEGIN RAISE EXCEPTION 'poisoned';"
	    " END$$"));
	PQclear(PQexec(db, "CREATE TRIGGER tst_poison BEFORE UPDATE ON"
	    " dmarc.mail_message FOR EACH ROW WHEN"
	    " (NEW.status_detail = 'poison') EXECUTE FUNCTION"
	    " dmarc.tst_poison()"));
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	sha_fill(sha, 0xc4);
	msg_info(&mi, 704, 1, "<p4@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), 0);
	CHECK_INT(sink_msg_commit(s, SINK_IGNORED, "poison", &cause), 0);
	sha_fill(sha, 0xc5);
	msg_info(&mi, 704, 2, "<p5@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), -1);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	CHECK(cause != NULL && strstr(cause, "write message status") != NULL
	    && strstr(cause, "poisoned") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), -1);
	CHECK(cause != NULL && strncmp(cause, "the batch failed:", 17) == 0);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_batch_commit(s, &cause), -1);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	CHECK_INT(sink_is_broken(s), 0);
	CHECK_INT(count_uv("", 704), 0);
	PQclear(PQexec(db, "DROP TRIGGER tst_poison ON dmarc.mail_message"));
	PQclear(PQexec(db, "DROP FUNCTION dmarc.tst_poison()"));
	/* The connection works again. */
	free(cause);
	cause = NULL;
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_CURRENT);
	free(cause);
	sink_close(s);
}

/* The session ends in the middle of a batch: nothing of it stays. */
static void
test_batch_broken(void)
{
	struct sink_msg_info	 mi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL, pid[16];
	int			 head;

	if ((s = open_sink()) == NULL)
		return;
	build_report(&h, r);
	h.report_id = S("r-batch-br-1");
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	sha_fill(sha, 0xd1);
	msg_info(&mi, 704, 1, "<br1@example.net>", sha);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	snprintf(pid, sizeof pid, "%d", PQbackendPID(s->conn));
	CHECK_INT(qint("SELECT count(pg_terminate_backend($1::int))", pid,
	    NULL), 1);
	sha_fill(sha, 0xd2);
	msg_info(&mi, 704, 2, "<br2@example.net>", sha);
	CHECK_INT(sink_msg_begin(s, &mi, &prior, &cause), -1);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	CHECK_INT(sink_is_broken(s), 1);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_batch_commit(s, &cause), -1);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	sink_batch_rollback(s);
	CHECK_INT(count_uv("", 704), 0);
	free(cause);
	sink_close(s);
}

/*
 * Pipelining: a one-payload message costs 4 round trips on its own
 * (ledger row, report head, report end, COMMIT) and 3 in a batch (no
 * COMMIT), whatever the number of statements, plus one for each record
 * batch after the first (store_message sends two).
 */
static void
test_round_trips(void)
{
	struct sink_msg_info	 mi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL;
	unsigned long		 w;
	int			 head, i;

	if ((s = open_sink()) == NULL)
		return;
	build_report(&h, r);
	for (i = 1; i <= 5; i++) {
		/* The first message prepares the statements. */
		h.report_id = i == 1 ? S("r-rt-1") : i == 2 ? S("r-rt-2") :
		    i == 3 ? S("r-rt-3") : i == 4 ? S("r-rt-4") : S("r-rt-5");
		sha_fill(sha, 0xe0 + i);
		msg_info(&mi, 705, i, NULL, sha);
		if (i == 3)
			CHECK_INT(sink_batch_begin(s, &cause), 0);
		w = s->waits;
		CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
		    SINK_STORED), 0);
		if (i == 2)
			CHECK_INT(s->waits - w, 4 + 1);
		if (i >= 4)
			CHECK_INT(s->waits - w, 3 + 1);
	}
	w = s->waits;
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	CHECK_INT(s->waits - w, 1);
	CHECK_INT(count_uv("stored", 705), 5);
	free(cause);
	sink_close(s);
}

/* More payloads than the id pool holds, in one message. */
static void
test_many_payloads(void)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	enum sink_status	 prior;
	unsigned char		 sha[32];
	struct sink		*s;
	char			*cause = NULL;
	int			 i, rc = 0;

	if ((s = open_sink()) == NULL)
		return;
	memset(&fi, 0, sizeof fi);
	fi.kind = "xml";
	sha_fill(sha, 0xf1);
	msg_info(&mi, 706, 1, NULL, sha);
	rc |= sink_msg_begin(s, &mi, &prior, &cause);
	for (i = 0; i < 3 * SINK_POOL + 1; i++) {
		rc |= sink_payload_savepoint(s, &cause);
		rc |= sink_file_begin(s, &fi, &cause);
		rc |= sink_raw_append(s, "<x/>", 4, &cause);
		rc |= sink_file_end(s, 4, NULL, "not a report", &cause);
	}
	rc |= sink_msg_commit(s, SINK_IGNORED, NULL, &cause);
	CHECK_INT(rc, 0);
	CHECK_INT(qint("SELECT count(DISTINCT f.id) FROM dmarc.report_file f"
	    " JOIN dmarc.mail_message m ON m.id = f.message_pk JOIN"
	    " dmarc.report_raw w ON w.file_pk = f.id WHERE m.uidvalidity ="
	    " 706 AND f.error = $1", "not a report", NULL), 3 * SINK_POOL + 1);
	free(cause);
	sink_close(s);
}

/*
 * One payload per message for test_defer: the report (records in batches
 * of bs; none when h is NULL, then error is the payload's error) and raw
 * bytes.  Returns what the sink said of the report (enum sink_result):
 * SINK_OK stored, SINK_DUP duplicate, SINK_FAILED failed or refused (the
 * message is then rolled back).
 */
static int
defer_store(struct sink *s, uint32_t uv, uint32_t uid,
    const struct report_head *h, const struct report_head *hend,
    const struct report_record *r, size_t n, size_t bs, const char *raw,
    size_t rawlen, const char *error)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	enum sink_status	 prior;
	unsigned char		 sha[32], psha[32];
	char			*cause = NULL;
	size_t			 i, k;
	enum sink_result	 frc, rc = SINK_OK;

	sha_fill(sha, (int)(uid & 0xff));
	sha[0] = (unsigned char)uv;
	sha_fill(psha, 0x5a);
	msg_info(&mi, uv, uid, NULL, sha);
	memset(&fi, 0, sizeof fi);
	fi.mime_path = "2";
	fi.filename = "report.xml";
	fi.kind = "xml";
	fi.encoded_bytes = (uint64_t)rawlen;
	if (sink_msg_begin(s, &mi, &prior, &cause) != 0 ||
	    sink_payload_savepoint(s, &cause) != 0 ||
	    sink_file_begin(s, &fi, &cause) != 0 ||
	    sink_raw_append(s, raw, rawlen, &cause) != 0)
		goto fail;
	if (h != NULL && (rc = sink_report_head(s, h, &cause)) == SINK_OK) {
		for (i = 0; rc == SINK_OK && i < n; i += k) {
			k = n - i < bs ? n - i : bs;
			rc = sink_report_records(s, r + i, k, &cause);
		}
		if (rc == SINK_OK)
			rc = sink_report_end(s, hend, &cause);
	}
	if (rc == SINK_FAILED)
		goto fail;
	/* Held back, the report is stored (or refused) only now. */
	if ((frc = sink_file_end(s, rawlen, psha, error, &cause)) == SINK_DUP)
		rc = SINK_DUP;
	else if (frc != SINK_OK)
		goto fail;
	if (sink_msg_commit(s, h == NULL ? SINK_INVALID : rc == SINK_DUP ?
	    SINK_DUPLICATE : SINK_STORED, NULL, &cause) != 0)
		goto fail;
	return (rc);
fail:
	free(cause);
	sink_msg_rollback(s);
	return (SINK_FAILED);
}

/*
 * Everything stored from the messages of uidvalidity $1, one line a row,
 * without ids, times and report_id: two ways of storing the same input
 * must give the same text.
 */
static const char defer_dump[] =
	"WITH m AS (SELECT * FROM dmarc.mail_message WHERE uidvalidity = $1),"
	" f AS (SELECT f.*, m.uid FROM dmarc.report_file f JOIN m"
	" ON m.id = f.message_pk),"
	" r AS (SELECT r.*, f.uid FROM dmarc.report r JOIN f"
	" ON f.id = r.file_pk),"
	" c AS (SELECT c.*, r.uid FROM dmarc.record c JOIN r"
	" ON r.id = c.report_pk)"
	" SELECT string_agg(x, E'\\n' ORDER BY x) FROM ("
	" SELECT 'message ' || (to_jsonb(m) - 'id' - 'uidvalidity' - 'sha256'"
	" - 'fetched_at' - 'status_at')::text FROM m"
	" UNION ALL SELECT 'file ' || (to_jsonb(f) - 'id' - 'message_pk'"
	" - 'created_at')::text FROM f"
	" UNION ALL SELECT 'raw ' || f.uid || ' ' || w.seq || ' '"
	" || md5(w.data) FROM dmarc.report_raw w JOIN f ON f.id = w.file_pk"
	" UNION ALL SELECT 'report ' || (to_jsonb(r) - 'id' - 'file_pk'"
	" - 'report_id' - 'first_seen' - 'last_seen')::text FROM r"
	" UNION ALL SELECT 'delivery ' || r.uid || ' ' || f.uid || ' '"
	" || d.counted FROM dmarc.report_delivery d JOIN r"
	" ON r.id = d.report_pk JOIN f ON f.id = d.file_pk"
	" UNION ALL SELECT 'error ' || r.uid || (to_jsonb(e) - 'report_pk')"
	" ::text FROM dmarc.report_error e JOIN r ON r.id = e.report_pk"
	" UNION ALL SELECT 'ext ' || r.uid || (to_jsonb(e) - 'report_pk')"
	" ::text FROM dmarc.report_extension e JOIN r ON r.id = e.report_pk"
	" UNION ALL SELECT 'record ' || (to_jsonb(c) - 'id' - 'report_pk')"
	" ::text FROM c"
	" UNION ALL SELECT 'dkim ' || c.uid || ' ' || c.ord"
	" || (to_jsonb(d) - 'record_pk')::text FROM dmarc.record_dkim d"
	" JOIN c ON c.id = d.record_pk"
	" UNION ALL SELECT 'spf ' || c.uid || ' ' || c.ord"
	" || (to_jsonb(d) - 'record_pk')::text FROM dmarc.record_spf d"
	" JOIN c ON c.id = d.record_pk"
	" UNION ALL SELECT 'reason ' || c.uid || ' ' || c.ord"
	" || (to_jsonb(d) - 'record_pk')::text FROM dmarc.record_reason d"
	" JOIN c ON c.id = d.record_pk"
	" UNION ALL SELECT 'rext ' || c.uid || ' ' || c.ord"
	" || (to_jsonb(d) - 'record_pk')::text FROM dmarc.record_extension d"
	" JOIN c ON c.id = d.record_pk) AS t(x)";

/*
 * sink_set_defer: the same messages stored with reports held back and
 * without must leave the same rows; duplicates show at the end (one
 * batch) or at the second batch; data errors still fail the payload; a
 * payload whose raw copy fills a chunk before the report still works.
 */
static void
test_defer(void)
{
	struct report_head	 h, hend;
	struct report_record	 r[3];
	struct sink		*s;
	static char		 big[1300000];
	char			 uvs[2][8], *a, *b, *cause = NULL;
	const char		*ids[2][6] = {
		{ "r-def-0-1", "r-def-0-2", "r-def-0-3", "r-def-0-4",
		  "r-def-0-5", "r-def-0-6" },
		{ "r-def-1-1", "r-def-1-2", "r-def-1-3", "r-def-1-4",
		  "r-def-1-5", "r-def-1-6" } };
	uint32_t		 x = 12345;
	size_t			 i;
	int			 mode, uv;

	for (i = 0; i < sizeof big; i++) {
		x = x * 1103515245 + 12345;	/* incompressible enough */
		big[i] = (char)(x >> 16);
	}
	build_report(&h, r);
	build_end(&hend, &h);
	for (mode = 0; mode < 2; mode++) {
		if ((s = open_sink()) == NULL)
			return;
		sink_set_defer(s, mode);
		uv = 710 + mode;
		snprintf(uvs[mode], sizeof uvs[mode], "%d", uv);
		/* 1: one batch; 2: the same report again (a duplicate). */
		h.report_id = hend.report_id = (char *)ids[mode][0];
		CHECK_INT(defer_store(s, uv, 1, &h, &hend, r, 3, 5, "<a/>", 4,
		    NULL), SINK_OK);
		CHECK_INT(defer_store(s, uv, 2, &h, &hend, r, 3, 5, "<a2/>", 5,
		    NULL), SINK_DUP);
		/* 3: batches of two; 4: its duplicate, told at once or at
		   the second batch. */
		h.report_id = hend.report_id = (char *)ids[mode][1];
		CHECK_INT(defer_store(s, uv, 3, &h, &hend, r, 3, 2, "<b/>", 4,
		    NULL), SINK_OK);
		CHECK_INT(defer_store(s, uv, 4, &h, &hend, r, 3, 2, "<b2/>", 5,
		    NULL), SINK_DUP);
		/* 5: no records; 6: no report at all. */
		h.report_id = hend.report_id = (char *)ids[mode][2];
		CHECK_INT(defer_store(s, uv, 5, &h, &h, r, 0, 5, "<c/>", 4,
		    NULL), SINK_OK);
		CHECK_INT(defer_store(s, uv, 6, NULL, NULL, r, 0, 5, "<d>", 3,
		    "not well-formed"), SINK_OK);
		/* 7: a raw copy over one chunk, sent before the report. */
		h.report_id = hend.report_id = (char *)ids[mode][3];
		CHECK_INT(defer_store(s, uv, 7, &h, &hend, r, 3, 5, big,
		    sizeof big, NULL), SINK_OK);
		/* 8: refused by the database: nothing of it stays. */
		h.report_id = hend.report_id = (char *)ids[mode][4];
		h.date_begin = hend.date_begin = 400000000000000LL;
		CHECK_INT(defer_store(s, uv, 8, &h, &hend, r, 3, 5, "<e/>", 4,
		    NULL), SINK_FAILED);
		CHECK(sink_last_error(s) == SINK_ERR_DATA);
		h.date_begin = hend.date_begin = 1700000000;
		/* In a batch: ledger row and whole payload, two waits. */
		if (mode == 1) {
			unsigned long	w;

			CHECK_INT(sink_batch_begin(s, &cause), 0);
			h.report_id = hend.report_id = (char *)ids[mode][5];
			w = s->waits;
			CHECK_INT(defer_store(s, uv, 9, &h, &hend, r, 3, 5,
			    "<f/>", 4, NULL), SINK_OK);
			CHECK_INT(s->waits - w, 2);
			CHECK_INT(sink_batch_commit(s, &cause), 0);
		}
		sink_close(s);
	}
	CHECK_INT(qint("SELECT count(*) FROM dmarc.mail_message WHERE"
	    " uidvalidity = 711 AND uid = 8", NULL, NULL), 0);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report_raw w JOIN"
	    " dmarc.report_file f ON f.id = w.file_pk JOIN dmarc.mail_message m"
	    " ON m.id = f.message_pk WHERE m.uidvalidity = 711 AND m.uid = 7",
	    NULL, NULL), 2);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.record c JOIN dmarc.report r"
	    " ON r.id = c.report_pk WHERE r.report_id LIKE 'r-def-1-%'", NULL,
	    NULL), 12);
	CHECK_INT(qint("SELECT sum(seen_count) FROM dmarc.report"
	    " WHERE report_id LIKE 'r-def-1-%'", NULL, NULL), 7);
	/* The batch's message only exists in mode 1: compare without it. */
	CHECK_INT(qint("DELETE FROM dmarc.mail_message WHERE uidvalidity = 711"
	    " AND uid = 9 RETURNING 1", NULL, NULL), 1);
	a = q1(defer_dump, uvs[0], NULL);
	b = q1(defer_dump, uvs[1], NULL);
	CHECK(a != NULL && b != NULL && strlen(a) > 1000);
	CHECK_STR(a, b);
	free(a);
	free(b);
	free(cause);
}

/*
 * One message of uidvalidity uv whose ledger row pk the caller knows
 * claimed (sink_msg_info's claimed_pk): Message-ID msgid, SHA-256 all
 * shabyte, h's report with its records in batches of bs.  Committed, or
 * rolled back when commit is 0.  0 stored, 1 duplicate, 2 done already
 * (prior), -1 failed.
 */
static int
held_store(struct sink *s, uint32_t uv, uint32_t uid, int64_t pk,
    const char *msgid, int shabyte, const struct report_head *h,
    const struct report_head *hend, const struct report_record *r,
    size_t n, size_t bs, int commit)
{
	struct sink_msg_info	 mi;
	struct sink_file_info	 fi;
	enum sink_status	 prior;
	unsigned char		 sha[32], psha[32];
	char			*cause = NULL;
	size_t			 i, k;
	enum sink_result	 rc, frc;

	sha_fill(sha, shabyte);
	sha_fill(psha, 0x5b);
	msg_info(&mi, uv, uid, msgid, sha);
	mi.claimed_pk = pk;
	memset(&fi, 0, sizeof fi);
	fi.mime_path = "2";
	fi.filename = "report.xml";
	fi.kind = "xml";
	fi.encoded_bytes = 4;
	if (sink_msg_begin(s, &mi, &prior, &cause) != 0)
		goto fail;
	if (prior != SINK_NONE && prior != SINK_CLAIMED) {
		sink_msg_rollback(s);
		return (2);
	}
	if (sink_payload_savepoint(s, &cause) != 0 ||
	    sink_file_begin(s, &fi, &cause) != 0 ||
	    sink_raw_append(s, "<x/>", 4, &cause) != 0)
		goto fail;
	if ((rc = sink_report_head(s, h, &cause)) == SINK_OK) {
		for (i = 0; rc == SINK_OK && i < n; i += k) {
			k = n - i < bs ? n - i : bs;
			rc = sink_report_records(s, r + i, k, &cause);
		}
		if (rc == SINK_OK)
			rc = sink_report_end(s, hend, &cause);
	}
	if (rc == SINK_FAILED)
		goto fail;
	if ((frc = sink_file_end(s, 4, psha, NULL, &cause)) == SINK_DUP)
		rc = SINK_DUP;
	else if (frc != SINK_OK)
		goto fail;
	if (!commit) {
		sink_msg_rollback(s);
		return (rc == SINK_DUP);
	}
	if (sink_msg_commit(s, rc == SINK_DUP ? SINK_DUPLICATE :
	    SINK_STORED, rc == SINK_DUP ? "a duplicate" : "1 report",
	    &cause) != 0)
		goto fail;
	return (rc == SINK_DUP);
fail:
	free(cause);
	sink_msg_rollback(s);
	return (-1);
}

/* What the ledger says of uid of uidvalidity 730. */
static const char held_row[] =
	"SELECT status || '|' || coalesce(status_detail, '-') || '|'"
	" || coalesce(message_id, '-') || '|' || coalesce(from_addr, '-')"
	" || '|' || coalesce(subject, '-') || '|'"
	" || coalesce(extract(epoch FROM date_hdr)::bigint::text, '-') || '|'"
	" || coalesce(size_bytes::text, '-') || '|'"
	" || coalesce(substr(encode(sha256, 'hex'), 1, 4), '-') || '|'"
	" || coalesce(auth_results, '-') || '|' || (fetched_at IS NOT NULL)"
	" || (status_at IS NOT NULL)"
	" FROM dmarc.mail_message WHERE mailbox = 'INBOX'"
	" AND uidvalidity = 730 AND uid = $1::bigint";

/* seen_count and the deliveries' counted of report $1. */
static const char held_seen[] =
	"SELECT r.seen_count || ' ' || string_agg(d.counted::text, ','"
	" ORDER BY d.file_pk) FROM dmarc.report r JOIN dmarc.report_delivery d"
	" ON d.report_pk = r.id WHERE r.report_id = $1 GROUP BY r.seen_count";

/*
 * The ledger rows of a batch written with its set statement: facts and
 * status in one UPDATE, no ledger statement at sink_msg_begin; duplicate
 * counts still see every message's facts (kept ones written first, again
 * after a rollback undid them); a row another agent finished meanwhile
 * fails the batch, which goes again message by message.
 */
static void
test_held_ledger(void)
{
	static const uint32_t	 uids[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 };
	static const uint32_t	 ask[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
				    99 };
	struct report_head	 h, hend;
	struct report_record	 r[3];
	int64_t			 ids[12];
	struct sink		*s;
	char			*cause = NULL, *v;
	unsigned long		 w;

	if ((s = open_sink()) == NULL)
		return;
	sink_set_defer(s, 1);
	sink_set_sets(s, 1);
	build_report(&h, r);
	build_end(&hend, &h);
	CHECK_INT(sink_claim(s, inbox_pk, 730, uids, 11, &cause), 0);
	CHECK_INT(qint("UPDATE dmarc.mail_message SET status = 'stored'"
	    " WHERE mailbox = 'INBOX' AND uidvalidity = 730 AND uid = 11"
	    " RETURNING 1", NULL, NULL), 1);
	CHECK_INT(sink_claimed_ids(s, inbox_pk, 730, ask, 12, ids, &cause),
	    0);
	CHECK_INT(ids[2], qint("SELECT id FROM dmarc.mail_message WHERE"
	    " mailbox = 'INBOX' AND uidvalidity = 730 AND uid = 3", NULL,
	    NULL));
	CHECK(ids[0] > 0 && ids[9] > 0 && ids[0] != ids[1]);
	CHECK_INT(ids[10], 0);		/* not claimed */
	CHECK_INT(ids[11], 0);		/* no row */

	/*
	 * 1 and 2: one report (kept in the set), the same mail twice; 3 and
	 * 4: another, records in two batches (written at once), the same
	 * mail twice.  Neither copy counts.
	 */
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	w = s->waits;
	h.report_id = hend.report_id = S("r-held-a");
	CHECK_INT(held_store(s, 730, 1, ids[0], "<h1@example.net>", 0xc1, &h,
	    &hend, r, 3, 5, 1), 0);
	CHECK_INT(held_store(s, 730, 2, ids[1], "<h1@example.net>", 0xc1, &h,
	    &hend, r, 3, 5, 1), 1);
	/* No round trip of their own: one to reserve payload ids. */
	CHECK_INT(s->waits - w, 1);
	h.report_id = hend.report_id = S("r-held-b");
	CHECK_INT(held_store(s, 730, 3, ids[2], "<h3@example.net>", 0xc3, &h,
	    &hend, r, 3, 2, 1), 0);
	CHECK_INT(held_store(s, 730, 4, ids[3], "<h3@example.net>", 0xc3, &h,
	    &hend, r, 3, 2, 1), 1);
	CHECK_INT(count_uv("stored", 730), 1);	/* 11, by the test */
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	v = q1(held_row, "1", NULL);
	CHECK_STR(v, "stored|1 report|<h1@example.net>|noreply-dmarc@google.com"
	    "|Report Domain: example.com Submitter: google.com Report-ID:"
	    " <r-0001>|1700090000|5000|c1c1|mx.example.com; dkim=pass|truetrue");
	free(v);
	v = q1(held_row, "4", NULL);
	CHECK_STR(v, "duplicate|a duplicate|<h3@example.net>|noreply-dmarc@"
	    "google.com|Report Domain: example.com Submitter: google.com"
	    " Report-ID: <r-0001>|1700090000|5000|c3c3|mx.example.com;"
	    " dkim=pass|truetrue");
	free(v);
	v = q1(held_seen, "r-held-a", NULL);
	CHECK_STR(v, "1 true,false");
	free(v);
	v = q1(held_seen, "r-held-b", NULL);
	CHECK_STR(v, "1 true,false");
	free(v);

	/*
	 * 5, then 6, which another agent finishes meanwhile: the batch
	 * fails, transient; again with sets off, 6 is done already.
	 */
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	h.report_id = hend.report_id = S("r-held-c");
	CHECK_INT(held_store(s, 730, 5, ids[4], "<h5@example.net>", 0xc5, &h,
	    &hend, r, 3, 5, 1), 0);
	CHECK_INT(qint("UPDATE dmarc.mail_message SET status = 'ignored'"
	    " WHERE mailbox = 'INBOX' AND uidvalidity = 730 AND uid = 6"
	    " RETURNING 1", NULL, NULL), 1);
	h.report_id = hend.report_id = S("r-held-d");
	CHECK_INT(held_store(s, 730, 6, ids[5], "<h6@example.net>", 0xc6, &h,
	    &hend, r, 3, 5, 1), 0);
	free(cause);
	cause = NULL;
	CHECK_INT(sink_batch_commit(s, &cause), -1);
	CHECK(sink_last_error(s) == SINK_ERR_TRANSIENT);
	CHECK(cause != NULL && strstr(cause, "still claimed") != NULL &&
	    strstr(cause, "1 of 2 rows") != NULL);
	if (cause != NULL)
		printf("tst_sink: a row finished meanwhile: %s\n", cause);
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id"
	    " IN ('r-held-c', 'r-held-d')", NULL, NULL), 0);
	v = q1(held_row, "5", NULL);
	CHECK_STR(v, "claimed|-|-|-|-|-|-|-|-|truetrue");
	free(v);
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	h.report_id = hend.report_id = S("r-held-c");
	CHECK_INT(held_store(s, 730, 5, ids[4], "<h5@example.net>", 0xc5, &h,
	    &hend, r, 3, 5, 1), 0);
	h.report_id = hend.report_id = S("r-held-d");
	CHECK_INT(held_store(s, 730, 6, ids[5], "<h6@example.net>", 0xc6, &h,
	    &hend, r, 3, 5, 1), 2);
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	CHECK_INT(count_uv("stored", 730), 4);	/* 1, 3, 5 and 11 */
	CHECK_INT(qint("SELECT count(*) FROM dmarc.report WHERE report_id"
	    " IN ('r-held-c', 'r-held-d')", NULL, NULL), 1);

	/*
	 * 7 stores a report written at once; 8, the same mail, counts its
	 * duplicate (writing 7's and its own facts first), then rolls back,
	 * which undoes those writes; 9, the same mail again, must write
	 * 7's facts again.  Sets are on again after a batch committed.
	 */
	CHECK_INT(sink_batch_begin(s, &cause), 0);
	h.report_id = hend.report_id = S("r-held-e");
	CHECK_INT(held_store(s, 730, 7, ids[6], "<h7@example.net>", 0xc7, &h,
	    &hend, r, 3, 2, 1), 0);
	CHECK_INT(held_store(s, 730, 8, ids[7], "<h7@example.net>", 0xc7, &h,
	    &hend, r, 3, 2, 0), 1);
	CHECK_INT(held_store(s, 730, 9, ids[8], "<h7@example.net>", 0xc7, &h,
	    &hend, r, 3, 2, 1), 1);
	/* 10: another mail, another Message-ID and SHA-256: it counts. */
	CHECK_INT(held_store(s, 730, 10, ids[9], "<h10@example.net>", 0xca,
	    &h, &hend, r, 3, 2, 1), 1);
	CHECK_INT(sink_batch_commit(s, &cause), 0);
	v = q1(held_seen, "r-held-e", NULL);
	CHECK_STR(v, "2 true,false,true");
	free(v);
	v = q1(held_row, "8", NULL);
	CHECK_STR(v, "claimed|-|-|-|-|-|-|-|-|truetrue");
	free(v);
	v = q1(held_row, "9", NULL);
	CHECK(v != NULL && strncmp(v, "duplicate|a duplicate|<h7@", 26) == 0);
	free(v);
	free(cause);
	sink_close(s);
}

/* conninfo with another database. */
static char *
conninfo_db(const char *base, const char *dbname)
{
	char	*ci;

	xasprintf(&ci, "%s dbname=%s", base, dbname);
	return (ci);
}

/* The first schema version whose ledger is keyed by the mailbox's row. */
#define MAILBOX_VERSION	8
/*
 * The first with the rollup tables: before it, this program cannot store
 * a report (its statements fill rollup_pending).
 */
#define ROLLUP_VERSION	14
#define UPGRADE_ID	"imap://tst@127.0.0.1:993/INBOX"

/* Store report 1 (no raw data) through a sink on another database. */
static void
upgrade_store(struct sink *s)
{
	struct sink_msg_info	 mi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	unsigned char		 sha[32];
	int64_t			 mb = 0;
	char			*cause = NULL;
	int			 head;

	if (sink_mailbox_claim(s, UPGRADE_ID, "INBOX", &mb, &cause) != 0) {
		fprintf(stderr, "upgrade: %s\n", cause);
		tst_failures++;
		free(cause);
		return;
	}
	build_report(&h, r);
	sha_fill(sha, 0x71);
	msg_info(&mi, 500, 1, "<u1@example.net>", sha);
	mi.mailbox_pk = mb;
	sink_set_store_raw(s, 0);
	store_message(s, &mi, &h, NULL, r, 3, &prior, &head, SINK_STORED);
	sink_set_store_raw(s, 1);
}

/*
 * Before MAILBOX_VERSION, this program cannot write the ledger: the
 * ledger keyed by name as those versions kept it, by hand (uid 1 of
 * INBOX stored, uid 2 claimed, and a poll of INBOX).
 */
static void
upgrade_legacy(const char *ci, int v)
{
	PGconn	*c;

	c = PQconnectdb(ci);
	CHECK(PQstatus(c) == CONNECTION_OK);
	CHECK_INT(run_sql(c, "INSERT INTO dmarc.mail_message (mailbox,"
	    " uidvalidity, uid, status, after_action) VALUES"
	    " ('INBOX', 500, 1, 'stored', 'done'),"
	    " ('INBOX', 500, 2, 'claimed', 'pending')"), 0);
	if (v >= 3)
		CHECK_INT(run_sql(c, "INSERT INTO dmarc.ingest_run (mailbox,"
		    " ended_at, ok) VALUES ('INBOX', now(), true)"), 0);
	PQfinish(c);
}

/*
 * From MAILBOX_VERSION to ROLLUP_VERSION: report 1's ledger row, report
 * and records as that version keeps them, by hand (a DKIM result, an SPF
 * result and a reason on the first record), for the migration to add up.
 */
static void
upgrade_rows(struct sink *s, const char *ci)
{
	PGconn	*c;
	int64_t	 mb = 0;
	char	*cause = NULL, sql[256];

	if (sink_mailbox_claim(s, UPGRADE_ID, "INBOX", &mb, &cause) != 0) {
		fprintf(stderr, "upgrade: %s\n", cause);
		tst_failures++;
		free(cause);
		return;
	}
	c = PQconnectdb(ci);
	CHECK(PQstatus(c) == CONNECTION_OK);
	snprintf(sql, sizeof sql, "INSERT INTO dmarc.mail_message (mailbox_pk,"
	    " mailbox, uidvalidity, uid, status) VALUES (%lld, 'INBOX', 500,"
	    " 1, 'stored')", (long long)mb);
	CHECK_INT(run_sql(c, sql), 0);
	CHECK_INT(run_sql(c, "WITH p AS (INSERT INTO dmarc.report (format,"
	    " org_name, reporter_key, report_id, date_begin, date_end,"
	    " policy_domain) VALUES ('rfc7489', 'Old', 'old.example', 'up-1',"
	    " '2023-11-14 00:00+00', '2023-11-14 23:59:59+00', 'example.com')"
	    " RETURNING id),"
	    " r AS (INSERT INTO dmarc.record (report_pk, ord, policy_domain,"
	    " date_begin, source_ip, message_count, disposition, dkim_aligned,"
	    " spf_aligned, header_from) SELECT p.id, n, 'example.com',"
	    " '2023-11-14 00:00+00', ('192.0.2.' || n)::inet, n * 10, 'none',"
	    " CASE WHEN n = 3 THEN 'fail' ELSE 'pass' END, 'fail',"
	    " 'example.com' FROM p, generate_series(1, 3) n RETURNING id, ord),"
	    " d AS (INSERT INTO dmarc.record_dkim (record_pk, ord, domain,"
	    " selector, result) SELECT id, 1, 'example.com', 's1', 'pass'"
	    " FROM r WHERE ord = 1),"
	    " f AS (INSERT INTO dmarc.record_spf (record_pk, ord, domain,"
	    " result) SELECT id, 1, 'example.com', 'softfail' FROM r"
	    " WHERE ord = 1)"
	    " INSERT INTO dmarc.record_reason (record_pk, ord, type, comment)"
	    " SELECT id, 1, 'forwarded', 'list' FROM r WHERE ord = 1"), 0);
	PQfinish(c);
}

/*
 * After the upgrade: the first mailbox named INBOX has the old ledger,
 * another one of that name starts afresh.
 */
static void
upgrade_check(struct sink *s, int v)
{
	struct sink_ledger_entry *e = NULL;
	size_t			 n = 0;
	int64_t			 mb = 0, other = 0;
	char			*cause = NULL;

	CHECK_INT(sink_mailbox_claim(s, UPGRADE_ID, "INBOX", &mb, &cause), 0);
	CHECK_INT(sink_ledger_list(s, mb, 500, &e, &n, &cause), 0);
	CHECK_INT(n, v < MAILBOX_VERSION ? 2 : 1);
	if (n > 0) {
		CHECK_INT(e[0].uid, 1);
		CHECK_INT(e[0].status, SINK_STORED);
		CHECK_INT(e[0].after_done, v < MAILBOX_VERSION);
	}
	free(e);
	CHECK_INT(sink_mailbox_claim(s, "imap://tst@192.0.2.1:993/INBOX",
	    "INBOX", &other, &cause), 0);
	CHECK(other != mb);
	CHECK_INT(sink_ledger_list(s, other, 500, &e, &n, &cause), 0);
	CHECK_INT(n, 0);
	free(e);
	free(cause);
}

/*
 * Upgrade path: for every earlier version v, a database migrated to v
 * only, given data, then migrated to the latest.  tests/server/sink.test then
 * compares each schema (pg_dump --schema-only) with dmarc_fresh, migrated
 * from scratch.
 */
static void
test_upgrade(void)
{
	struct sink	*s;
	PGresult	*res;
	char		*ci, *cause = NULL, name[32], sql[96];
	int		 v, latest = sink_schema_version();

	for (v = 0; v < latest; v++) {
		if (v == 0)
			snprintf(name, sizeof name, "dmarc_fresh");
		else
			snprintf(name, sizeof name, "dmarc_from_%d", v);
		snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
		res = PQexec(db, sql);
		CHECK(PQresultStatus(res) == PGRES_COMMAND_OK);
		PQclear(res);
		ci = conninfo_db(conninfo, name);
		if ((s = sink_open(ci, &cause)) == NULL) {
			fprintf(stderr, "upgrade: %s\n", cause);
			tst_failures++;
			free(cause);
			free(ci);
			return;
		}
		if (v > 0) {
			CHECK_INT(sink_migrate_to(s, v, &cause), 0);
			CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_OLD);
			if (v < MAILBOX_VERSION)
				upgrade_legacy(ci, v);
			else if (v < ROLLUP_VERSION)
				upgrade_rows(s, ci);
			else
				upgrade_store(s);
		}
		CHECK_INT(sink_migrate(s, &cause), 0);
		CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_CURRENT);
		if (v >= MAILBOX_VERSION && v < ROLLUP_VERSION)
			upgrade_rollup(ci);
		if (v > 0) {
			upgrade_check(s, v);
			upgrade_store(s);
		}
		sink_close(s);
		free(ci);
	}
	free(cause);
}

/* The migration added up the records it found: 3 of them, 60 messages. */
static void
upgrade_rollup(const char *ci)
{
	PGconn		*c;
	PGresult	*res;

	c = PQconnectdb(ci);
	CHECK(PQstatus(c) == CONNECTION_OK);
	res = PQexec(c, "SELECT (SELECT count(*) FROM dmarc.rollup_check()),"
	    " (SELECT sum(records) || '/' || sum(messages) FROM"
	    " dmarc.rollup_source), (SELECT sum(messages) FROM"
	    " dmarc.rollup_source_month), (SELECT reports || '/' || dmarc_pass"
	    " FROM dmarc.rollup_volume), (SELECT dkim_results || ' ' ||"
	    " spf_results || ' ' || reasons::text || forwarded FROM"
	    " dmarc.rollup_source WHERE source_ip = '192.0.2.1')");
	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
	if (PQresultStatus(res) == PGRES_TUPLES_OK) {
		CHECK_STR(PQgetvalue(res, 0, 0), "0");
		CHECK_STR(PQgetvalue(res, 0, 1), "3/60");
		CHECK_STR(PQgetvalue(res, 0, 2), "60");
		CHECK_STR(PQgetvalue(res, 0, 3), "1/30");
		CHECK_STR(PQgetvalue(res, 0, 4), "example.com/s1=pass"
		    " example.com(mfrom)=softfail {\"forwarded: list\"}true");
	}
	PQclear(res);
	PQfinish(c);
}

/* Print the upgrade databases for tests/server/sink.test. */
static void
list_upgrade_dbs(void)
{
	int	v;

	for (v = 1; v < sink_schema_version(); v++)
		printf("dmarc_from_%d\n", v);
}

/*
 * Roles (etc/roles.sql): "roles-migrate" migrates as the owner; "roles"
 * stores a whole message as the writer and checks what the writer and the
 * reader may not do.
 */
static int
test_roles(const char *mode)
{
	struct sink_msg_info	 mi;
	struct report_head	 h;
	struct report_record	 r[3];
	enum sink_status	 prior;
	struct sink		*s;
	PGconn			*c;
	PGresult		*res;
	unsigned char		 sha[32];
	const char		*ci;
	char			*cause = NULL;
	int			 head = -1;

	ci = getenv(strcmp(mode, "roles-migrate") == 0 ?
	    "DMARC_OWNER_CONNINFO" : "DMARC_WRITER_CONNINFO");
	if (ci == NULL || (s = sink_open(ci, &cause)) == NULL) {
		fprintf(stderr, "tst_sink %s: %s\n", mode,
		    cause ? cause : "connection info not set");
		return (1);
	}
	if (strcmp(mode, "roles-migrate") == 0) {
		CHECK_INT(sink_migrate(s, &cause), 0);
		sink_close(s);
		free(cause);
		return (TST_DONE());
	}
	CHECK(sink_schema_check(s, &cause) == SINK_SCHEMA_CURRENT);
	build_report(&h, r);
	sha_fill(sha, 0x81);
	msg_info(&mi, 600, 1, "<w1@example.net>", sha);
	CHECK_INT(sink_mailbox_claim(s, "imap://tst@127.0.0.1:993/INBOX",
	    "INBOX", &inbox_pk, &cause), 0);
	msg_info(&mi, 600, 1, "<w1@example.net>", sha);
	CHECK_INT(sink_claim(s, inbox_pk, 600, &mi.uid, 1, &cause), 0);
	CHECK_INT(store_message(s, &mi, &h, NULL, r, 3, &prior, &head,
	    SINK_STORED), 0);
	CHECK_INT(head, SINK_OK);
	CHECK_INT(sink_after_done(s, inbox_pk, 600, &mi.uid, 1, &cause), 0);
	/* No DDL for the writer; no writing the schema version. */
	CHECK_INT(sink_migrate(s, &cause), 0);	/* nothing to do */
	res = PQexec(s->conn, "CREATE TABLE dmarc.intruder (x int)");
	CHECK_STR(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	res = PQexec(s->conn, "DELETE FROM dmarc.schema_version");
	CHECK_STR(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	sink_close(s);

	if ((ci = getenv("DMARC_READER_CONNINFO")) == NULL)
		return (1);
	c = PQconnectdb(ci);
	CHECK(PQstatus(c) == CONNECTION_OK);
	res = PQexec(c, "SELECT sum(messages) FROM dmarc.v_daily_volume");
	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
	CHECK(PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "12") == 0);
	PQclear(res);
	res = PQexec(c, "SELECT count(*) FROM dmarc.v_ingest_errors");
	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	res = PQexec(c, "SELECT count(*) FROM dmarc.record_dkim");
	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK);
	PQclear(res);
	res = PQexec(c, "INSERT INTO dmarc.mail_message (mailbox,"
	    " uidvalidity, uid) VALUES ('x', 1, 1)");
	CHECK_STR(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	res = PQexec(c, "UPDATE dmarc.report SET seen_count = 7");
	CHECK_STR(PQresultErrorField(res, PG_DIAG_SQLSTATE), "42501");
	PQclear(res);
	PQfinish(c);
	free(cause);
	return (TST_DONE());
}

/*
 * mime_name_parse and mime_subject_parse replaced regular expressions in
 * the report_file insert: they must give what PostgreSQL's regexp_match
 * gave, here asked of the real server for names and subjects that probe
 * every branch of the patterns (under the "C" collation: white space is
 * ASCII's).
 */
static const char *const names_fn[] = {
	"google.com!example.com!1700000000!1700086399.zip",
	"google.com!example.com!1700000000!1700086399!u-1.xml.gz",
	"a!b!1!2.xml", "a!b!1!2", "a!b!1!2!.xml", "a!b!1!2!x!y.xml",
	"a!b!1!2!x.y.z", "a!b!1x!2.xml", "!b!1!2.xml", "a!!1!2.xml",
	"a!b!!2.xml", "a!b!1!.xml", "a!b!1!2.x!y", "a.b!c.d!007!0123456789.",
	"r!d!1234567890123456789!12345678901234567!id.xml",
	"r!d!123456789012345678!1234567890123456789.xml",
	"r\xc3\xa9!d\xc3\xa9!1!2!\xc3\xa9.xml", "a b!c d!1!2.xml", "x.xml",
	"", NULL
};
static const char *const names_subj[] = {
	"Report Domain: example.com Submitter: google.com Report-ID: <r-1>",
	"report   domain:example.com submitter:google.com report-id:r-2",
	"REPORT\tDOMAIN:\texample.org SUBMITTER: x Report-ID: <<a>",
	"Report Domain: Submitter: Report-ID: <>",
	"ReportDomain: a Report Domain: b", "Report-ID:   <abc> Report-ID: d",
	"Report Domain:\xe2\x80\x83x.example Submitter:\xe3\x80\x80y",
	"Report\xe2\x80\xa8" "Domain: z\xc2\xa0w Report-ID: <\xc3\xa9t\xc3\xa9>",
	"Fwd: Report Domain: example.net", "Report-ID: <a b>", "nothing",
	"Report Domain:", "", NULL
};

static void
names_check(const char *sql, const char *arg, const char *const want[],
    size_t n)
{
	const char	*pv[1] = { arg };
	PGresult	*res;
	size_t		 i;

	res = PQexecParams(db, sql, 1, NULL, pv, NULL, NULL, 0);
	CHECK(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1);
	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		for (i = 0; i < n; i++) {
			const char *g = PQgetisnull(res, 0, (int)i) ? NULL :
			    PQgetvalue(res, 0, (int)i);

			if ((g == NULL) != (want[i] == NULL) ||
			    (g != NULL && strcmp(g, want[i]) != 0)) {
				fprintf(stderr, "tst_sink: \"%s\" field %zu: "
				    "SQL %s, C %s\n", arg, i,
				    g ? g : "NULL", want[i] ? want[i] : "NULL");
				CHECK(0);
			}
		}
	PQclear(res);
}

static void
test_names(void)
{
	struct mime_name	 nm;
	struct mime_subject	 ms;
	const char		*w[5];
	char			 b[24], e[24];
	size_t			 i;

	for (i = 0; names_fn[i] != NULL; i++) {
		mime_name_parse(names_fn[i], &nm);
		snprintf(b, sizeof b, "%lld", (long long)nm.begin);
		snprintf(e, sizeof e, "%lld", (long long)nm.end);
		w[0] = nm.receiver;
		w[1] = nm.policy_domain;
		w[2] = nm.receiver != NULL && nm.begin >= 0 ? b : NULL;
		w[3] = nm.receiver != NULL && nm.end >= 0 ? e : NULL;
		w[4] = nm.unique_id;
		names_check("SELECT f.v[1], f.v[2],"
		    " CASE WHEN length(f.v[3]) <= 18 THEN f.v[3]::bigint END,"
		    " CASE WHEN length(f.v[4]) <= 18 THEN f.v[4]::bigint END,"
		    " f.v[5] FROM (SELECT regexp_match($1::text COLLATE \"C\","
		    " '^([^!]+)!([^!]+)!([0-9]+)!([0-9]+)(?:!([^!.]+))?"
		    "\\.[^!]*$') AS v) AS f", names_fn[i], w, 5);
		mime_name_free(&nm);
	}
	for (i = 0; names_subj[i] != NULL; i++) {
		mime_subject_parse(names_subj[i], &ms);
		w[0] = ms.domain;
		w[1] = ms.submitter;
		w[2] = ms.report_id;
		names_check("WITH a(s) AS (SELECT $1::text COLLATE \"C\") SELECT"
		    " (regexp_match(s, 'Report\\s+Domain:\\s*([^\\s]+)', 'i'))[1],"
		    " (regexp_match(s, 'Submitter:\\s*([^\\s]+)', 'i'))[1],"
		    " (regexp_match(s, 'Report-ID:\\s*<?([^\\s<>]+)', 'i'))[1]"
		    " FROM a",
		    names_subj[i], w, 3);
		mime_subject_free(&ms);
	}
}

int
main(int argc, char **argv)
{
	struct sink	*s;
	char		*cause = NULL;

	log_init(LOG_TO_STDERR, 0);
	if (argc > 1 && strcmp(argv[1], "upgrade-dbs") == 0) {
		list_upgrade_dbs();
		return (0);
	}
	if (argc > 1)
		return (test_roles(argv[1]));
	if ((conninfo = getenv("DMARC_CONNINFO")) == NULL) {
		fprintf(stderr, "tst_sink: DMARC_CONNINFO is not set\n");
		return (1);
	}
	/* A wrong password is an error with a cause, not a crash. */
	CHECK(sink_open("host=127.0.0.1 port=1 dbname=x connect_timeout=2",
	    &cause) == NULL);
	CHECK(cause != NULL && strchr(cause, '\n') == NULL);
	free(cause);
	cause = NULL;

	db = PQconnectdb(conninfo);
	if (PQstatus(db) != CONNECTION_OK) {
		fprintf(stderr, "tst_sink: %s", PQerrorMessage(db));
		return (1);
	}
	PQclear(PQexec(db, "SET TimeZone = 'UTC'"));
	PQclear(PQexec(db, "SET application_name = 'tst_sink'"));
	if ((s = sink_open(conninfo, &cause)) == NULL) {
		fprintf(stderr, "tst_sink: sink_open: %s\n", cause);
		return (1);
	}

	test_names();
	test_migrate(s);
	test_comments();
	test_mailbox(s);
	test_claim(s);
	test_history(s);
	test_store(s);
	test_duplicates(s);
	test_payload_rollback(s);
	test_files(s);
	test_after_done(s);
	test_data_error(s);
	test_raw(s);
	test_reparse(s);
	test_view_sums();
	test_error_classes();
	test_batch_commit();
	test_batch_rollback();
	test_batch_data_error();
	test_batch_poisoned();
	test_batch_broken();
	test_round_trips();
	test_many_payloads();
	test_defer();
	test_held_ledger();
	test_upgrade();
	test_newer_schema(s);
	test_broken(s);

	sink_close(s);
	free(report1_pk);
	PQfinish(db);
	return (TST_DONE());
}
