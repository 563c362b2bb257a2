/*
 * show.c: the report command's arguments, the queries and the helpers the
 * three renderers share.
 *
 * One report is read in one read-only REPEATABLE READ transaction, so every
 * section sees the same rows.  The window is [until - days + 1, until] in
 * UTC days (record.report_day).  The figures and the sources are read from
 * the rollup tables of sink/migrations/014_rollup.sql (daily sums kept
 * equal to the records), so a schema older than version 14 is refused;
 * the relations of other migrations (dmarc.ip_info for source names,
 * v_tlsrpt_daily for TLS reports, v_mailbox_health for the mailboxes,
 * v_silent_reporters for reporters gone silent, v_authenticity and the
 * senders of schema 11) are looked up at connect time with to_regclass and
 * used only when present.
 *
 * Every value goes to the server as a parameter; the only text pasted into
 * SQL is fixed here (the source-name expression and its join).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

#define SHOW_MAX_DOMAINS	100
#define SHOW_MAX_DAYS		3660


const char show_usage[] =
    "  report [--days N] [--until YYYY-MM-DD] [--domain D]\n"
    "         [--format text|html|json|mail] [-o FILE]\n"
    "                      DMARC report over the last N days (default 30)\n"
    "  report --mail [--to ADDR]... [--days N] [--until YYYY-MM-DD]\n"
    "         [--domain D]\n"
    "                      send it by mail (notify.mail)\n";

const struct show_col show_cols_sum[] = {
	{ "domain", SHOW_STR }, { "messages", SHOW_INT },
	{ "dmarc_pass", SHOW_INT }, { "dmarc_fail", SHOW_INT },
	{ "dkim_aligned_pass", SHOW_INT }, { "spf_aligned_pass", SHOW_INT },
	{ "quarantined", SHOW_INT }, { "rejected", SHOW_INT },
	{ "source_ips", SHOW_INT }, { "reports", SHOW_INT }
};
const struct show_col show_cols_auth[] = {
	{ "reports", SHOW_INT }, { "verified_reports", SHOW_INT },
	{ "unverified_reports", SHOW_INT }, { "forged_reports", SHOW_INT },
	{ "messages", SHOW_INT }, { "verified_messages", SHOW_INT },
	{ "counted_messages", SHOW_INT }
};
const struct show_col show_cols_day[] = {
	{ "day", SHOW_STR }, { "messages", SHOW_INT },
	{ "dmarc_pass", SHOW_INT }, { "dmarc_fail", SHOW_INT },
	{ "quarantined", SHOW_INT }, { "rejected", SHOW_INT }
};
const struct show_col show_cols_top[] = {
	{ "source", SHOW_STR }, { "ip_count", SHOW_INT },
	{ "ips", SHOW_STR }, { "messages", SHOW_INT },
	{ "dmarc_pass", SHOW_INT }, { "spf_aligned_pass", SHOW_INT },
	{ "dkim_aligned_pass", SHOW_INT }
};
const struct show_col show_cols_fail[] = {
	{ "source", SHOW_STR }, { "messages", SHOW_INT },
	{ "dmarc_fail", SHOW_INT }, { "header_from", SHOW_STR },
	{ "reporters", SHOW_STR }
};
const struct show_col show_cols_fwd[] = {
	{ "source", SHOW_STR }, { "header_from", SHOW_STR },
	{ "envelope_from", SHOW_STR }, { "messages", SHOW_INT }
};
const struct show_col show_cols_spoof[] = {
	{ "source", SHOW_STR }, { "header_from", SHOW_STR },
	{ "messages", SHOW_INT }, { "blocked", SHOW_INT }
};
const struct show_col show_cols_rep[] = {
	{ "reporter", SHOW_STR }, { "org_name", SHOW_STR },
	{ "reports", SHOW_INT }, { "messages", SHOW_INT },
	{ "last_period_end", SHOW_STR }, { "last_report_id", SHOW_STR }
};
const struct show_col show_cols_det[] = {
	{ "source", SHOW_STR }, { "kind", SHOW_STR },
	{ "value", SHOW_STR }, { "messages", SHOW_INT }
};
const struct show_col show_cols_tls[] = {
	{ "day", SHOW_STR }, { "successful_sessions", SHOW_INT },
	{ "failed_sessions", SHOW_INT }
};
const struct show_col show_cols_health[] = {
	{ "mailbox", SHOW_STR }, { "last_success", SHOW_STR },
	{ "polls_failing_in_row", SHOW_INT }
};
const struct show_col show_cols_silent[] = {
	{ "reporter", SHOW_STR }, { "policy_domain", SHOW_STR },
	{ "reports", SHOW_INT }, { "last_period_end", SHOW_STR },
	{ "last_received", SHOW_STR }, { "silent_days", SHOW_INT }
};

/*
 * The per-domain queries: $1 first day, $2 last day, $3 domain.  They read
 * the rollup tables (migration 014): rollup_volume for the figures and the
 * days, rollup_source_window() for the sources (whole months from
 * rollup_source_month), so that a report costs what its window holds.
 * Who reported a source is read from record (an index-only scan of
 * record_domain_ip_day_idx) for the ten sources a table shows.
 */
#define SQL_W \
	"dmarc.rollup_source_window($3::text, $1::date, $2::date)"
#define SQL_PASS \
	"(w.dkim_aligned = 'pass' OR w.spf_aligned = 'pass')"
/* The records of the sources in the array column ips, in the window. */
#define SQL_RECORDS_OF(ips) \
	"SELECT r.report_pk, r.message_count FROM dmarc.record r" \
	" WHERE r.policy_domain = $3 AND r.report_day BETWEEN $1::date" \
	" AND $2::date AND r.source_ip = ANY (" ips ")" \
	" UNION ALL SELECT r.report_pk, r.message_count FROM dmarc.record r" \
	" WHERE r.policy_domain = $3 AND r.report_day BETWEEN $1::date" \
	" AND $2::date AND r.source_ip IS NULL" \
	" AND array_position(" ips ", NULL) IS NOT NULL"
/*
 * The rows of reports authenticity_setting counts (schema 12): rollup rows
 * carry their reports' authenticity (a set found once a query: counted()
 * a row costs a call a row).  The number of reports and the reporters
 * table count every report, as v_authenticity does.
 */
#define SQL_COUNTED(t)	\
	t ".authenticity IN (SELECT dmarc.counted_authenticities())"
/* A report's period begins in the window (report_domain_begin_idx). */
#define SQL_BEGINS \
	" p.policy_domain = $3 AND p.date_begin >= $1::date::timestamp" \
	" AT TIME ZONE 'UTC' AND p.date_begin < ($2::date + 1)::timestamp" \
	" AT TIME ZONE 'UTC'"

