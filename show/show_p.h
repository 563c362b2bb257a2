/*
 * show_p.h: show/ internals, the data one report is written from.
 *
 * show.c runs the queries and keeps each result as a show_table: rows of
 * strings in the column order of the query, with a column list (name and
 * kind) that the JSON writer uses as is.  The renderers (show-text.c,
 * show-html.c, show-json.c) index cells with the column enums below.
 * Nothing here has been escaped: every string came from the database, most
 * of them from a report, and each renderer escapes for its own output.
 */
#ifndef SHOW_P_H
#define SHOW_P_H

#include <stddef.h>
#include <stdio.h>

struct pg_conn;
struct pg_result;
struct show_alerts;

enum show_kind {
	SHOW_STR,
	SHOW_INT
};

struct show_col {
	const char	*name;		/* JSON member name */
	enum show_kind	 kind;
};

/* One query result; cells[row * ncols + col], NULL for SQL NULL. */
struct show_table {
	const struct show_col	*cols;
	size_t			 ncols;
	size_t			 nrows;
	char			**cells;
};

/* Columns of each table, in query order. */
enum { SUM_DOMAIN, SUM_MSGS, SUM_PASS, SUM_FAIL, SUM_DKIM, SUM_SPF,
	SUM_QUAR, SUM_REJ, SUM_SOURCES, SUM_REPORTS, SUM_NCOLS };
/* Who sent the reports (v_authenticity, schema 12). */
enum { AUTH_REPORTS, AUTH_VERIFIED, AUTH_UNVERIFIED, AUTH_FORGED,
	AUTH_MSGS, AUTH_VMSGS, AUTH_COUNTED, AUTH_NCOLS };
extern const struct show_col show_cols_auth[];
enum { DAY_DAY, DAY_MSGS, DAY_PASS, DAY_FAIL, DAY_QUAR, DAY_REJ,
	DAY_NCOLS };
enum { TOP_SOURCE, TOP_NIPS, TOP_IPS, TOP_MSGS, TOP_PASS, TOP_SPF,
	TOP_DKIM, TOP_NCOLS };
enum { FAIL_SOURCE, FAIL_MSGS, FAIL_FAILED, FAIL_FROMS, FAIL_REPORTERS,
	FAIL_NCOLS };
enum { FWD_SOURCE, FWD_FROM, FWD_ENVFROM, FWD_MSGS, FWD_NCOLS };
enum { SPOOF_SOURCE, SPOOF_FROM, SPOOF_MSGS, SPOOF_BLOCKED, SPOOF_NCOLS };
enum { REP_KEY, REP_ORG, REP_REPORTS, REP_MSGS, REP_LAST_END, REP_LAST_ID,
	REP_NCOLS };
enum { DET_SOURCE, DET_KIND, DET_VALUE, DET_MSGS, DET_NCOLS };
enum { TLS_DAY, TLS_SUCCESS, TLS_FAILURE, TLS_NCOLS };
enum { HEALTH_MAILBOX, HEALTH_LAST_OK, HEALTH_FAILING, HEALTH_NCOLS };
enum { SIL_REPORTER, SIL_DOMAIN, SIL_REPORTS, SIL_LAST_END, SIL_LAST_SEEN,
	SIL_DAYS, SIL_NCOLS };
/* show-senders.c: one sender of a policy domain, approved or seen. */
enum { SEND_KIND, SEND_VALUE, SEND_APPROVED, SEND_NOTE, SEND_MSGS,
	SEND_PASS, SEND_FAIL, SEND_SOURCES, SEND_FIRST, SEND_LAST,
	SEND_NCOLS };

/* show-alert.c: an alert due for delivery, its figures taken apart. */
enum { ALT_ID, ALT_RULE, ALT_DOMAIN, ALT_SUBJECT, ALT_DAY, ALT_FIRST_SEEN,
	ALT_FIGURES, ALT_THROUGH, ALT_KIND, ALT_VALUE, ALT_NOTE, ALT_MSGS,
	ALT_PASS, ALT_FAIL, ALT_REJ, ALT_QUAR, ALT_RATE, ALT_THRESHOLD,
	ALT_MEDIAN, ALT_HISTORY, ALT_MIN, ALT_IPS, ALT_FROMS, ALT_REPORTERS,
	ALT_POLICY, ALT_DKIM, ALT_SPF, ALT_DKIM_OK, ALT_SPF_OK, ALT_ORG,
	ALT_LAST_DAY, ALT_SILENT, ALT_WEEK, ALT_POLLS, ALT_ERROR,
	ALT_LAST_OK, ALT_NCOLS };
const struct show_table *show_alerts_table(const struct show_alerts *);

/*
 * The connection, and what the database has (looked up at connect time).
 * libpq's types by their tags, so that this header needs no libpq.
 */
struct show {
	struct pg_conn	*conn;
	int		 enriched;	/* dmarc.ip_info can name sources */
	int		 has_tls;
	int		 has_health;
	int		 has_silent;	/* dmarc.v_silent_reporters */
	int		 has_auth;	/* dmarc.v_authenticity (schema 12) */
	int		 has_senders;	/* dmarc.v_sender_record (schema 11) */
	struct pg_conn	*side;		/* a second session, or NULL */
	char		*conninfo;
	char		*label;		/* SQL: the source name of row s */
	char		*join;		/* SQL: the join label needs */
};

