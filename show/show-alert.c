/*
 * show-alert.c: the alert rules and what became of their alerts.
 *
 * One evaluation is one transaction under an advisory lock (two agents on
 * one database take turns): each rule that is on runs one query whose rows
 * are the alerts that hold now (rule, policy domain, subject, day,
 * figures), collected in a temporary table; they are upserted into
 * dmarc.alert on (rule, policy_domain, subject, day), and every open alert
 * none of them covers on its day or later is resolved.  The first open row
 * of an episode (no open row of its rule, domain and subject on an earlier
 * day) gets a dmarc.notification row per configured channel, in the same
 * transaction: from then on its delivery is owed until it is made.
 *
 * A delivery takes the due rows of one channel with FOR UPDATE SKIP LOCKED
 * in a transaction that stays open while the caller sends them, and
 * records the outcome there: delivered, or attempts + 1 and a next attempt
 * after a backoff that doubles (retry, 2 retry, 4 retry ... up to an hour).
 * A crash while sending rolls back to "due": the alert is sent again rather
 * than lost.
 *
 * Every value goes to the server as a parameter.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "show/show.h"
#include "show/show_p.h"

#define ALERT_LOCK	"7469311011"	/* the advisory lock's key */
#define ALERT_BATCH	"100"		/* alerts per delivery */
#define ALERT_BACKOFF	"3600"		/* longest wait between attempts */

static const char sql_eval_table[] =
    "CREATE TEMP TABLE alert_eval (rule text, policy_domain text,"
    " subject text, day date, figures jsonb) ON COMMIT DROP";

/* Lists in the figures: at most 5 values, sorted. */
#define LIST5(x) "to_jsonb((array_agg(DISTINCT " x " ORDER BY " x "))[1:5])"

/*
 * new_failing_source: $1 first day, $2 last day, $3 failing messages in
 * a day, $4 seconds a report waits for its addresses' enrichment.
 */
static const char sql_rule_nfs[] =
    "INSERT INTO alert_eval SELECT 'new_failing_source', v.policy_domain,"
    " v.sender_kind || ':' || v.sender_value, v.report_day,"
    " jsonb_build_object('kind', v.sender_kind, 'value', v.sender_value,"
    " 'messages', sum(v.message_count),"
    " 'dmarc_pass', coalesce(sum(v.message_count) FILTER"
    " (WHERE v.dmarc_pass), 0),"
    " 'dmarc_fail', coalesce(sum(v.message_count) FILTER"
    " (WHERE NOT v.dmarc_pass), 0),"
    " 'rejected', coalesce(sum(v.message_count) FILTER"
    " (WHERE NOT v.dmarc_pass AND v.disposition = 'reject'), 0),"
    " 'quarantined', coalesce(sum(v.message_count) FILTER"
    " (WHERE NOT v.dmarc_pass AND v.disposition = 'quarantine'), 0),"
    " 'threshold', $3::int,"
    " 'ips', " LIST5("host(v.source_ip)") ","
    " 'header_from', " LIST5("v.header_from") ","
    " 'reporters', " LIST5("v.reporter_key") ","
    " 'policy', max(v.policy_p))"
    " FROM dmarc.v_sender_record v"
    " WHERE v.report_day BETWEEN $1::date AND $2::date"
    " AND v.approved_pk IS NULL"
    " AND NOT ($4::int > 0 AND coalesce(v.lookup_status, 'pending') ="
    " 'pending' AND v.report_stored > now() - make_interval(secs =>"
    " $4::int))"
    " GROUP BY v.policy_domain, v.sender_kind, v.sender_value, v.report_day"
    " HAVING coalesce(sum(v.message_count) FILTER"
    " (WHERE NOT v.dmarc_pass), 0) >= $3::int";

/* The raw results of the failing records of a group, as text. */
#define FAILING_DKIM \
    "(SELECT string_agg(DISTINCT coalesce(k.domain, '?') || '/' ||" \
    " coalesce(k.selector, '-') || '=' || coalesce(k.result, k.result_raw," \
    " '?'), ' ') FROM dmarc.record_dkim k WHERE k.record_pk = ANY" \
    " (array_agg(v.record_pk) FILTER (WHERE NOT v.dmarc_pass)))"