/* The figures; the number of source addresses comes with the sources. */
static const char sql_domains[] =
    "SELECT $3::text, coalesce(sum(v.messages), 0),"
    " coalesce(sum(v.dmarc_pass), 0),"
    " coalesce(sum(v.messages - v.dmarc_pass), 0),"
    " coalesce(sum(v.dkim_aligned_pass), 0),"
    " coalesce(sum(v.spf_aligned_pass), 0),"
    " coalesce(sum(v.quarantined), 0), coalesce(sum(v.rejected), 0),"
    " NULL::bigint,"
    " (SELECT count(*) FROM dmarc.report p WHERE" SQL_BEGINS ")"
    " FROM dmarc.rollup_volume v"
    " WHERE v.policy_domain = $3 AND v.day BETWEEN $1::date AND $2::date"
    " AND " SQL_COUNTED("v");

/* Who sent the reports: every report, forged ones included. */
static const char sql_auth[] =
    "SELECT coalesce(sum(a.reports), 0), coalesce(sum(a.verified_reports), 0),"
    " coalesce(sum(a.unverified_reports), 0),"
    " coalesce(sum(a.forged_reports), 0), coalesce(sum(a.messages), 0),"
    " coalesce(sum(a.verified_messages), 0),"
    " coalesce(sum(a.counted_messages), 0)"
    " FROM dmarc.v_authenticity a"
    " WHERE a.day BETWEEN $1::date AND $2::date AND a.policy_domain = $3";

static const char sql_domain_list[] =
    "SELECT v.policy_domain FROM dmarc.rollup_volume v"
    " WHERE v.day BETWEEN $1::date AND $2::date AND " SQL_COUNTED("v")
    " AND ($3::text IS NULL OR v.policy_domain = $3)"
    " GROUP BY 1 ORDER BY sum(v.messages) DESC, 1 LIMIT 100";

static const char sql_daily[] =
    "SELECT g::date, coalesce(sum(v.messages), 0),"
    " coalesce(sum(v.dmarc_pass), 0),"
    " coalesce(sum(v.messages - v.dmarc_pass), 0),"
    " coalesce(sum(v.quarantined), 0), coalesce(sum(v.rejected), 0)"
    " FROM generate_series($1::date, $2::date, interval '1 day') g"
    " LEFT JOIN dmarc.rollup_volume v"
    " ON v.day = g::date AND v.policy_domain = $3 AND " SQL_COUNTED("v")
    " GROUP BY 1 ORDER BY 1";

/*
 * Every table about sources, from one pass over the window: d its rows, s
 * per address, l the addresses with their source names (%1$s the name
 * expression of s.source_ip, %2$s its join).  Who reported a source comes
 * from record (rep), for the twenty sources at most that the failing and
 * the drill-down tables show.  Each output row is tagged with its table
 * (enum show_sec) and its place in it; the values follow as text, in the
 * column order of that table.
 */
static const char sql_sources[] =
    "WITH d AS MATERIALIZED (SELECT w.source_ip,"
    " coalesce(w.source_ip, '0.0.0.0/0'::inet) AS ipk, w.header_from,"
    " w.envelope_from, w.disposition, w.dkim_aligned, w.spf_aligned,"
    " w.dkim_results, w.spf_results, w.reasons, w.messages,"
    " " SQL_PASS " IS TRUE AS pass FROM " SQL_W " w),"
    " s AS (SELECT d.source_ip, d.ipk, sum(d.messages) AS m,"
    " coalesce(sum(d.messages) FILTER (WHERE d.pass), 0) AS p,"
    " coalesce(sum(d.messages) FILTER (WHERE NOT d.pass), 0) AS f,"
    " coalesce(sum(d.messages) FILTER (WHERE d.spf_aligned = 'pass'), 0)"
    " AS sp,"
    " coalesce(sum(d.messages) FILTER (WHERE d.dkim_aligned = 'pass'), 0)"
    " AS dk FROM d GROUP BY 1, 2),"
    " l AS MATERIALIZED (SELECT s.*, %1$s AS source FROM s %2$s),"
    /* The top sources, and the failing ones with their From domains. */
    " top AS (SELECT l.source, count(DISTINCT l.source_ip) AS n,"
    " array_to_string((array_agg(DISTINCT host(l.source_ip)))[1:5], ' ')"
    " AS ips, sum(l.m) AS m, sum(l.p) AS p, sum(l.sp) AS sp,"
    " sum(l.dk) AS dk FROM l GROUP BY 1 ORDER BY 4 DESC, 1 LIMIT 10),"
    " fl AS (SELECT l.source, sum(l.m) AS m, sum(l.f) AS f FROM l"
    " GROUP BY 1 HAVING sum(l.f) > 0 ORDER BY 3 DESC, 1 LIMIT 10),"
    " ff AS (SELECT fl.source,"
    " string_agg(DISTINCT coalesce(d.header_from, '?'), ', ') AS froms"
    " FROM fl JOIN l ON l.source = fl.source JOIN d ON d.ipk = l.ipk"
    " GROUP BY 1),"
    /* Who reported the sources of those two tables. */
    " q AS (SELECT l.source, array_agg(l.source_ip) AS ips FROM l"
    " WHERE l.source IN (SELECT source FROM top UNION SELECT source FROM fl)"
    " GROUP BY 1),"
    " rep AS (SELECT q.source, p.reporter_key, sum(x.message_count) AS m"
    " FROM q, LATERAL (" SQL_RECORDS_OF("q.ips") ") x"
    " JOIN dmarc.report p ON p.id = x.report_pk"
    " WHERE " SQL_COUNTED("p") " GROUP BY 1, 2),"
    /* Suspected forwarding and spoofing. */
    " fw AS (SELECT l.source, coalesce(d.header_from, '?') AS hf,"
    " coalesce(nullif(d.envelope_from, ''), '(none)') AS ef,"
    " sum(d.messages) AS m FROM d JOIN l ON l.ipk = d.ipk"
    " WHERE d.dkim_aligned = 'pass' AND d.spf_aligned = 'fail'"
    " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 1, 2, 3 LIMIT 10),"
    " sf AS (SELECT l.source, coalesce(d.header_from, '?') AS hf,"
    " sum(d.messages) AS m, coalesce(sum(d.messages) FILTER (WHERE"
    " d.disposition IN ('quarantine', 'reject')), 0) AS b"
    " FROM d JOIN l ON l.ipk = d.ipk"
    " WHERE d.dkim_aligned = 'fail' AND d.spf_aligned = 'fail'"
    " GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2 LIMIT 10),"
    /* The drill-down of the top sources, at most 8 values a kind. */
    " t AS (SELECT l.source, d.* FROM d JOIN l ON l.ipk = d.ipk"
    " WHERE l.source IN (SELECT source FROM top)),"
    " k AS ("
    " SELECT source, 1 AS o, 'ip' AS kind,"
    " coalesce(host(source_ip), '(unreadable)') AS value, messages FROM t"
    " UNION ALL SELECT source, 2, 'header_from',"
    " coalesce(header_from, '(none)'), messages FROM t"
    " UNION ALL SELECT source, 3, 'envelope_from',"
    " coalesce(nullif(envelope_from, ''), '(none)'), messages FROM t"
    " UNION ALL SELECT source, 4, 'reporter', reporter_key, m FROM rep"
    " WHERE source IN (SELECT source FROM top)"
    " UNION ALL SELECT source, 5, 'result',"
    " 'DKIM ' || coalesce(dkim_aligned, '?') || ', SPF ' ||"
    " coalesce(spf_aligned, '?') || ', ' || coalesce(disposition, '?'),"
    " messages FROM t"
    " UNION ALL SELECT source, 6, 'dkim',"
    " coalesce(dkim_results, '(no signature)'), messages FROM t"
    " UNION ALL SELECT source, 7, 'spf', coalesce(spf_results, '(none)'),"
    " messages FROM t"
    " UNION ALL SELECT source, 8, 'reason', x, messages"
    " FROM t, unnest(reasons) x),"
    " g AS (SELECT source, o, kind, value, sum(messages) AS messages"
    " FROM k GROUP BY 1, 2, 3, 4),"
    " r AS (SELECT *, row_number() OVER (PARTITION BY source, o"
    " ORDER BY messages DESC, value) AS n FROM g)"
    " SELECT 0 AS sec, 0::bigint AS ord,"
    " count(DISTINCT source_ip)::text AS c1, NULL::text AS c2,"
    " NULL::text AS c3, NULL::text AS c4, NULL::text AS c5,"
    " NULL::text AS c6, NULL::text AS c7 FROM s"
    " UNION ALL SELECT 1, row_number() OVER (ORDER BY m DESC, source),"
    " source, n::text, ips, m::text, p::text, sp::text, dk::text FROM top"
    " UNION ALL SELECT 2, row_number() OVER (ORDER BY fl.f DESC,"
    " fl.source), fl.source, fl.m::text, fl.f::text, ff.froms,"
    " (SELECT string_agg(rep.reporter_key, ', ' ORDER BY"
    " rep.reporter_key) FROM rep WHERE rep.source = fl.source), NULL, NULL"
    " FROM fl JOIN ff ON ff.source = fl.source"
    " UNION ALL SELECT 3, row_number() OVER (ORDER BY m DESC, source, hf,"
    " ef), source, hf, ef, m::text, NULL, NULL, NULL FROM fw"
    " UNION ALL SELECT 4, row_number() OVER (ORDER BY m DESC, source, hf),"
    " source, hf, m::text, b::text, NULL, NULL, NULL FROM sf"
    " UNION ALL SELECT 5, row_number() OVER (ORDER BY source, o, n),"
    " source, kind, value, messages::text, NULL, NULL, NULL"
    " FROM r WHERE n <= 8"
    " ORDER BY 1, 2";

