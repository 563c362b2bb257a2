/*
 * show-senders.c: who sends in a policy domain's name, and which of them
 * its owner approved: the `senders` command and the report's senders
 * table.
 *
 * A sender is what dmarc.v_sender_record (schema 11) says a record came
 * from: an approved sender it matches, else its best identity (the base
 * domain DKIM or SPF authenticated, a source_map name, the base domain of
 * a confirmed reverse DNS name, an AS number, an address).  The identity is
 * shown in the form dmarc.approved_sender takes, so that what the listing
 * shows can be approved as it is.  Approving and unapproving write that
 * one table; everything else here reads.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <strings.h>
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

#define SENDERS_MAX	200	/* rows per domain */

const char show_senders_usage[] =
    "  senders [--domain D] [--days N] [--until YYYY-MM-DD]\n"
    "          [--format text|json]\n"
    "                      senders seen per domain, approved or not\n"
    "  senders approve DOMAIN KIND VALUE [--note TEXT]\n"
    "  senders unapprove DOMAIN KIND VALUE\n"
    "                      KIND: domain, ptr, name, asn or cidr\n";

const struct show_col show_cols_senders[] = {
	{ "kind", SHOW_STR }, { "value", SHOW_STR },
	{ "approved", SHOW_STR }, { "note", SHOW_STR },
	{ "messages", SHOW_INT }, { "dmarc_pass", SHOW_INT },
	{ "dmarc_fail", SHOW_INT }, { "sources", SHOW_INT },
	{ "first_day", SHOW_STR }, { "last_day", SHOW_STR }
};

/*
 * $1 first day, $2 last day, $3 the policy domain.  Each sender of the
 * window once (dmarc.senders_window, schema 16: from the rollup, each
 * pair of results read once, counting what authenticity_setting counts),
 * and the approved senders without mail.
 */
static const char sql_senders[] =
    "WITH s AS (SELECT sender_kind, sender_value, approved_pk,"
    " messages AS m, dmarc_pass AS p, sources AS n, first_day AS d0,"
    " last_day AS d1 FROM dmarc.senders_window($1::date, $2::date,"
    " ARRAY[$3::text])),"
    " a AS (SELECT * FROM dmarc.approved_sender WHERE policy_domain = $3),"
    " j AS (SELECT coalesce(a.kind, s.sender_kind) AS kind,"
    " coalesce(a.value, s.sender_value) AS value, a.id IS NOT NULL AS ok,"
    " a.note, coalesce(s.m, 0) AS m, coalesce(s.p, 0) AS p,"
    " coalesce(s.m - s.p, 0) AS f, coalesce(s.n, 0) AS n, s.d0, s.d1"
    " FROM s FULL JOIN a ON a.id = s.approved_pk)"
    " SELECT kind, value, CASE WHEN ok THEN 'yes' ELSE 'no' END, note, m, p,"
    " f, n, d0::text, d1::text FROM j"
    " ORDER BY CASE WHEN NOT ok AND f > 0 THEN 0 WHEN f > 0 THEN 1 ELSE 2"
    " END, f DESC, m DESC, kind, value LIMIT 200";

/* The policy domains with mail in [$1, $2] or an approved sender. */
static const char sql_sender_domains[] =
    "SELECT d FROM (SELECT policy_domain AS d FROM dmarc.record"
    " WHERE report_day BETWEEN $1::date AND $2::date"
    " UNION SELECT policy_domain FROM dmarc.approved_sender) x"
    " WHERE $3::text IS NULL OR d = $3 ORDER BY 1 LIMIT 100";

/* $1 domain, $2 kind, $3 value, $4 note, $5 by whom. */
static const char sql_approve[] =
    "INSERT INTO dmarc.approved_sender AS a"
    " (policy_domain, kind, value, note, approved_by)"
    " VALUES ($1, $2, CASE WHEN $2 = 'cidr' THEN $3::text::cidr::text"
    " ELSE $3::text END, $4, $5)"
    " ON CONFLICT (policy_domain, kind, value) DO UPDATE"
    " SET note = coalesce(EXCLUDED.note, a.note)"
    " RETURNING a.id, a.value, (xmax = 0)";

/*
 * What an approval covers: messages of the last 30 days, failing ones
 * ($1 the approved sender, $2 its policy domain; from the rollup, as the
 * listing).
 */