#define FAILING_SPF \
    "(SELECT string_agg(DISTINCT coalesce(s.domain, '?') || '=' ||" \
    " coalesce(s.result, s.result_raw, '?'), ' ') FROM dmarc.record_spf s" \
    " WHERE s.record_pk = ANY (array_agg(v.record_pk) FILTER" \
    " (WHERE NOT v.dmarc_pass)))"

/*
 * approved_sender_failing: $1 first day, $2 last day, $3 messages in a
 * day at least, $4 the pass rate (percent) it must not fall under.
 */
static const char sql_rule_asf[] =
    "INSERT INTO alert_eval SELECT 'approved_sender_failing',"
    " v.policy_domain, a.kind || ':' || a.value, v.report_day,"
    " jsonb_build_object('kind', a.kind, 'value', a.value, 'note', a.note,"
    " 'messages', sum(v.message_count),"
    " 'dmarc_pass', coalesce(sum(v.message_count) FILTER"
    " (WHERE v.dmarc_pass), 0),"
    " 'dmarc_fail', coalesce(sum(v.message_count) FILTER"
    " (WHERE NOT v.dmarc_pass), 0),"
    " 'pass_rate', round(100.0 * coalesce(sum(v.message_count) FILTER"
    " (WHERE v.dmarc_pass), 0) / sum(v.message_count), 1),"
    " 'threshold', $4::int, 'min_messages', $3::int,"
    " 'dkim_aligned_pass', coalesce(sum(v.message_count) FILTER"
    " (WHERE v.dkim_aligned = 'pass'), 0),"
    " 'spf_aligned_pass', coalesce(sum(v.message_count) FILTER"
    " (WHERE v.spf_aligned = 'pass'), 0),"
    " 'dkim', " FAILING_DKIM ", 'spf', " FAILING_SPF ","
    " 'ips', " LIST5("host(v.source_ip)") ","
    " 'reporters', " LIST5("v.reporter_key") ","
    " 'policy', max(v.policy_p))"
    " FROM dmarc.v_sender_record v"
    " JOIN dmarc.approved_sender a ON a.id = v.approved_pk"
    " WHERE v.report_day BETWEEN $1::date AND $2::date"
    " GROUP BY v.policy_domain, a.id, v.report_day"
    " HAVING sum(v.message_count) >= $3::int AND 100.0 *"
    " coalesce(sum(v.message_count) FILTER (WHERE v.dmarc_pass), 0) <"
    " $4::int * sum(v.message_count)";

/*
 * pass_rate_drop: $1 first day, $2 last day, $3 points under the median,
 * $4 messages in the day at least, $5 days of history; the median needs
 * half of them with mail.
 */
static const char sql_rule_prd[] =
    "INSERT INTO alert_eval"
    " WITH d AS (SELECT v.policy_domain AS dom, v.day, sum(v.messages) AS m,"
    " sum(v.dmarc_pass) AS p FROM dmarc.v_daily_volume v"
    " WHERE v.day BETWEEN $1::date - $5::int AND $2::date GROUP BY 1, 2)"
    " SELECT 'pass_rate_drop', d.dom, '', d.day,"
    " jsonb_build_object('messages', d.m, 'dmarc_pass', d.p,"
    " 'dmarc_fail', d.m - d.p, 'pass_rate', round(100.0 * d.p / d.m, 1),"
    " 'median', round(h.med::numeric, 1), 'points', $3::int,"
    " 'drop', round(h.med::numeric - 100.0 * d.p / d.m, 1),"
    " 'history_days', h.n, 'min_messages', $4::int)"
    " FROM d CROSS JOIN LATERAL (SELECT percentile_cont(0.5) WITHIN GROUP"
    " (ORDER BY 100.0 * d2.p / d2.m) AS med, count(*) AS n FROM d d2"
    " WHERE d2.dom = d.dom AND d2.day BETWEEN d.day - $5::int AND d.day - 1"
    " AND d2.m > 0) h"
    " WHERE d.day BETWEEN $1::date AND $2::date AND d.m >= $4::int"
    " AND h.n * 2 >= $5::int AND 100.0 * d.p / d.m < h.med - $3::int";