static const char sql_reporters[] =
    "SELECT p.reporter_key,"
    " (array_agg(p.org_name ORDER BY p.date_end DESC, p.report_id))[1],"
    " count(*), sum(p.message_total),"
    " to_char(max(p.date_end) AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    " (array_agg(p.report_id ORDER BY p.date_end DESC, p.report_id))[1]"
    " FROM dmarc.report p WHERE" SQL_BEGINS
    " GROUP BY 1 ORDER BY 4 DESC, 1 LIMIT 20";

static const char sql_tls[] =
    "SELECT g::date, coalesce(sum(t.successful_sessions), 0),"
    " coalesce(sum(t.failed_sessions), 0)"
    " FROM generate_series($1::date, $2::date, interval '1 day') g"
    " LEFT JOIN dmarc.v_tlsrpt_daily t"
    " ON t.day = g::date AND t.policy_domain = $3"
    " GROUP BY 1 ORDER BY 1";

static const char sql_health[] =
    "SELECT h.mailbox,"
    " to_char(h.last_success AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    " h.polls_failing_in_row FROM dmarc.v_mailbox_health h ORDER BY 1";

/*
 * Reporters gone silent (migration 003's view: nothing received for 3
 * days), as of now, whatever the window; $1 the domain or NULL.  The
 * most recently silent first: the likeliest to be a new breakage.
 */
static const char sql_silent[] =
    "SELECT v.reporter_key, v.policy_domain, v.reports,"
    " to_char(v.last_period_end AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    " to_char(v.last_received AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),"
    " floor(extract(epoch FROM v.silent_for) / 86400)::bigint"
    " FROM dmarc.v_silent_reporters v"
    " WHERE $1::text IS NULL OR v.policy_domain = $1"
    " ORDER BY v.last_received DESC, v.reporter_key, v.policy_domain"
    " LIMIT 50";

static int	 show_has(struct show *, const char *, const char *,
		    int *, char **);
static int	 show_features(struct show *, char **);
static int	 show_sources(struct show *, struct show_domain *,
		    const char *const *, char **);
static int	 show_read_domain(struct show *, struct show_data *,
		    struct show_domain *, const char *, char **);
static int	 show_read(struct show *, const struct show_opts *,
		    struct show_data *, char **);
static void	 show_data_free(struct show_data *);
static int	 show_int_arg(const char *, int *);
static char	*show_mail_subject(const struct show_data *);
static int	 show_cp_bad(uint32_t);

/* Strict YYYY-MM-DD to days since 1970-01-01; -1 when not a real date. */
int
show_parse_day(const char *s, long *day)
{
	struct tm	tm;
	time_t		t;
	int		i;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return (-1);
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return (-1);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = 12;
	if (tm.tm_year < 0 || tm.tm_mon < 0 || tm.tm_mon > 11 ||
	    tm.tm_mday < 1)
		return (-1);
	t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != atoi(s + 8))
		return (-1);	/* 2026-02-30 normalised to March */
	*day = (long)(t / 86400);
	return (0);
}

int
show_day_valid(const char *s)
{
	long	day;

	return (show_parse_day(s, &day) == 0);
}

void
show_today(char *out)
{
	show_format_day((long)(time(NULL) / 86400), out);
}

/* Days since 1970-01-01 to YYYY-MM-DD (11 bytes). */
void
show_format_day(long day, char *out)
{
	struct tm	tm;
	time_t		t = (time_t)day * 86400;
	char		tmp[64];

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 0)
		fatalx("%s: day %ld", __func__, day);
	snprintf(tmp, sizeof tmp, "%04d-%02d-%02d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday);
	memcpy(out, tmp, 10);
	out[10] = '\0';
}

/* The bins of a window of days (enum show_bin). */
enum show_bin
show_bin_for(int days)
{
	if (days <= SHOW_BIN_DAYS)
		return (SHOW_BIN_DAY);
	if (days <= SHOW_BIN_WEEKS)
		return (SHOW_BIN_WEEK);
	return (SHOW_BIN_MONTH);
}

/*
 * The label of a bin whose first day is day (YYYY-MM-DD): the day, or
 * YYYY-MM for a month; on a chart's axis (short set) a day without its
 * year, unless the window spans years or is binned.
 */
const char *
show_bin_label(enum show_bin bin, const char *day, int short_ok, char *out,
    size_t len)
{
	if (strlen(day) != 10)
		snprintf(out, len, "%s", day);
	else if (bin == SHOW_BIN_MONTH)
		snprintf(out, len, "%.7s", day);
	else if (bin == SHOW_BIN_DAY && short_ok)
		snprintf(out, len, "%s", day + 5);
	else
		snprintf(out, len, "%s", day);
	return (out);
}