static const char sql_approved_mail[] =
    "SELECT coalesce(sum(w.messages), 0), coalesce(sum(w.dmarc_fail), 0),"
    " (SELECT count(*) FROM (SELECT 1 FROM dmarc.record"
    " WHERE policy_domain = $2 LIMIT 1) x)"
    " FROM dmarc.senders_window((now() AT TIME ZONE 'UTC')::date - 29,"
    " 'infinity', ARRAY[$2::text]) w WHERE w.approved_pk = $1::bigint";

static const char sql_unapprove[] =
    "DELETE FROM dmarc.approved_sender WHERE policy_domain = $1"
    " AND kind = $2 AND value ="
    " CASE WHEN $2 = 'cidr' THEN $3::text::cidr::text ELSE $3::text"
    " END"
    " RETURNING value";

struct senders_args {
	struct show_opts	 o;
	const char		*note;
};

static int	senders_args(int, char **, int, struct senders_args *,
		    char **);
static int	senders_list(struct show *, const struct show_opts *, FILE *,
		    char **);
static int	senders_change(struct show *, int, char **, const char *,
		    char **);
static int	senders_approve(struct show *, const char *, const char *,
		    const char *, const char *, char **);
static int	senders_unapprove(struct show *, const char *, const char *,
		    const char *, char **);
static int	senders_params(PGresult **, struct show *, const char *,
		    int, const char *const *, char **);
static char	*senders_login(void);

int
show_senders_read(struct show *s, const char *from, const char *until,
    const char *domain, struct show_table *t, char **cause)
{
	const char	*p[3] = { from, until, domain };

	return (show_query(s, "senders", sql_senders, p, 3, show_cols_senders,
	    SEND_NCOLS, t, cause));
}

int
show_senders_send(struct show *s, const char *from, const char *until,
    const char *domain, char **cause)
{
	const char	*p[3] = { from, until, domain };

	return (show_query_send(s, "senders", sql_senders, p, 3, cause));
}

int
show_senders_recv(struct show *s, struct show_table *t, char **cause)
{
	return (show_query_recv(s, "senders", show_cols_senders, SEND_NCOLS,
	    t, cause));
}

/*
 * Normalise an approved sender's kind and value as dmarc.approved_sender
 * keeps them: domain and ptr lower-case without dots at the ends, asn the
 * bare number, name as given; cidr is left to the server (its cidr type
 * says what an address range is).  -1 and *cause when it cannot be one.
 */
int
show_sender_norm(const char *kind, const char *value, char **out,
    char **cause)
{
	const unsigned char	*p;
	char			*v, *end;
	size_t			 len;
	unsigned long long	 asn;

	*out = NULL;
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			xasprintf(cause, "the value holds a control character");
			return (-1);
		}
	if (strcmp(kind, "domain") == 0 || strcmp(kind, "ptr") == 0) {
		value += strspn(value, ".");
		len = strlen(value);
		while (len > 0 && value[len - 1] == '.')
			len--;
		v = xstrndup(value, len);
		for (p = (unsigned char *)v; *p != '\0'; p++) {
			if (!isalnum(*p) && *p != '-' && *p != '.' &&
			    *p != '_') {
				free(v);
				xasprintf(cause, "%s: not a domain name", kind);
				return (-1);
			}
			*(unsigned char *)p = (unsigned char)tolower(*p);
		}
		if (*v == '\0' || strstr(v, "..") != NULL) {
			free(v);
			xasprintf(cause, "%s: not a domain name", kind);
			return (-1);
		}
		*out = v;
	} else if (strcmp(kind, "asn") == 0) {
		if (strncasecmp(value, "AS", 2) == 0)
			value += 2;
		errno = 0;
		asn = strtoull(value, &end, 10);
		if (!isdigit((unsigned char)*value) || *end != '\0' ||
		    errno != 0 || asn > UINT32_MAX) {
			xasprintf(cause, "asn: not an AS number");
			return (-1);
		}
		xasprintf(out, "%llu", asn);
	} else if (strcmp(kind, "name") == 0 || strcmp(kind, "cidr") == 0) {
		if (*value == '\0') {
			xasprintf(cause, "%s: empty value", kind);
			return (-1);
		}
		*out = xstrdup(value);
	} else {
		xasprintf(cause, "kind must be domain, ptr, name, asn or cidr");
		return (-1);
	}
	return (0);
}

/*
 * The arguments after "senders" (list) or after "senders approve D K V"
 * (change: only --note).
 */
