/*
 * tst_enrich_live.c: drives the enrich module (and its sink side) for
 * tests/enrich.test, against a real DNS server and PostgreSQL.  It is
 * also the reference for the agent's glue: pass() is what
 * "dmarc-agent enrich" does, one pass of the background enrichment.
 *
 *   tst_enrich_live lookup [options] IP...
 *	look the addresses up; one line each, in input order:
 *	ip status ptr confirmed base_domain asn as_org country detail
 *	(tab-separated, "-" for none)
 *   tst_enrich_live pass [options]
 *	one enrichment pass over the database DMARC_CONNINFO (migrated
 *	when needed): discover, then look up and store until nothing is
 *	due; prints one summary line
 *
 * options: -r resolver  -m mmdb (repeatable)  -t timeout_ms  -n tries
 *	    -c concurrency  -l ttl  -R retry  -b batch
 */
#include "config.h"

#include <sys/time.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/agent.h"
#include "enrich/enrich.h"
#include "sink/sink.h"

#define FLUSH_EVERY	64
#define MAX_MMDB	4

struct opts {
	struct enrich_opts	 eo;
	const char		*mmdb[MAX_MMDB];
	long			 ttl, retry;
	size_t			 batch;
};

/* Results waiting to be stored, with copies of their strings. */
struct store_ctx {
	struct sink		*sink;
	struct sink_ip_info	 buf[FLUSH_EVERY];
	size_t			 n;
	size_t			 counts[ENRICH_ERROR + 1];
	char			*cause;
};

/* One line of the lookup mode. */
struct line {
	char	*text;
};

struct lookup_ctx {
	const char *const	*ips;
	size_t			 n;
	struct line		*lines;
};

static void	usage(void) dead;
static double	now_s(void);
static void	info_free(struct sink_ip_info *);
static int	flush(struct store_ctx *);
static int	store_cb(const struct enrich_result *, void *);
static int	print_cb(const struct enrich_result *, void *);
static int	pass(struct enrich *, const struct opts *);
static int	lookup(struct enrich *, char **, int);
static const char *dash(const char *);
static char	*dup_or_null(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: tst_enrich_live lookup|pass [-r resolver]"
	    " [-m mmdb] [-t ms] [-n tries] [-c n] [-l ttl] [-R retry]"
	    " [-b batch] [IP ...]\n");
	exit(2);
}

static double
now_s(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (tv.tv_sec + tv.tv_usec / 1e6);
}

static const char *
dash(const char *s)
{
	return (s != NULL ? s : "-");
}