/* The key of the bin a day (YYYY-MM-DD) falls in; -1 if not a day. */
static long
show_bin_key(enum show_bin bin, const char *day)
{
	long	d;

	if (show_parse_day(day, &d) != 0)
		return (-1);
	switch (bin) {
	case SHOW_BIN_DAY:
		break;
	case SHOW_BIN_WEEK:
		/* 1970-01-01 was a Thursday: (d + 3) % 7 is 0 on Mondays. */
		d -= (d + 3) % 7;
		break;
	case SHOW_BIN_MONTH:
		d = atol(day) * 12 + atol(day + 5);
		break;
	}
	return (d);
}

/*
 * The daily table (show_cols_day, one row per day in order) grouped into
 * bins, in out (same columns): each bin's first day of the window and the
 * sums of its days.  The caller frees out with show_table_free.
 */
void
show_bins(const struct show_table *daily, enum show_bin bin,
    struct show_table *out)
{
	long long	 sum[DAY_NCOLS];
	long		 key, cur = -1;
	size_t		 r, c, n = 0;
	char		 b[32];

	memset(out, 0, sizeof *out);
	out->cols = daily->cols;
	out->ncols = DAY_NCOLS;
	out->cells = xcalloc(daily->nrows * DAY_NCOLS + 1,
	    sizeof *out->cells);
	for (r = 0; r < daily->nrows; r++) {
		key = show_bin_key(bin, show_cell(daily, r, DAY_DAY));
		if (r == 0 || key != cur) {
			if (r > 0)
				n++;
			cur = key;
			memset(sum, 0, sizeof sum);
			out->cells[n * DAY_NCOLS + DAY_DAY] =
			    xstrdup(show_cell(daily, r, DAY_DAY));
			out->nrows = n + 1;
		}
		for (c = DAY_MSGS; c < DAY_NCOLS; c++) {
			sum[c] += show_num(daily, r, c);
			free(out->cells[n * DAY_NCOLS + c]);
			snprintf(b, sizeof b, "%lld", sum[c]);
			out->cells[n * DAY_NCOLS + c] = xstrdup(b);
		}
	}
}

static int
show_int_arg(const char *s, int *v)
{
	char	*end;
	long	 l;

	errno = 0;
	l = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || l < 1 ||
	    l > SHOW_MAX_DAYS)
		return (-1);
	*v = (int)l;
	return (0);
}

int
show_args(int argc, char **argv, struct show_opts *o, char **cause)
{
	const char	*opt, *val;
	time_t		 now;
	long		 day;
	int		 i;

	memset(o, 0, sizeof *o);
	o->days = 30;
	o->format = SHOW_TEXT;
	now = time(NULL);
	show_format_day((long)(now / 86400), o->until);
	for (i = 0; i < argc; i++) {
		opt = argv[i];
		if ((val = strchr(opt, '=')) != NULL &&
		    strncmp(opt, "--", 2) == 0) {
			/* --opt=value */
			static char	 name[32];

			if ((size_t)(val - opt) >= sizeof name)
				goto unknown;
			memcpy(name, opt, val - opt);
			name[val - opt] = '\0';
			opt = name;
			val++;
		} else if (strcmp(opt, "--days") == 0 ||
		    strcmp(opt, "--until") == 0 ||
		    strcmp(opt, "--domain") == 0 ||
		    strcmp(opt, "--format") == 0 || strcmp(opt, "-o") == 0) {
			if (i + 1 >= argc) {
				xasprintf(cause, "%s needs a value", opt);
				return (-1);
			}
			val = argv[++i];
		} else
			goto unknown;
		if (strcmp(opt, "--days") == 0) {
			if (show_int_arg(val, &o->days) != 0) {
				xasprintf(cause, "--days: not a number from 1"
				    " to %d", SHOW_MAX_DAYS);
				return (-1);
			}
		} else if (strcmp(opt, "--until") == 0) {
			if (show_parse_day(val, &day) != 0) {
				xasprintf(cause, "--until: not a date"
				    " (YYYY-MM-DD)");
				return (-1);
			}
			show_format_day(day, o->until);
		} else if (strcmp(opt, "--domain") == 0)
			o->domain = val;
		else if (strcmp(opt, "--format") == 0) {
			if (strcmp(val, "text") == 0)
				o->format = SHOW_TEXT;
			else if (strcmp(val, "html") == 0)
				o->format = SHOW_HTML;
			else if (strcmp(val, "json") == 0)
				o->format = SHOW_JSON;
			else if (strcmp(val, "mail") == 0)
				o->format = SHOW_MAIL;
			else {
				xasprintf(cause, "--format: text, html, json"
				    " or mail");
				return (-1);
			}
		} else if (strcmp(opt, "-o") == 0 && val[0] != '\0')
			o->output = val;
		else
			goto unknown;
	}
	return (0);
unknown:
	{
		char	*esc = log_escape(argv[i], strlen(argv[i]), 64);

		xasprintf(cause, "unknown argument \"%s\"", esc);
		free(esc);
	}
	return (-1);
}

/* libpq's message, one line, escaped. */
char *
show_pq_cause(PGconn *conn, PGresult *res)
{
	const char	*m;
	size_t		 len;

	m = res != NULL ? PQresultErrorMessage(res) : PQerrorMessage(conn);
	if (m == NULL || *m == '\0')
		m = "unknown error";
	len = strcspn(m, "\n");
	return (log_escape(m, len, 400));
}

int
show_exec(struct show *s, const char *sql, PGresult **resp, char **cause)
{
	PGresult	*res;
	char		*m;

	res = PQexec(s->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		m = show_pq_cause(s->conn, res);
		xasprintf(cause, "%s", m);
		free(m);
		PQclear(res);
		return (-1);
	}
	if (resp != NULL)
		*resp = res;
	else
		PQclear(res);
	return (0);
}

/*
 * Does relation rel exist with every column of cols (comma separated), and
 * may this user read it?  A scoped reader may not read v_mailbox_health
 * (schema 9): its report goes without that section rather than failing.
 */
static int
show_has(struct show *s, const char *rel, const char *cols, int *yes,
    char **cause)
{
	const char	*p[2] = { rel, cols };
	PGresult	*res;
	char		*m;

	res = PQexecParams(s->conn,
	    "SELECT CASE WHEN pg_catalog.to_regclass($1) IS NULL THEN false"
	    " ELSE pg_catalog.has_table_privilege(pg_catalog.to_regclass($1),"
	    " 'SELECT') AND"
	    " (SELECT count(*) FROM pg_catalog.pg_attribute"
	    " WHERE attrelid = pg_catalog.to_regclass($1) AND NOT attisdropped"
	    " AND attname = ANY (pg_catalog.string_to_array($2, ',')))"
	    " = pg_catalog.cardinality(pg_catalog.string_to_array($2, ','))"
	    " END",
	    2, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
		m = show_pq_cause(s->conn, res);
		xasprintf(cause, "look for %s: %s", rel, m);
		free(m);
		PQclear(res);
		return (-1);
	}
	*yes = *PQgetvalue(res, 0, 0) == 't';
	PQclear(res);
	return (0);
}