/* Everything shown for one policy domain. */
struct show_domain {
	struct show_table	 sum;		/* one row */
	struct show_table	 daily;		/* every day of the window */
	struct show_table	 top;		/* top 10 sources by volume */
	struct show_table	 failing;	/* top 10 by DMARC failures */
	struct show_table	 fwd;		/* suspected forwarding */
	struct show_table	 spoof;		/* suspected spoofing */
	struct show_table	 reporters;
	struct show_table	 detail;	/* drill-down of the top 10 */
	struct show_table	 tls;		/* TLS reports; empty without */
	struct show_table	 auth;		/* one row; empty without */
	struct show_table	 senders;	/* approval; empty without */
};

/* One report. */
struct show_data {
	char			 from[11];	/* first day, YYYY-MM-DD */
	char			 until[11];	/* last day */
	int			 days;
	const char		*domain;	/* --domain, NULL: all */
	int			 enriched;	/* sources named by ip_info */
	int			 has_tls;	/* TLS report views exist */
	int			 has_health;	/* mailbox health view exists */
	int			 has_silent;	/* v_silent_reporters exists */
	int			 has_auth;	/* v_authenticity exists */
	int			 has_senders;	/* approved senders exist */
	struct show_domain	*v;
	size_t			 n;
	struct show_table	 health;	/* per mailbox */
	struct show_table	 silent;	/* reporters gone silent, as of
						   now (not of the window) */
};

/*
 * How the daily chart and bars group the window's days: by day up to
 * SHOW_BIN_DAYS days, by week (Monday to Sunday) up to SHOW_BIN_WEEKS,
 * by calendar month beyond (a long range would be thin bars otherwise).
 */
enum show_bin {
	SHOW_BIN_DAY,
	SHOW_BIN_WEEK,
	SHOW_BIN_MONTH
};
#define SHOW_BIN_DAYS	90
#define SHOW_BIN_WEEKS	731

/* How healthy a domain is, from its DMARC pass rate. */
enum show_level {
	SHOW_NODATA,
	SHOW_HEALTHY,		/* 98% or more pass */
	SHOW_ATTENTION,		/* 90% to 98% */
	SHOW_ACTION		/* under 90% */
};

extern const struct show_col show_cols_sum[], show_cols_day[],
	show_cols_top[], show_cols_fail[], show_cols_fwd[],
	show_cols_spoof[], show_cols_rep[], show_cols_det[],
	show_cols_tls[], show_cols_health[], show_cols_silent[],
	show_cols_senders[];

/*
 * show.c: the connection's helpers for the other files.  show_exec runs
 * fixed SQL (*resp, when not NULL, is the caller's to PQclear);
 * show_query runs one parameterised query into t, which must have ncols
 * columns (free with show_table_free, also after a failure);
 * show_pq_cause is libpq's message on one line, escaped (the caller frees
 * it).
 */
int		 show_exec(struct show *, const char *, struct pg_result **,
		    char **);
int		 show_query(struct show *, const char *, const char *,
		    const char *const *, int, const struct show_col *, size_t,
		    struct show_table *, char **);
char		*show_pq_cause(struct pg_conn *, struct pg_result *);
int		 show_query_send(struct show *, const char *, const char *,
		    const char *const *, int, char **);
int		 show_query_recv(struct show *, const char *,
		    const struct show_col *, size_t, struct show_table *,
		    char **);

/*
 * show-senders.c: the senders of one policy domain over [$1, $2], approved
 * ones without mail included, unapproved failing ones first, then approved
 * failing ones, then the rest by volume (SEND_* columns).
 */
int		 show_senders_read(struct show *, const char *, const char *,
		    const char *, struct show_table *, char **);
/* The same on the side session: started, then read (show_query_send). */
int		 show_senders_send(struct show *, const char *, const char *,
		    const char *, char **);
int		 show_senders_recv(struct show *, struct show_table *, char **);

/* show.c: table access and pure helpers (tests/unit/tst_show.c). */
const char	*show_cell(const struct show_table *, size_t, size_t);
long long	 show_num(const struct show_table *, size_t, size_t);
void		 show_table_free(struct show_table *);
char		*show_fmt_count(char *, size_t, long long);
char		*show_fmt_pct(char *, size_t, long long, long long);
enum show_level	 show_verdict(long long, long long);
const char	*show_level_name(enum show_level);
void		 show_bar_split(long long, long long, long long, size_t,
		    size_t *, size_t *);
char		*show_term_clean(const char *, size_t);
size_t		 show_term_width(const char *);
char		*show_html_esc(const char *);
char		*show_json_esc(const char *);
int		 show_parse_day(const char *, long *);
void		 show_format_day(long, char *);
enum show_bin	 show_bin_for(int);
const char	*show_bin_label(enum show_bin, const char *, int, char *,
		    size_t);
void		 show_bins(const struct show_table *, enum show_bin,
		    struct show_table *);

/* show-senders.c: an approved sender's value as stored; -1 and *cause. */
int		 show_sender_norm(const char *, const char *, char **,
		    char **);
/* The senders command's output (show-text.c, show-json.c). */
void		 show_text_senders(FILE *, const struct show_table *, int);
void		 show_text_value(FILE *, const char *, size_t);
void		 show_json_senders(FILE *, int, const char *,
		    const struct show_table *);

/* The renderers; -1 on a write error. */
int	show_text(FILE *, const struct show_data *, int);
int	show_html(FILE *, const struct show_data *);
int	show_json(FILE *, const struct show_data *);
int	show_mail(FILE *, const struct show_data *);

#endif