static char *
dup_or_null(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

static void
info_free(struct sink_ip_info *i)
{
	free((char *)i->ip);
	free((char *)i->ptr);
	free((char *)i->base_domain);
	free((char *)i->as_org);
	free((char *)i->country);
	free((char *)i->detail);
	memset(i, 0, sizeof *i);
}

/* Store what is waiting: one statement. */
static int
flush(struct store_ctx *c)
{
	size_t	i;
	int	rc;

	rc = sink_enrich_store(c->sink, c->buf, c->n, &c->cause);
	for (i = 0; i < c->n; i++)
		info_free(&c->buf[i]);
	c->n = 0;
	return (rc);
}

/* The enrich callback: copy the borrowed result, flush when full. */
static int
store_cb(const struct enrich_result *r, void *arg)
{
	struct store_ctx	*c = arg;
	struct sink_ip_info	*i = &c->buf[c->n++];

	i->ip = xstrdup(r->ip);
	i->status = enrich_status_name(r->status);	/* static */
	i->ptr = dup_or_null(r->ptr);
	i->ptr_confirmed = r->ptr_confirmed;
	i->base_domain = dup_or_null(r->base_domain);
	i->have_geo = r->have_geo;
	i->asn = r->asn;
	i->as_org = dup_or_null(r->as_org);
	i->country = dup_or_null(r->country);
	i->detail = dup_or_null(r->detail);
	c->counts[r->status]++;
	if (c->n == FLUSH_EVERY && flush(c) != 0)
		return (-1);	/* stops the batch; c->cause says why */
	return (0);
}

/*
 * One enrichment pass, as the agent's "enrich" command and each round of
 * run's background enrichment do it.
 */
static int
pass(struct enrich *e, const struct opts *o)
{
	struct store_ctx	 c;
	const char		*conninfo;
	char			**ips, *cause = NULL;
	size_t			 added, n, total = 0;
	int64_t			 start;
	double			 t0;
	int			 rc = 0, st;

	if ((conninfo = getenv("DMARC_CONNINFO")) == NULL)
		fatalx("DMARC_CONNINFO not set");
	memset(&c, 0, sizeof c);
	if ((c.sink = sink_open(conninfo, &cause)) == NULL)
		fatalx("database: %s", cause);
	if ((st = sink_schema_check(c.sink, &cause)) == 1 &&
	    sink_migrate(c.sink, &cause) != 0)
		fatalx("migrate: %s", cause);
	if (st == -1)
		fatalx("schema: %s", cause);
	t0 = now_s();
	if (sink_enrich_discover(c.sink, &added, &start, &cause) != 0)
		fatalx("discover: %s", cause);
	for (;;) {
		if (sink_enrich_due(c.sink, start, o->ttl, o->retry, o->batch,
		    &ips, &n, &cause) != 0) {
			log_warnx("enrich: %s", cause);
			free(cause);
			rc = 1;
			break;
		}
		if (n == 0) {
			sink_enrich_free(ips, n);
			break;
		}
		total += n;
		if (enrich_lookup(e, (const char *const *)ips, n, store_cb, &c,
		    &cause) != 0 || (c.n > 0 && flush(&c) != 0)) {
			log_warnx("enrich: %s", c.cause != NULL ? c.cause :
			    cause);
			free(cause);
			sink_enrich_free(ips, n);
			rc = 1;
			break;
		}
		sink_enrich_free(ips, n);
	}
	while (c.n > 0)
		info_free(&c.buf[--c.n]);
	free(c.cause);
	printf("enrich: %zu new, %zu looked up (ok %zu, nxdomain %zu,"
	    " no_ptr %zu, timeout %zu, servfail %zu, refused %zu, error %zu)"
	    " in %.3f s\n", added, total, c.counts[ENRICH_OK],
	    c.counts[ENRICH_NXDOMAIN], c.counts[ENRICH_NO_PTR],
	    c.counts[ENRICH_TIMEOUT], c.counts[ENRICH_SERVFAIL],
	    c.counts[ENRICH_REFUSED], c.counts[ENRICH_ERROR],
	    now_s() - t0);
	sink_close(c.sink);
	return (rc);
}

static int
print_cb(const struct enrich_result *r, void *arg)
{
	struct lookup_ctx	*c = arg;
	size_t			 i;
	char			 asn[24];

	for (i = 0; i < c->n; i++)
		if (c->lines[i].text == NULL && c->ips[i] == r->ip)
			break;
	if (i == c->n)
		fatalx("result for an address not asked: %s", r->ip);
	snprintf(asn, sizeof asn, "%lld", (long long)r->asn);
	xasprintf(&c->lines[i].text, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s",
	    r->ip, enrich_status_name(r->status), dash(r->ptr),
	    r->ptr_confirmed < 0 ? "-" : r->ptr_confirmed ? "yes" : "no",
	    dash(r->base_domain), r->asn > 0 ? asn : "-", dash(r->as_org),
	    dash(r->country), dash(r->detail));
	return (0);
}

static int
lookup(struct enrich *e, char **ips, int n)
{
	struct lookup_ctx	 c;
	char			*cause = NULL;
	int			 i, rc;

	c.ips = (const char *const *)ips;
	c.n = (size_t)n;
	c.lines = xcalloc((size_t)n + 1, sizeof *c.lines);
	rc = enrich_lookup(e, c.ips, c.n, print_cb, &c, &cause);
	if (rc != 0)
		log_warnx("lookup: %s", cause);
	for (i = 0; i < n; i++) {
		if (c.lines[i].text != NULL)
			printf("%s\n", c.lines[i].text);
		else
			printf("%s\tmissing\n", ips[i]);
		free(c.lines[i].text);
	}
	free(c.lines);
	free(cause);
	return (rc == 0 ? 0 : 1);
}

int
main(int argc, char **argv)
{
	struct opts	 o;
	struct enrich	*e;
	const char	*mode;
	char		*cause = NULL;
	int		 ch, rc;

	log_init(LOG_TO_STDERR, 0);
	if (argc < 2)
		usage();
	mode = argv[1];
	argc--;
	argv++;
	memset(&o, 0, sizeof o);
	o.ttl = 86400;
	o.retry = 300;
	o.batch = 1000;
	while ((ch = getopt(argc, argv, "b:c:l:m:n:R:r:t:")) != -1) {
		switch (ch) {
		case 'b':
			o.batch = strtoul(optarg, NULL, 10);
			break;
		case 'c':
			o.eo.concurrency = atoi(optarg);
			break;
		case 'l':
			o.ttl = strtol(optarg, NULL, 10);
			break;
		case 'm':
			if (o.eo.nmmdb == MAX_MMDB)
				usage();
			o.mmdb[o.eo.nmmdb++] = optarg;
			break;
		case 'n':
			o.eo.tries = atoi(optarg);
			break;
		case 'R':
			o.retry = strtol(optarg, NULL, 10);
			break;
		case 'r':
			o.eo.resolver = optarg;
			break;
		case 't':
			o.eo.timeout_ms = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	o.eo.mmdb_files = o.mmdb;
	if ((e = enrich_new(&o.eo, &cause)) == NULL)
		fatalx("enrich: %s", cause);
	if (strcmp(mode, "lookup") == 0)
		rc = lookup(e, argv, argc);
	else if (strcmp(mode, "pass") == 0 && argc == 0)
		rc = pass(e, &o);
	else
		usage();
	enrich_free(e);
	return (rc);
}
