/*
 * tst_enrich_live.c: drives the enrich module alone for tests/server/enrich.test,
 * against a real DNS server: the addresses given are looked up and printed
 * one line each, in input order:
 *	ip status ptr confirmed base_domain asn as_org country detail
 * (tab-separated, "-" for none).  The passes over the database are the
 * agent's own `dmarc-agent enrich`.
 *
 *   tst_enrich_live lookup [-r resolver] [-m mmdb]... [-t timeout_ms]
 *	[-n tries] [-c concurrency] IP...
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "enrich/enrich.h"

#define MAX_MMDB	4

struct opts {
	struct enrich_opts	 eo;
	const char		*mmdb[MAX_MMDB];
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
static int	print_cb(const struct enrich_result *, void *);
static int	lookup(struct enrich *, char **, int);
static const char *dash(const char *);

static void
usage(void)
{
	fprintf(stderr, "usage: tst_enrich_live lookup [-r resolver]"
	    " [-m mmdb] [-t ms] [-n tries] [-c n] IP ...\n");
	exit(2);
}

static const char *
dash(const char *s)
{
	return (s != NULL ? s : "-");
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
	char		*cause = NULL;
	int		 ch, rc;

	log_init(LOG_TO_STDERR, 0);
	if (argc < 2 || strcmp(argv[1], "lookup") != 0)
		usage();
	argc--;
	argv++;
	memset(&o, 0, sizeof o);
	while ((ch = getopt(argc, argv, "c:m:n:r:t:")) != -1) {
		switch (ch) {
		case 'c':
			o.eo.concurrency = atoi(optarg);
			break;
		case 'm':
			if (o.eo.nmmdb == MAX_MMDB)
				usage();
			o.mmdb[o.eo.nmmdb++] = optarg;
			break;
		case 'n':
			o.eo.tries = atoi(optarg);
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
	if (argc == 0)
		usage();
	o.eo.mmdb_files = o.mmdb;
	if ((e = enrich_new(&o.eo, &cause)) == NULL)
		fatalx("enrich: %s", cause);
	rc = lookup(e, argv, argc);
	enrich_free(e);
	return (rc);
}