/*
 * silent_reporter: $1 the last day, $2 days without a report.  A reporter
 * "sent daily" when its reports began on at least 6 of the 7 days up to
 * its last one; it is silent when the days after that one, up to the day
 * before $1 (a day's report comes the day after), number $2 or more.
 */
static const char sql_rule_sr[] =
    "INSERT INTO alert_eval"
    " WITH r AS (SELECT p.reporter_key, p.policy_domain, p.org_name,"
    " p.date_end, (p.date_begin AT TIME ZONE 'UTC')::date AS day"
    " FROM dmarc.report p"
    " WHERE (p.date_begin AT TIME ZONE 'UTC')::date <= $1::date),"
    " l AS (SELECT reporter_key, policy_domain, max(day) AS last,"
    " (array_agg(org_name ORDER BY date_end DESC))[1] AS org"
    " FROM r GROUP BY 1, 2)"
    " SELECT 'silent_reporter', l.policy_domain, l.reporter_key,"
    " l.last + 1, jsonb_build_object('reporter', l.reporter_key,"
    " 'org_name', l.org, 'last_day', l.last,"
    " 'silent_days', $1::date - l.last - 1, 'threshold', $2::int,"
    " 'days_in_week', w.n)"
    " FROM l CROSS JOIN LATERAL (SELECT count(DISTINCT r.day) AS n FROM r"
    " WHERE r.reporter_key = l.reporter_key"
    " AND r.policy_domain = l.policy_domain"
    " AND r.day BETWEEN l.last - 6 AND l.last) w"
    " WHERE w.n >= 6 AND $1::date - l.last - 1 >= $2::int";

/* mailbox_failing: $1 polls failing in a row, $2 the mailboxes (text[]). */
static const char sql_rule_mf[] =
    "INSERT INTO alert_eval SELECT 'mailbox_failing', '', h.mailbox,"
    " coalesce((SELECT min(r.started_at AT TIME ZONE 'UTC')::date"
    " FROM dmarc.ingest_run r WHERE r.mailbox = h.mailbox AND NOT r.ok"
    " AND r.started_at > coalesce(h.last_success, '-infinity')),"
    " (h.last_poll AT TIME ZONE 'UTC')::date),"
    " jsonb_build_object('mailbox', h.mailbox,"
    " 'polls', h.polls_failing_in_row, 'threshold', $1::int,"
    " 'last_error', h.last_error, 'last_success',"
    " to_char(h.last_success AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'))"
    " FROM dmarc.v_mailbox_health h"
    " WHERE h.polls_failing_in_row >= $1::int"
    " AND h.mailbox = ANY ($2::text[])";

/* Record what holds; the rows written, new ones first. */
static const char sql_upsert[] =
    "WITH up AS (INSERT INTO dmarc.alert AS a"
    " (rule, policy_domain, subject, day, figures)"
    " SELECT rule, policy_domain, subject, day, figures FROM alert_eval"
    " ON CONFLICT (rule, policy_domain, subject, day) DO UPDATE"
    " SET figures = EXCLUDED.figures, last_seen = now(), resolved_at = NULL"
    " RETURNING a.rule, a.policy_domain, a.subject, a.day, (xmax = 0) AS n)"
    " SELECT CASE WHEN n THEN 'new' ELSE 'open' END, rule, policy_domain,"
    " subject, day::text FROM up ORDER BY n DESC, 3, 2, 4, 5";

/* Resolve what no longer holds on its day or later. */
static const char sql_resolve[] =
    "WITH r AS (UPDATE dmarc.alert a SET resolved_at = now()"
    " WHERE a.resolved_at IS NULL AND NOT EXISTS (SELECT 1 FROM alert_eval e"
    " WHERE e.rule = a.rule AND e.policy_domain = a.policy_domain"
    " AND e.subject = a.subject AND e.day >= a.day)"
    " RETURNING a.rule, a.policy_domain, a.subject, a.day)"
    " SELECT 'resolved', rule, policy_domain, subject, day::text FROM r"
    " ORDER BY 3, 2, 4, 5";