/*
 * The senders section reads dmarc.senders_window (schema 16): a database
 * left at 15 is told to migrate here, not failed on in the middle of a
 * report.
 */
static int
show_pairs(struct show *s, char **cause)
{
	PGresult	*res;
	int		 yes;

	if (show_exec(s, "SELECT pg_catalog.to_regprocedure("
	    "'dmarc.senders_window(date,date,text[])') IS NOT NULL", &res,
	    cause) != 0)
		return (-1);
	yes = PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) == 't';
	PQclear(res);
	if (!yes) {
		xasprintf(cause, "the dmarc schema in this database is older"
		    " than version 16 (run dmarc-agent migrate)");
		return (-1);
	}
	return (0);
}

/*
 * Which optional relations this database has.  With enrichment (004) a
 * source is named by source_map.sender_name, else by ip_info.base_domain,
 * else by its address.
 */
static int
show_features(struct show *s, char **cause)
{
	int	schema, base, name = 0;

	if (show_has(s, "dmarc.rollup_source", "source_ip,reasons", &schema,
	    cause) != 0)
		return (-1);
	if (!schema) {
		xasprintf(cause, "no dmarc schema of version 14 or later in"
		    " this database (run dmarc-agent migrate)");
		return (-1);
	}
	if (show_has(s, "dmarc.ip_info", "ip,base_domain", &base,
	    cause) != 0 ||
	    (base && show_has(s, "dmarc.source_map", "base_domain,"
	    "sender_name", &name, cause) != 0) ||
	    show_has(s, "dmarc.v_tlsrpt_daily", "day,policy_domain,"
	    "successful_sessions,failed_sessions", &s->has_tls, cause) != 0 ||
	    show_has(s, "dmarc.v_mailbox_health", "mailbox,last_success,"
	    "polls_failing_in_row", &s->has_health, cause) != 0 ||
	    show_has(s, "dmarc.v_silent_reporters", "reporter_key,"
	    "policy_domain,reports,last_period_end,last_received,silent_for",
	    &s->has_silent, cause) != 0 ||
	    show_has(s, "dmarc.v_authenticity", "day,policy_domain,"
	    "verified_messages,counted_messages", &s->has_auth, cause) != 0 ||
	    show_has(s, "dmarc.v_sender_record", "sender_kind,sender_value,"
	    "approved_pk", &s->has_senders, cause) != 0 ||
	    (s->has_senders && show_pairs(s, cause) != 0))
		return (-1);
	s->enriched = base;
	xasprintf(&s->label, "coalesce(%s%s host(s.source_ip), '(unreadable)')",
	    name ? "nullif(m.sender_name, ''), " : "",
	    base ? "nullif(i.base_domain, ''), " : "");
	xasprintf(&s->join, "%s%s",
	    base ? "LEFT JOIN dmarc.ip_info i ON i.ip = s.source_ip" : "",
	    name ? " LEFT JOIN dmarc.source_map m"
	    " ON m.base_domain = i.base_domain" : "");
	return (0);
}

/*
 * One session as a report wants it.  JIT off: compiling a report's larger
 * queries took longer than running them.  The window's rows of a month
 * (some 15 MB for a busy domain) are kept once in memory, not on disk.
 */
static struct pg_conn *
show_connect(const char *conninfo, char **cause)
{
	const char	*keys[] = { "dbname", "fallback_application_name",
			    "client_encoding", NULL };
	const char	*vals[] = { conninfo, "dmarc-agent report", "UTF8",
			    NULL };
	PGconn		*conn;
	PGresult	*res;

	conn = PQconnectdbParams(keys, vals, 1);
	if (conn == NULL)
		fatalx("%s: out of memory", __func__);
	if (PQstatus(conn) != CONNECTION_OK) {
		*cause = show_pq_cause(conn, NULL);
		PQfinish(conn);
		return (NULL);
	}
	res = PQexec(conn, "SELECT pg_catalog.set_config('search_path', '',"
	    " false), pg_catalog.set_config('TimeZone', 'UTC', false),"
	    " pg_catalog.set_config('DateStyle', 'ISO, YMD', false),"
	    " pg_catalog.set_config('jit', 'off', false),"
	    " pg_catalog.set_config('work_mem', '32MB', false)");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		*cause = show_pq_cause(conn, res);
		PQclear(res);
		PQfinish(conn);
		return (NULL);
	}
	PQclear(res);
	return (conn);
}

struct show *
show_open(const char *conninfo, char **cause)
{
	struct show	*s;
	PGconn		*conn;

	if ((conn = show_connect(conninfo, cause)) == NULL)
		return (NULL);
	s = xcalloc(1, sizeof *s);
	s->conn = conn;
	s->conninfo = xstrdup(conninfo);
	if (show_features(s, cause) != 0) {
		show_close(s);
		return (NULL);
	}
	return (s);
}

void
show_close(struct show *s)
{
	if (s == NULL)
		return;
	PQfinish(s->conn);
	if (s->side != NULL)
		PQfinish(s->side);
	free(s->conninfo);
	free(s->label);
	free(s->join);
	free(s);
}

/* A query's result into t (consumed); it must have ncols columns. */
static int
show_result(struct pg_conn *conn, PGresult *res, const char *what,
    const struct show_col *cols, size_t ncols, struct show_table *t,
    char **cause)
{
	size_t		 r, c;
	char		*m;

	memset(t, 0, sizeof *t);
	t->cols = cols;
	t->ncols = ncols;
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		m = show_pq_cause(conn, res);
		xasprintf(cause, "%s: %s", what, m);
		free(m);
		PQclear(res);
		return (-1);
	}
	if ((size_t)PQnfields(res) != ncols)
		fatalx("%s: %s: %d columns, want %zu", __func__, what,
		    PQnfields(res), ncols);
	t->nrows = (size_t)PQntuples(res);
	t->cells = xcalloc(t->nrows * ncols + 1, sizeof *t->cells);
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < ncols; c++)
			if (!PQgetisnull(res, (int)r, (int)c))
				t->cells[r * ncols + c] =
				    xstrdup(PQgetvalue(res, (int)r, (int)c));
	PQclear(res);
	return (0);
}

/* Run one query into t; the result must have ncols columns. */
int
show_query(struct show *s, const char *what, const char *sql,
    const char *const *params, int nparams, const struct show_col *cols,
    size_t ncols, struct show_table *t, char **cause)
{
	PGresult	*res;

	res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL,
	    0);
	return (show_result(s->conn, res, what, cols, ncols, t, cause));
}

/*
 * Start one query on the side session (opened at the first), to be read
 * by show_query_recv while the main session runs others: a report's two
 * largest queries, its sources and its senders, then use both cores.  The
 * side session is the same user's, so it sees what the main one sees.
 */
