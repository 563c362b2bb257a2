/*
 * show.h: the read side, "dmarc-agent report".
 *
 * show/ reads the dmarc schema's views with libpq (it does not use the
 * sink) and writes one report over a window of UTC days, per policy
 * domain: daily volume and DMARC pass rate, top sources, sources failing
 * DMARC, suspected forwarding and spoofing, reporters.  Three formats: text
 * for a terminal (80 columns, colours only on a terminal), one
 * self-contained HTML page, and JSON (doc/dashboards.md).
 *
 * Everything read from the database came from a report and is escaped for
 * the output it goes to.
 */
#ifndef SHOW_H
#define SHOW_H

#include <stdio.h>

enum show_format {
	SHOW_TEXT,
	SHOW_HTML,
	SHOW_JSON
};

/* What to show.  show_args fills it; the strings are borrowed from argv. */
struct show_opts {
	int		 days;		/* window length, 1 to 3660 */
	char		 until[11];	/* last day, YYYY-MM-DD, UTC */
	const char	*domain;	/* one policy domain, NULL: all */
	enum show_format format;
	const char	*output;	/* -o FILE; NULL: standard output */
	int		 color;		/* ANSI colours in text output */
};

struct show;

/*
 * Parse the report command's arguments: argv[0] .. argv[argc - 1] are the
 * words after "report" (argv[0] is not a program name):
 *   [--days N] [--until YYYY-MM-DD] [--domain D] [--format text|html|json]
 *   [-o FILE]
 * Defaults: 30 days up to today (UTC), every domain, text, standard output,
 * no colour (show_main turns it on for a terminal).  -1 and *cause on a
 * usage error.
 */
int	show_args(int, char **, struct show_opts *, char **);

/* Connect (libpq conninfo or URI) and check the schema; NULL and *cause. */
struct show *show_open(const char *, char **);

/* Write the report to f.  -1 and *cause when a query fails. */
int	show_write(struct show *, const struct show_opts *, FILE *, char **);

/* Disconnect and free. */
void	show_close(struct show *);

/*
 * The whole command: parse the arguments, connect, write to -o FILE or
 * standard output (colours when it is a terminal), log what failed.
 * Returns the exit code: 0, 1 (database or file failure), 2 (usage).
 */
int	show_main(const char *, int, char **);

/* The usage lines of the report command, for the program's usage text. */
extern const char show_usage[];

/*
 * The senders command (show-senders.c): the senders seen per policy
 * domain, approved or not, or a change to dmarc.approved_sender:
 *   senders [--domain D] [--days N] [--until YYYY-MM-DD]
 *           [--format text|json]
 *   senders approve DOMAIN KIND VALUE [--note TEXT]
 *   senders unapprove DOMAIN KIND VALUE
 * KIND is domain, ptr, name, asn or cidr.  Returns the exit code: 0, 1
 * (database failure; unapproving what was not approved), 2 (usage).
 */
int	show_senders_main(const char *, int, char **);
extern const char show_senders_usage[];


#endif