static int
senders_args(int argc, char **argv, int change, struct senders_args *a,
    char **cause)
{
	char	**rest;
	int	  i, n = 0, rc;

	memset(a, 0, sizeof *a);
	rest = xcalloc((size_t)argc + 1, sizeof *rest);
	for (i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--note") == 0 && change && i + 1 < argc)
			a->note = argv[++i];
		else if (strncmp(argv[i], "--note=", 7) == 0 && change)
			a->note = argv[i] + 7;
		else if (change || strcmp(argv[i], "-o") == 0) {
			xasprintf(cause, "unknown argument \"%.64s\"",
			    argv[i]);
			free(rest);
			return (-1);
		} else
			rest[n++] = argv[i];
	}
	/* The report's options, which are the same; --format html is not. */
	rc = show_args(n, rest, &a->o, cause);
	free(rest);
	if (rc == 0 && a->o.format == SHOW_HTML) {
		xasprintf(cause, "--format: text or json");
		rc = -1;
	}
	return (rc);
}

static int
senders_list(struct show *s, const struct show_opts *o, FILE *f,
    char **cause)
{
	struct show_table	 list, t;
	char			 from[11];
	const char		*p[3];
	long			 until;
	size_t			 i;
	int			 rc = 0;

	if (show_parse_day(o->until, &until) != 0)
		fatalx("%s: bad until", __func__);
	show_format_day(until - o->days + 1, from);
	p[0] = from;
	p[1] = o->until;
	p[2] = o->domain;
	if (show_query(s, "policy domains", sql_sender_domains, p, 3,
	    show_cols_senders, 1, &list, cause) != 0)
		return (-1);
	if (o->format == SHOW_JSON)
		fprintf(f, "{\"from\": \"%s\", \"until\": \"%s\", \"days\": %d,"
		    "\n \"domains\": [", from, o->until, o->days);
	for (i = 0; i < list.nrows && rc == 0; i++) {
		if ((rc = show_senders_read(s, from, o->until,
		    show_cell(&list, i, 0), &t, cause)) != 0)
			break;
		if (o->format == SHOW_JSON)
			show_json_senders(f, i > 0, show_cell(&list, i, 0),
			    &t);
		else {
			fprintf(f, "%sSenders of ", i > 0 ? "\n" : "");
			show_text_value(f, show_cell(&list, i, 0), 40);
			fprintf(f, ", %s to %s (%d days, UTC)\n", from,
			    o->until, o->days);
			show_text_senders(f, &t, o->color);
		}
		show_table_free(&t);
	}
	if (o->format == SHOW_JSON)
		fprintf(f, "]}\n");
	else if (list.nrows == 0)
		fprintf(f, "No senders in %s to %s.\n", from, o->until);
	show_table_free(&list);
	return (rc);
}

/* One parameterised statement; *res is the caller's. */
static int
senders_params(PGresult **res, struct show *s, const char *sql, int n,
    const char *const *p, char **cause)
{
	char	*m;

	*res = PQexecParams(s->conn, sql, n, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(*res) == PGRES_TUPLES_OK)
		return (0);
	m = show_pq_cause(s->conn, *res);
	xasprintf(cause, "%s", m);
	free(m);
	PQclear(*res);
	*res = NULL;
	return (-1);
}

/* Who runs the command, for approved_by. */
static char *
senders_login(void)
{
	struct passwd	*pw;
	char		*who;

	if ((pw = getpwuid(getuid())) != NULL && pw->pw_name != NULL)
		return (xstrdup(pw->pw_name));
	xasprintf(&who, "uid %u", (unsigned)getuid());
	return (who);
}