int
show_query_send(struct show *s, const char *what, const char *sql,
    const char *const *params, int nparams, char **cause)
{
	char	*m;

	if (s->side == NULL && (s->side = show_connect(s->conninfo,
	    cause)) == NULL)
		return (-1);
	if (!PQsendQueryParams(s->side, sql, nparams, NULL, params, NULL,
	    NULL, 0)) {
		m = show_pq_cause(s->side, NULL);
		xasprintf(cause, "%s: %s", what, m);
		free(m);
		return (-1);
	}
	return (0);
}

/* The result of what show_query_send started, into t. */
int
show_query_recv(struct show *s, const char *what,
    const struct show_col *cols, size_t ncols, struct show_table *t,
    char **cause)
{
	PGresult	*res, *more;

	res = PQgetResult(s->side);
	while ((more = PQgetResult(s->side)) != NULL)
		PQclear(more);
	if (res == NULL)
		fatalx("%s: %s: no query was sent", __func__, what);
	return (show_result(s->side, res, what, cols, ncols, t, cause));
}

/* The tables of sql_sources, by the tag (sec) of its rows. */
enum show_sec {
	SEC_COUNT,		/* source addresses, for the summary */
	SEC_TOP,
	SEC_FAIL,
	SEC_FWD,
	SEC_SPOOF,
	SEC_DETAIL,
	SEC_N
};

/*
 * Read every table about sources with sql_sources, the source name
 * expression put into it, and the number of source addresses into the
 * summary (already read).
 */
static int
show_sources(struct show *s, struct show_domain *v, const char *const *p,
    char **cause)
{
	const struct {
		struct show_table	*t;
		const struct show_col	*cols;
		size_t			 ncols;
	} sec[SEC_N] = {
		{ NULL, NULL, 1 },
		{ &v->top, show_cols_top, TOP_NCOLS },
		{ &v->failing, show_cols_fail, FAIL_NCOLS },
		{ &v->fwd, show_cols_fwd, FWD_NCOLS },
		{ &v->spoof, show_cols_spoof, SPOOF_NCOLS },
		{ &v->detail, show_cols_det, DET_NCOLS }
	};
	struct show_table	*t;
	PGresult		*res;
	size_t			 nrows[SEC_N] = { 0 }, c, row;
	char			*sql, *m, **cell;
	int			 r, k;

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	xasprintf(&sql, sql_sources, s->label, s->join);
#pragma GCC diagnostic pop
	res = PQexecParams(s->conn, sql, 3, NULL, p, NULL, NULL, 0);
	free(sql);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		m = show_pq_cause(s->conn, res);
		xasprintf(cause, "sources: %s", m);
		free(m);
		PQclear(res);
		return (-1);
	}
	if (PQnfields(res) != 9)
		fatalx("%s: %d columns", __func__, PQnfields(res));
	for (r = 0; r < PQntuples(res); r++) {
		k = atoi(PQgetvalue(res, r, 0));
		if (k < 0 || k >= SEC_N)
			fatalx("%s: table %d", __func__, k);
		nrows[k]++;
	}
	for (k = 1; k < SEC_N; k++) {
		t = sec[k].t;
		memset(t, 0, sizeof *t);
		t->cols = sec[k].cols;
		t->ncols = sec[k].ncols;
		t->cells = xcalloc(nrows[k] * t->ncols + 1, sizeof *t->cells);
	}
	for (r = 0; r < PQntuples(res); r++) {
		k = atoi(PQgetvalue(res, r, 0));
		if (k == SEC_COUNT) {
			cell = &v->sum.cells[SUM_SOURCES];
			free(*cell);
			*cell = xstrdup(PQgetvalue(res, r, 2));
			continue;
		}
		t = sec[k].t;
		row = t->nrows++;
		for (c = 0; c < t->ncols; c++)
			if (!PQgetisnull(res, r, (int)c + 2))
				t->cells[row * t->ncols + c] = xstrdup(
				    PQgetvalue(res, r, (int)c + 2));
	}
	PQclear(res);
	return (0);
}

static int
show_read_domain(struct show *s, struct show_data *d, struct show_domain *v,
    const char *name, char **cause)
{
	const char	*p[3] = { d->from, d->until, name };

	if (s->has_senders && show_senders_send(s, d->from, d->until, name,
	    cause) != 0)
		return (-1);
	if (show_query(s, "summary", sql_domains, p, 3, show_cols_sum,
	    SUM_NCOLS, &v->sum, cause) != 0)
		return (-1);
	if (v->sum.nrows != 1)
		fatalx("%s: no summary row", __func__);
	if (s->has_auth && show_query(s, "authenticity", sql_auth, p, 3,
	    show_cols_auth, AUTH_NCOLS, &v->auth, cause) != 0)
		return (-1);
	if (show_query(s, "daily volume", sql_daily, p, 3, show_cols_day,
	    DAY_NCOLS, &v->daily, cause) != 0 ||
	    show_sources(s, v, p, cause) != 0 ||
	    show_query(s, "reporters", sql_reporters, p, 3, show_cols_rep,
	    REP_NCOLS, &v->reporters, cause) != 0)
		return (-1);
	if (s->has_tls && show_query(s, "TLS reports", sql_tls, p, 3,
	    show_cols_tls, TLS_NCOLS, &v->tls, cause) != 0)
		return (-1);
	if (s->has_senders && show_senders_recv(s, &v->senders, cause) != 0)
		return (-1);
	return (0);
}

static int
show_read(struct show *s, const struct show_opts *o, struct show_data *d,
    char **cause)
{
	struct show_table	 list;
	const char		*p[3];
	long			 until;
	size_t			 i;

	memset(d, 0, sizeof *d);
	if (show_parse_day(o->until, &until) != 0 || o->days < 1 ||
	    o->days > SHOW_MAX_DAYS)
		fatalx("%s: bad options", __func__);
	show_format_day(until - o->days + 1, d->from);
	memcpy(d->until, o->until, sizeof d->until);
	d->days = o->days;
	d->domain = o->domain;
	d->enriched = s->enriched;
	d->has_tls = s->has_tls;
	d->has_health = s->has_health;
	d->has_silent = s->has_silent;
	d->has_auth = s->has_auth;
	d->has_senders = s->has_senders;
	p[0] = d->from;
	p[1] = d->until;
	p[2] = o->domain;
	if (show_query(s, "policy domains", sql_domain_list, p, 3,
	    show_cols_sum, 1, &list, cause) != 0)
		return (-1);
	d->v = xcalloc(list.nrows + 1, sizeof *d->v);
	for (i = 0; i < list.nrows && i < SHOW_MAX_DOMAINS; i++) {
		d->n++;
		if (show_read_domain(s, d, &d->v[i], show_cell(&list, i, 0),
		    cause) != 0) {
			show_table_free(&list);
			return (-1);
		}
	}
	show_table_free(&list);
	if (s->has_health && show_query(s, "mailbox health", sql_health,
	    NULL, 0, show_cols_health, HEALTH_NCOLS, &d->health, cause) != 0)
		return (-1);
	if (s->has_silent && show_query(s, "silent reporters", sql_silent,
	    &p[2], 1, show_cols_silent, SIL_NCOLS, &d->silent, cause) != 0)
		return (-1);
	return (0);
}