/* An episode's first open row owes a delivery on each channel ($1). */
static const char sql_owe[] =
    "INSERT INTO dmarc.notification (alert_pk, channel)"
    " SELECT a.id, c FROM dmarc.alert a CROSS JOIN unnest($1::text[]) c"
    " WHERE a.resolved_at IS NULL AND a.notified_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM dmarc.alert b WHERE b.rule = a.rule"
    " AND b.policy_domain = a.policy_domain AND b.subject = a.subject"
    " AND b.day < a.day AND b.resolved_at IS NULL)"
    " ON CONFLICT DO NOTHING";

/* The due deliveries of channel $1, locked (ALT_* columns). */
static const char sql_due[] =
    "SELECT a.id::text, a.rule, a.policy_domain, a.subject, a.day::text,"
    " to_char(a.first_seen AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " a.figures::text,"
    " (SELECT max(b.day) FROM dmarc.alert b WHERE b.rule = a.rule"
    " AND b.policy_domain = a.policy_domain AND b.subject = a.subject"
    " AND b.day >= a.day AND b.resolved_at IS NULL)::text,"
    " f->>'kind', f->>'value', f->>'note', f->>'messages', f->>'dmarc_pass',"
    " f->>'dmarc_fail', f->>'rejected', f->>'quarantined', f->>'pass_rate',"
    " f->>'threshold', f->>'median', f->>'history_days', f->>'min_messages',"
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text(f->'ips')),"
    " ' '),"
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text("
    " f->'header_from')), ', '),"
    " array_to_string(ARRAY(SELECT jsonb_array_elements_text("
    " f->'reporters')), ', '),"
    " f->>'policy', f->>'dkim', f->>'spf', f->>'dkim_aligned_pass',"
    " f->>'spf_aligned_pass', f->>'org_name', f->>'last_day',"
    " f->>'silent_days', f->>'days_in_week', f->>'polls',"
    " f->>'last_error', f->>'last_success'"
    " FROM dmarc.notification n JOIN dmarc.alert a ON a.id = n.alert_pk,"
    " LATERAL (SELECT a.figures AS f) x"
    " WHERE n.channel = $1 AND n.delivered_at IS NULL"
    " AND n.next_attempt <= now() AND a.resolved_at IS NULL"
    " ORDER BY a.policy_domain, a.rule, a.day, a.id LIMIT " ALERT_BATCH
    " FOR UPDATE OF n SKIP LOCKED";

/* $1 channel, $2 the alerts (bigint[]), $3 every configured channel. */
static const char sql_delivered[] =
    "WITH d AS (UPDATE dmarc.notification SET delivered_at = now(),"
    " last_error = NULL WHERE channel = $1 AND alert_pk = ANY ($2::bigint[])"
    " RETURNING alert_pk)"
    " UPDATE dmarc.alert a SET notified_at = now()"
    " WHERE a.id IN (SELECT alert_pk FROM d) AND a.notified_at IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM dmarc.notification n"
    " WHERE n.alert_pk = a.id AND n.channel <> $1"
    " AND n.channel = ANY ($3::text[]) AND n.delivered_at IS NULL)";

/* $1 channel, $2 the alerts, $3 why, $4 first retry (seconds). */
static const char sql_failed[] =
    "UPDATE dmarc.notification SET attempts = attempts + 1,"
    " last_error = $3, next_attempt = now() + make_interval(secs =>"
    " least($4::float8 * 2 ^ attempts, " ALERT_BACKOFF "))"
    " WHERE channel = $1 AND alert_pk = ANY ($2::bigint[])";

/* Seconds until the next delivery owed on channels $1 is due. */
static const char sql_next[] =
    "SELECT ceil(extract(epoch FROM min(n.next_attempt) - now()))::bigint"
    " FROM dmarc.notification n"
    " JOIN dmarc.alert a ON a.id = n.alert_pk"
    " WHERE n.delivered_at IS NULL AND a.resolved_at IS NULL"
    " AND n.channel = ANY ($1::text[])";

const char *const show_rule_names[SHOW_NRULES] = {
	"new_failing_source", "approved_sender_failing", "pass_rate_drop",
	"silent_reporter", "mailbox_failing"
};

struct show_alerts {
	struct show_table	 t;		/* ALT_* columns */
	char			*channel;
	char			*ids;		/* the ids as a bigint[] literal */
};

static const struct show_col alert_cols[ALT_NCOLS] = {
	{ "id", SHOW_INT }, { "rule", SHOW_STR },
	{ "policy_domain", SHOW_STR }, { "subject", SHOW_STR },
	{ "day", SHOW_STR }, { "first_seen", SHOW_STR },
	{ "figures", SHOW_STR }, { "through", SHOW_STR },
	{ "kind", SHOW_STR }, { "value", SHOW_STR }, { "note", SHOW_STR },
	{ "messages", SHOW_INT }, { "dmarc_pass", SHOW_INT },
	{ "dmarc_fail", SHOW_INT }, { "rejected", SHOW_INT },
	{ "quarantined", SHOW_INT }, { "pass_rate", SHOW_STR },
	{ "threshold", SHOW_STR }, { "median", SHOW_STR },
	{ "history_days", SHOW_INT }, { "min_messages", SHOW_INT },
	{ "ips", SHOW_STR }, { "header_from", SHOW_STR },
	{ "reporters", SHOW_STR }, { "policy", SHOW_STR },
	{ "dkim", SHOW_STR }, { "spf", SHOW_STR },
	{ "dkim_aligned_pass", SHOW_INT }, { "spf_aligned_pass", SHOW_INT },
	{ "org_name", SHOW_STR }, { "last_day", SHOW_STR },
	{ "silent_days", SHOW_INT }, { "days_in_week", SHOW_INT },
	{ "polls", SHOW_INT }, { "last_error", SHOW_STR },
	{ "last_success", SHOW_STR }
};

static const struct show_col list_cols[] = {
	{ "state", SHOW_STR }, { "rule", SHOW_STR },
	{ "policy_domain", SHOW_STR }, { "subject", SHOW_STR },
	{ "day", SHOW_STR }
};

static int	alert_rule(struct show *, enum show_rule,
		    const struct show_rules *, const char *, char **);
static int	alert_list(struct show *, const char *, const char *, FILE *,
		    struct show_alert_counts *, char **);
static char	*alert_array(const char *const *, size_t);
static int	alert_cmd(struct show *, const char *, int,
		    const char *const *, char **);

/* A text[] literal of the strings, each quoted. */
static char *
alert_array(const char *const *v, size_t n)
{
	struct buf	 b;
	const char	*p;
	size_t		 i;

	buf_init(&b, SIZE_MAX - 1);	/* bounded by the configuration */
	buf_add(&b, "{", 1);
	for (i = 0; i < n; i++) {
		buf_add(&b, i > 0 ? ",\"" : "\"", i > 0 ? 2 : 1);
		for (p = v[i]; *p != '\0'; p++) {
			if (*p == '"' || *p == '\\')
				buf_add(&b, "\\", 1);
			buf_add(&b, p, 1);
		}
		buf_add(&b, "\"", 1);
	}
	buf_add(&b, "}", 1);
	return (buf_steal(&b, NULL));
}

/* A statement that returns no rows. */
static int
alert_cmd(struct show *s, const char *sql, int n, const char *const *p,
    char **cause)
{
	PGresult	*res;
	char		*m;

	res = PQexecParams(s->conn, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK) {
		PQclear(res);
		return (0);
	}
	m = show_pq_cause(s->conn, res);
	xasprintf(cause, "%s", m);
	free(m);
	PQclear(res);
	return (-1);
}

/* Run one rule into alert_eval. */
static int
alert_rule(struct show *s, enum show_rule rule, const struct show_rules *r,
    const char *from, char **cause)
{
	const char	*p[5];
	char		 a[16], b[16], c[16], d[16];
	char		*mbs, *why = NULL;
	int		 rc;

	p[0] = from;
	p[1] = r->until;
	switch (rule) {
	case SHOW_RULE_NFS:
		snprintf(a, sizeof a, "%d", r->nfs_min);
		snprintf(b, sizeof b, "%d", r->hold);
		p[2] = a;
		p[3] = b;
		rc = alert_cmd(s, sql_rule_nfs, 4, p, &why);
		break;
	case SHOW_RULE_ASF:
		snprintf(a, sizeof a, "%d", r->asf_min);
		snprintf(b, sizeof b, "%d", r->asf_rate);
		p[2] = a;
		p[3] = b;
		rc = alert_cmd(s, sql_rule_asf, 4, p, &why);
		break;
	case SHOW_RULE_PRD:
		snprintf(a, sizeof a, "%d", r->prd_points);
		snprintf(b, sizeof b, "%d", r->prd_min);
		snprintf(c, sizeof c, "%d", r->prd_history);
		p[2] = a;
		p[3] = b;
		p[4] = c;
		rc = alert_cmd(s, sql_rule_prd, 5, p, &why);
		break;
	case SHOW_RULE_SR:
		snprintf(a, sizeof a, "%d", r->sr_days);
		p[0] = r->until;
		p[1] = a;
		rc = alert_cmd(s, sql_rule_sr, 2, p, &why);
		break;
	case SHOW_RULE_MF:
		snprintf(d, sizeof d, "%d", r->mf_polls);
		mbs = alert_array(r->mailboxes, r->nmailboxes);
		p[0] = d;
		p[1] = mbs;
		rc = alert_cmd(s, sql_rule_mf, 2, p, &why);
		free(mbs);
		break;
	default:
		fatalx("%s: rule %d", __func__, rule);
	}
	if (rc != 0) {
		xasprintf(cause, "rule %s: %s", show_rule_names[rule], why);
		free(why);
	}
	return (rc);
}

/* Print the rows of sql (state, rule, domain, subject, day) and count. */
static int
alert_list(struct show *s, const char *what, const char *sql, FILE *out,
    struct show_alert_counts *n, char **cause)
{
	struct show_table	 t;
	const char		*st;
	size_t			 r;

	if (show_query(s, what, sql, NULL, 0, list_cols, 5, &t, cause) != 0)
		return (-1);
	for (r = 0; r < t.nrows; r++) {
		st = show_cell(&t, r, 0);
		if (*st == 'n')
			n->fresh++;
		else if (*st == 'o')
			n->open++;
		else
			n->resolved++;
		if (out == NULL)
			continue;
		fprintf(out, "%-8s %-23s ", st, show_cell(&t, r, 1));
		show_text_value(out, *show_cell(&t, r, 2) != '\0' ?
		    show_cell(&t, r, 2) : "-", 24);
		fputc(' ', out);
		show_text_value(out, *show_cell(&t, r, 3) != '\0' ?
		    show_cell(&t, r, 3) : "-", 40);
		fprintf(out, " %s\n", show_cell(&t, r, 4));
	}
	show_table_free(&t);
	return (0);
}

int
show_alerts_evaluate(struct show *s, const struct show_rules *r,
    const char *const *channels, size_t nch, int dry_run, FILE *out,
    struct show_alert_counts *n, char **cause)
{
	const char	*p[1];
	char		 from[11], *chs;
	long		 until;
	int		 i, rc = -1;

	memset(n, 0, sizeof *n);
	if (!s->has_senders) {
		xasprintf(cause, "the database schema has no alerts yet: run"
		    " dmarc-agent migrate");
		return (-1);
	}
	if (show_parse_day(r->until, &until) != 0 || r->days < 1)
		fatalx("%s: bad window", __func__);
	show_format_day(until - r->days + 1, from);
	if (show_exec(s, "BEGIN", NULL, cause) != 0)
		return (-1);
	if (show_exec(s, "SELECT pg_catalog.pg_advisory_xact_lock("
	    ALERT_LOCK ")", NULL, cause) != 0 ||
	    show_exec(s, sql_eval_table, NULL, cause) != 0)
		goto out;
	for (i = 0; i < SHOW_NRULES; i++)
		if (r->on[i] && alert_rule(s, i, r, from, cause) != 0)
			goto out;
	if (alert_list(s, "record alerts", sql_upsert, out, n, cause) != 0 ||
	    alert_list(s, "resolve alerts", sql_resolve, out, n, cause) != 0)
		goto out;
	chs = alert_array(channels, nch);
	p[0] = chs;
	rc = alert_cmd(s, sql_owe, 1, p, cause);
	free(chs);
out:
	if (rc == 0 && !dry_run)
		rc = show_exec(s, "COMMIT", NULL, cause);
	else
		PQclear(PQexec(s->conn, "ROLLBACK"));
	return (rc);
}

/*
 * Deliveries --------------------------------------------------------------
 */

int
show_alerts_due(struct show *s, const char *channel,
    struct show_alerts **out, char **cause)
{
	struct show_alerts	*a;
	struct buf		 b;
	const char		*p[1] = { channel };
	size_t			 r;

	*out = NULL;
	if (show_exec(s, "BEGIN", NULL, cause) != 0)
		return (-1);
	a = xcalloc(1, sizeof *a);
	if (show_query(s, "due alerts", sql_due, p, 1, alert_cols,
	    ALT_NCOLS, &a->t, cause) != 0) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
		show_alerts_free(a);
		return (-1);
	}
	if (a->t.nrows == 0) {
		PQclear(PQexec(s->conn, "ROLLBACK"));
		show_alerts_free(a);
		return (0);
	}
	buf_init(&b, SIZE_MAX - 1);	/* ALERT_BATCH numbers */
	buf_add(&b, "{", 1);
	for (r = 0; r < a->t.nrows; r++) {
		if (r > 0)
			buf_add(&b, ",", 1);
		buf_add(&b, show_cell(&a->t, r, ALT_ID),
		    strlen(show_cell(&a->t, r, ALT_ID)));
	}
	buf_add(&b, "}", 1);
	a->ids = buf_steal(&b, NULL);
	a->channel = xstrdup(channel);
	*out = a;
	return (0);
}