static int
senders_approve(struct show *s, const char *dom, const char *kind,
    const char *value, const char *note, char **cause)
{
	PGresult	*res, *res2;
	const char	*p[5], *id;
	char		*who, *esc;
	char		 a[32], b[32];
	int		 fresh;

	who = senders_login();
	p[0] = dom;
	p[1] = kind;
	p[2] = value;
	p[3] = note;
	p[4] = who;
	if (senders_params(&res, s, sql_approve, 5, p, cause) != 0) {
		free(who);
		return (-1);
	}
	free(who);
	id = PQgetvalue(res, 0, 0);
	fresh = *PQgetvalue(res, 0, 2) == 't';
	esc = show_term_clean(PQgetvalue(res, 0, 1), 0);
	p[0] = id;
	p[1] = dom;
	if (senders_params(&res2, s, sql_approved_mail, 2, p, cause) != 0) {
		free(esc);
		PQclear(res);
		return (-1);
	}
	printf("%s %s %s for %s: %s messages in the last 30 days, %s failing"
	    " DMARC\n", fresh ? "approved" : "already approved:", kind, esc,
	    dom, show_fmt_count(a, sizeof a, strtoll(PQgetvalue(res2, 0, 0),
	    NULL, 10)), show_fmt_count(b, sizeof b,
	    strtoll(PQgetvalue(res2, 0, 1), NULL, 10)));
	if (strcmp(PQgetvalue(res2, 0, 2), "0") == 0)
		log_warnx("senders: no report names %s yet", dom);
	free(esc);
	PQclear(res2);
	PQclear(res);
	return (0);
}

/* 0 when a row went, 1 when there was none, -1 on failure. */
static int
senders_unapprove(struct show *s, const char *dom, const char *kind,
    const char *value, char **cause)
{
	PGresult	*res;
	const char	*p[3] = { dom, kind, value };
	char		*esc;
	int		 rc;

	if (senders_params(&res, s, sql_unapprove, 3, p, cause) != 0)
		return (-1);
	rc = PQntuples(res) == 1 ? 0 : 1;
	esc = show_term_clean(rc == 0 ? PQgetvalue(res, 0, 0) : value, 0);
	if (rc == 0)
		printf("unapproved %s %s for %s\n", kind, esc, dom);
	else
		log_warnx("senders: %s %s was not approved for %s", kind, esc,
		    dom);
	free(esc);
	PQclear(res);
	return (rc);
}

/* approve|unapprove DOMAIN KIND VALUE; the exit code. */
static int
senders_change(struct show *s, int approve, char **argv, const char *note,
    char **cause)
{
	char	*dom, *value, *why = NULL;
	int	 rc;

	if (show_sender_norm("domain", argv[0], &dom, &why) != 0 ||
	    show_sender_norm(argv[1], argv[2], &value, &why) != 0) {
		free(dom);
		log_warnx("senders: %s", why);
		free(why);
		return (2);
	}
	if (approve)
		rc = senders_approve(s, dom, argv[1], value, note, cause);
	else
		rc = senders_unapprove(s, dom, argv[1], value, cause);
	free(dom);
	free(value);
	return (rc == 0 ? 0 : 1);
}

int
show_senders_main(const char *conninfo, int argc, char **argv)
{
	struct senders_args	 a;
	struct show		*s;
	char			*cause = NULL;
	const char		*nc;
	int			 change = 0, rc;

	if (argc >= 1 && (strcmp(argv[0], "approve") == 0 ||
	    strcmp(argv[0], "unapprove") == 0)) {
		change = argv[0][0] == 'a' ? 1 : -1;
		if (argc < 4 || (change < 0 && argc != 4)) {
			log_warnx("senders: %s needs DOMAIN KIND VALUE",
			    argv[0]);
			fputs("usage: dmarc-agent [-c FILE] COMMAND\n", stderr);
			fputs(show_senders_usage, stderr);
			return (2);
		}
	}
	if (senders_args(change ? argc - 4 : argc, change ? argv + 4 : argv,
	    change, &a, &cause) != 0) {
		log_warnx("senders: %s", cause);
		free(cause);
		fputs("usage: dmarc-agent [-c FILE] COMMAND\n", stderr);
		fputs(show_senders_usage, stderr);
		return (2);
	}
	nc = getenv("NO_COLOR");
	a.o.color = a.o.format == SHOW_TEXT && isatty(STDOUT_FILENO) &&
	    (nc == NULL || *nc == '\0');
	if ((s = show_open(conninfo, &cause)) == NULL) {
		log_warnx("senders: database: %s", cause);
		free(cause);
		return (1);
	}
	if (!s->has_senders) {
		log_warnx("senders: the database schema has no approved"
		    " senders yet: run dmarc-agent migrate");
		show_close(s);
		return (1);
	}
	if (change)
		rc = senders_change(s, change > 0, argv + 1, a.note, &cause);
	else
		rc = senders_list(s, &a.o, stdout, &cause) == 0 ? 0 : 1;
	if (cause != NULL)
		log_warnx("senders: %s", cause);
	free(cause);
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	show_close(s);
	return (rc);
}