static void
show_data_free(struct show_data *d)
{
	struct show_domain	*v;
	size_t			 i;

	for (i = 0; i < d->n; i++) {
		v = &d->v[i];
		show_table_free(&v->sum);
		show_table_free(&v->daily);
		show_table_free(&v->top);
		show_table_free(&v->failing);
		show_table_free(&v->fwd);
		show_table_free(&v->spoof);
		show_table_free(&v->reporters);
		show_table_free(&v->detail);
		show_table_free(&v->tls);
		show_table_free(&v->auth);
		show_table_free(&v->senders);
	}
	free(d->v);
	show_table_free(&d->health);
	show_table_free(&d->silent);
	memset(d, 0, sizeof *d);
}

int
show_write(struct show *s, const struct show_opts *o, FILE *f, char **cause)
{
	struct show_data	 d;
	int			 rc;

	if (show_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    NULL, cause) != 0)
		return (-1);
	rc = show_read(s, o, &d, cause);
	PQclear(PQexec(s->conn, "ROLLBACK"));
	if (rc == 0) {
		switch (o->format) {
		case SHOW_TEXT:
			rc = show_text(f, &d, o->color);
			break;
		case SHOW_HTML:
			rc = show_html(f, &d);
			break;
		case SHOW_JSON:
			rc = show_json(f, &d);
			break;
		case SHOW_MAIL:
			rc = show_mail(f, &d);
			break;
		}
		if (rc != 0 || fflush(f) != 0 || ferror(f)) {
			xasprintf(cause, "write: %s", strerror(errno));
			rc = -1;
		}
	}
	show_data_free(&d);
	return (rc);
}

/* The Subject of the report's mail: the window and the domains' rates. */
static char *
show_mail_subject(const struct show_data *d)
{
	const struct show_table	*t0, *t1;
	char			*s, *n0, *n1, p0[16], p1[16];
	size_t			 i, low = 0;

	if (d->n == 0) {
		xasprintf(&s, "[dmarc-agent] DMARC summary %s to %s: no"
		    " reports", d->from, d->until);
		return (s);
	}
	for (i = 1; i < d->n; i++)	/* the lowest pass rate */
		if (show_num(&d->v[i].sum, 0, SUM_PASS) *
		    show_num(&d->v[low].sum, 0, SUM_MSGS) <
		    show_num(&d->v[low].sum, 0, SUM_PASS) *
		    show_num(&d->v[i].sum, 0, SUM_MSGS))
			low = i;
	t0 = &d->v[d->n > 2 ? low : 0].sum;
	t1 = &d->v[d->n == 2 ? 1 : 0].sum;
	n0 = show_term_clean(show_cell(t0, 0, SUM_DOMAIN), 60);
	n1 = show_term_clean(show_cell(t1, 0, SUM_DOMAIN), 60);
	show_fmt_pct(p0, sizeof p0, show_num(t0, 0, SUM_PASS),
	    show_num(t0, 0, SUM_MSGS));
	show_fmt_pct(p1, sizeof p1, show_num(t1, 0, SUM_PASS),
	    show_num(t1, 0, SUM_MSGS));
	if (d->n == 1)
		xasprintf(&s, "[dmarc-agent] DMARC summary %s to %s: %s %s"
		    " pass", d->from, d->until, n0, p0);
	else if (d->n == 2)
		xasprintf(&s, "[dmarc-agent] DMARC summary %s to %s: %s %s"
		    " pass, %s %s pass", d->from, d->until, n0, p0, n1, p1);
	else
		xasprintf(&s, "[dmarc-agent] DMARC summary %s to %s: %zu"
		    " domains, lowest %s %s pass", d->from, d->until, d->n, n0,
		    p0);
	free(n0);
	free(n1);
	return (s);
}

int
show_mail_render(struct show *s, const struct show_opts *o, char **subject,
    char **text, char **html, char **cause)
{
	struct show_data	 d;
	FILE			*ft, *fh;
	size_t			 lt, lh;
	int			 rc;

	*subject = *text = *html = NULL;
	if (show_exec(s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	    NULL, cause) != 0)
		return (-1);
	rc = show_read(s, o, &d, cause);
	PQclear(PQexec(s->conn, "ROLLBACK"));
	if (rc == 0) {
		if ((ft = open_memstream(text, &lt)) == NULL ||
		    (fh = open_memstream(html, &lh)) == NULL)
			fatal("open_memstream");
		if (show_text(ft, &d, 0) != 0 || show_mail(fh, &d) != 0)
			fatalx("%s: write to memory failed", __func__);
		fclose(ft);
		fclose(fh);
		*subject = show_mail_subject(&d);
	}
	show_data_free(&d);
	return (rc);
}

int
show_main(const char *conninfo, int argc, char **argv)
{
	struct show_opts	 o;
	struct show		*s;
	FILE			*f = stdout;
	char			*cause = NULL;
	const char		*nc;
	int			 rc = 0;

	if (show_args(argc, argv, &o, &cause) != 0) {
		log_warnx("report: %s", cause);
		free(cause);
		fprintf(stderr, "usage: dmarc-agent [-c FILE] report"
		    " [--days N] [--until YYYY-MM-DD] [--domain D]\n"
		    "       [--format text|html|json|mail] [-o FILE]\n");
		return (2);
	}
	nc = getenv("NO_COLOR");
	o.color = o.output == NULL && o.format == SHOW_TEXT &&
	    isatty(STDOUT_FILENO) && (nc == NULL || *nc == '\0');
	if ((s = show_open(conninfo, &cause)) == NULL) {
		log_warnx("report: database: %s", cause);
		free(cause);
		return (1);
	}
	if (o.output != NULL && (f = fopen(o.output, "w")) == NULL) {
		log_warn("report: %s", o.output);
		show_close(s);
		return (1);
	}
	if (show_write(s, &o, f, &cause) != 0) {
		log_warnx("report: %s", cause);
		free(cause);
		rc = 1;
	}
	if (f != stdout && fclose(f) != 0 && rc == 0) {
		log_warn("report: %s", o.output);
		rc = 1;
	}
	if (rc != 0 && f != stdout)
		unlink(o.output);
	show_close(s);
	return (rc);
}

/* Tables ------------------------------------------------------------------ */

/* The cell's text; "" for NULL or out of range. */
const char *
show_cell(const struct show_table *t, size_t r, size_t c)
{
	const char	*v;

	if (r >= t->nrows || c >= t->ncols)
		return ("");
	v = t->cells[r * t->ncols + c];
	return (v != NULL ? v : "");
}

/* The cell as a number; 0 for NULL or text. */
long long
show_num(const struct show_table *t, size_t r, size_t c)
{
	return (strtoll(show_cell(t, r, c), NULL, 10));
}