int
show_alerts_done(struct show *s, struct show_alerts *a, const char *error,
    int retry, const char *const *channels, size_t nch, char **cause)
{
	const char	*p[4];
	char		*chs, sec[16];
	int		 rc;

	p[0] = a->channel;
	p[1] = a->ids;
	if (error == NULL) {
		chs = alert_array(channels, nch);
		p[2] = chs;
		rc = alert_cmd(s, sql_delivered, 3, p, cause);
		free(chs);
	} else {
		snprintf(sec, sizeof sec, "%d", retry);
		p[2] = error;
		p[3] = sec;
		rc = alert_cmd(s, sql_failed, 4, p, cause);
	}
	if (rc == 0)
		rc = show_exec(s, "COMMIT", NULL, cause);
	else
		PQclear(PQexec(s->conn, "ROLLBACK"));
	show_alerts_free(a);
	return (rc);
}

int
show_alerts_next(struct show *s, const char *const *channels, size_t nch,
    long *secs, char **cause)
{
	struct show_table	 t;
	static const struct show_col col[] = { { "next", SHOW_INT } };
	const char		*p[1];
	char			*chs;
	int			 rc;

	*secs = -1;
	chs = alert_array(channels, nch);
	p[0] = chs;
	rc = show_query(s, "next delivery", sql_next, p, 1, col, 1, &t, cause);
	free(chs);
	if (rc != 0)
		return (-1);
	if (t.nrows == 1 && *show_cell(&t, 0, 0) != '\0') {
		*secs = (long)show_num(&t, 0, 0);
		if (*secs < 0)
			*secs = 0;	/* due now */
	}
	show_table_free(&t);
	return (0);
}

size_t
show_alerts_count(const struct show_alerts *a)
{
	return (a->t.nrows);
}

const struct show_table *
show_alerts_table(const struct show_alerts *a)
{
	return (&a->t);
}

void
show_alerts_free(struct show_alerts *a)
{
	if (a == NULL)
		return;
	show_table_free(&a->t);
	free(a->channel);
	free(a->ids);
	free(a);
}