void
show_table_free(struct show_table *t)
{
	size_t	i;

	if (t->cells != NULL)
		for (i = 0; i < t->nrows * t->ncols; i++)
			free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

/* Formatting -------------------------------------------------------------- */

/* 1234567 as "1,234,567". */
char *
show_fmt_count(char *out, size_t len, long long v)
{
	char		 tmp[32];
	size_t		 n, i, j = 0, lead;
	unsigned long long u;

	u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	n = (size_t)snprintf(tmp, sizeof tmp, "%llu", u);
	if (len < n + n / 3 + 2)
		fatalx("%s: buffer too small", __func__);
	if (v < 0)
		out[j++] = '-';
	lead = n % 3 == 0 ? 3 : n % 3;
	for (i = 0; i < n; i++) {
		if (i > 0 && (i - lead) % 3 == 0 && i >= lead)
			out[j++] = ',';
		out[j++] = tmp[i];
	}
	out[j] = '\0';
	return (out);
}

/*
 * num/den as "97.3%", "-" when den is 0.  Never "100.0%" unless all passed
 * nor "0.0%" unless none did: a rate that rounds there shows 99.9 or 0.1.
 */
char *
show_fmt_pct(char *out, size_t len, long long num, long long den)
{
	long long	t;

	if (den <= 0 || num < 0) {
		snprintf(out, len, "-");
		return (out);
	}
	if (num > den)
		num = den;
	t = (num * 1000 + den / 2) / den;
	if (t == 1000 && num < den)
		t = 999;
	if (t == 0 && num > 0)
		t = 1;
	snprintf(out, len, "%lld.%lld%%", t / 10, t % 10);
	return (out);
}

enum show_level
show_verdict(long long pass, long long total)
{
	if (total <= 0)
		return (SHOW_NODATA);
	if (pass * 100 >= total * 98)
		return (SHOW_HEALTHY);
	if (pass * 10 >= total * 9)
		return (SHOW_ATTENTION);
	return (SHOW_ACTION);
}

/* A verdict in one or two words, also the JSON value. */
const char *
show_level_name(enum show_level l)
{
	switch (l) {
	case SHOW_NODATA:
		return ("no data");
	case SHOW_HEALTHY:
		return ("healthy");
	case SHOW_ATTENTION:
		return ("needs attention");
	case SHOW_ACTION:
		return ("action needed");
	}
	return ("?");
}

/*
 * Split a bar of at most width cells for pass and fail out of max: the
 * length is proportional to pass + fail, and a non-zero part always gets
 * at least one cell (a failure never disappears in rounding).
 */
void
show_bar_split(long long pass, long long fail, long long max, size_t width,
    size_t *np, size_t *nf)
{
	long long	cells, p;

	*np = *nf = 0;
	if (max <= 0 || width == 0 || pass < 0 || fail < 0 ||
	    pass + fail <= 0)
		return;
	if (pass + fail > max)
		max = pass + fail;
	cells = ((pass + fail) * (long long)width + max / 2) / max;
	if (cells < 1)
		cells = 1;
	if (pass > 0 && fail > 0 && cells < 2)
		cells = (long long)width >= 2 ? 2 : 1;
	p = (pass * cells + (pass + fail) / 2) / (pass + fail);
	if (fail > 0 && p == cells && cells > 1)
		p--;
	if (pass > 0 && p == 0 && cells > 1)
		p = 1;
	*np = (size_t)p;
	*nf = (size_t)(cells - p);
}

/* Control characters, C1 controls and bidirectional overrides. */
static int
show_cp_bad(uint32_t c)
{
	return (c < 0x20 || (c >= 0x7f && c < 0xa0) ||
	    c == 0x200e || c == 0x200f || (c >= 0x2028 && c <= 0x202e) ||
	    (c >= 0x2066 && c <= 0x2069) || c == 0xfeff);
}

/* Columns a clean UTF-8 string takes (one per code point). */
size_t
show_term_width(const char *s)
{
	size_t	n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return (n);
}

/*
 * s made safe for a terminal: every control character (ESC included), C1
 * control, bidirectional override and invalid UTF-8 byte becomes '?'.
 * With width > 0, at most width columns: a longer string is cut and ends
 * with '~'.  The caller frees the result.
 */
char *
show_term_clean(const char *s, size_t width)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out, *q;
	size_t			 n, cols = 0, keep = 0;
	uint32_t		 c;

	out = q = xmalloc(strlen(s) + 2);
	while (*p != '\0') {
		n = utf8_decode(p, 4, &c);
		if (width > 0 && cols == width - 1)
			keep = (size_t)(q - out);
		if (width > 0 && cols == width) {
			/* One column too many: cut to width - 1 and '~'. */
			q = out + keep;
			*q++ = '~';
			break;
		}
		if (n == 0 || show_cp_bad(c)) {
			*q++ = '?';
			p += n == 0 ? 1 : n;
		} else {
			memcpy(q, p, n);
			q += n;
			p += n;
		}
		cols++;
	}
	*q = '\0';
	return (out);
}

/*
 * s escaped for HTML text and quoted attributes: & < > " ' as entities,
 * control characters and invalid UTF-8 as U+FFFD (tab, CR and LF as a
 * space).  The caller frees the result.
 */
char *
show_html_esc(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b;
	const char		*rep;
	size_t			 n;
	uint32_t		 c;

	buf_init(&b, SIZE_MAX);
	while (*p != '\0') {
		n = utf8_decode(p, 4, &c);
		rep = NULL;
		if (n == 0)
			rep = "&#xFFFD;";
		else if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"')
			rep = "&quot;";
		else if (c == '\'')
			rep = "&#39;";
		else if (c == '\t' || c == '\r' || c == '\n')
			rep = " ";
		else if (show_cp_bad(c))
			rep = "&#xFFFD;";
		if (rep != NULL)
			buf_add(&b, rep, strlen(rep));
		else
			buf_add(&b, p, n);
		p += n == 0 ? 1 : n;
	}
	return (buf_steal(&b, NULL));
}

/*
 * s as the inside of a JSON string: quote, backslash and control
 * characters escaped, < > & as \u003c etc. (safe inside HTML too), U+2028
 * and U+2029 escaped, invalid UTF-8 as \ufffd.  The caller frees it.
 */
char *
show_json_esc(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b;
	char			 tmp[8];
	size_t			 n;
	uint32_t		 c;

	buf_init(&b, SIZE_MAX);
	while (*p != '\0') {
		n = utf8_decode(p, 4, &c);
		if (n == 0) {
			buf_add(&b, "\\ufffd", 6);
			p++;
			continue;
		}
		if (c == '"' || c == '\\') {
			tmp[0] = '\\';
			tmp[1] = (char)c;
			buf_add(&b, tmp, 2);
		} else if (c == '\n')
			buf_add(&b, "\\n", 2);
		else if (c == '\t')
			buf_add(&b, "\\t", 2);
		else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' ||
		    c == '&' || c == 0x2028 || c == 0x2029) {
			snprintf(tmp, sizeof tmp, "\\u%04x", (unsigned)c);
			buf_add(&b, tmp, 6);
		} else
			buf_add(&b, p, n);
		p += n;
	}
	return (buf_steal(&b, NULL));
}
