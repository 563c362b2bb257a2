/*
 * cmd-enrich.c: `dmarc-agent enrich`, and the passes `run` makes in the
 * background.
 *
 * A pass finds the source addresses that have no fresh ip_info row
 * (sink_enrich_discover, sink_enrich_due), looks them up concurrently
 * (enrich_lookup: reverse DNS, forward confirmation, base domain, ASN and
 * country) and stores the results in small batches.  Ingestion never waits
 * for DNS: enrichment reads what was committed, on its own connection.
 * Failed lookups are recorded with their status and retried later; only a
 * database error fails a pass.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "enrich/enrich.h"
#include "sink/sink.h"

#define ENRICH_FLUSH	64
#define ENRICH_BATCH	1000

struct store_ctx {
	struct sink		*sink;
	struct sink_ip_info	 buf[ENRICH_FLUSH];
	size_t			 n;
	size_t			 counts[ENRICH_ERROR + 1];
	char			*cause;	/* database failure */
};

static char	*dup_or_null(const char *);
static void	 info_free(struct sink_ip_info *);
static int	 store_flush(struct store_ctx *);
static int	 store_cb(const struct enrich_result *, void *);

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

static int
store_flush(struct store_ctx *c)
{
	size_t	i;
	int	rc = 0;

	if (c->n != 0 && c->cause == NULL)
		rc = sink_enrich_store(c->sink, c->buf, c->n, &c->cause);
	for (i = 0; i < c->n; i++)
		info_free(&c->buf[i]);
	c->n = 0;
	return (rc);
}

/* Copy the borrowed result; store every ENRICH_FLUSH.  -1 stops. */
static int
store_cb(const struct enrich_result *r, void *arg)
{
	struct store_ctx	*c = arg;
	struct sink_ip_info	*i = &c->buf[c->n++];

	i->ip = xstrdup(r->ip);
	i->status = enrich_status_name(r->status);
	i->ptr = dup_or_null(r->ptr);
	i->ptr_confirmed = r->ptr_confirmed;
	i->base_domain = dup_or_null(r->base_domain);
	i->have_geo = r->have_geo;
	i->asn = r->asn;
	i->as_org = dup_or_null(r->as_org);
	i->country = dup_or_null(r->country);
	i->detail = dup_or_null(r->detail);
	c->counts[r->status]++;
	if (c->n == ENRICH_FLUSH && store_flush(c) != 0)
		return (-1);
	return (agent_quitting() ? -1 : 0);
}

/* The resolver from the configuration.  NULL with *cause on failure. */
struct enrich *
ipinfo_open(const struct conf *conf, char **cause)
{
	struct enrich_opts	 o;

	memset(&o, 0, sizeof o);
	o.resolver = conf->enrich.resolver;
	o.mmdb_files = (const char *const *)conf->enrich.mmdb_files;
	o.nmmdb = conf->enrich.nmmdb;
	o.timeout_ms = conf->enrich.timeout_ms;
	o.tries = conf->enrich.tries;
	o.concurrency = conf->enrich.concurrency;
	return (enrich_new(&o, cause));
}

/* The resolver from the configuration.  NULL (logged) on failure. */
struct enrich *
ipinfo_resolver(const struct conf *conf)
{
	struct enrich	*e;
	char		*cause = NULL;

	if ((e = ipinfo_open(conf, &cause)) == NULL) {
		log_warnx("enrichment: %s", cause);
		free(cause);
	}
	return (e);
}

/*
 * One pass over every address that needs a lookup.  Returns 0, or -1 when
 * the database failed (logged).  summary (may be NULL) gets a line.
 */
int
ipinfo_pass(const struct conf *conf, struct sink *sink, struct enrich *e,
    char *summary, size_t size)
{
	struct store_ctx	 c;
	struct timespec		 t0, t1;
	char			**ips = NULL, *cause = NULL;
	size_t			 added = 0, n, total = 0;
	int64_t			 start;
	int			 rc = 0;

	memset(&c, 0, sizeof c);
	c.sink = sink;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (sink_enrich_discover(sink, &added, &start, &cause) != 0) {
		log_warnx("enrichment: %s", cause);
		free(cause);
		return (-1);
	}
	while (!agent_quitting()) {
		if (sink_enrich_due(sink, start, conf->enrich.ttl,
		    conf->enrich.retry, ENRICH_BATCH, &ips, &n, &cause) != 0) {
			log_warnx("enrichment: %s", cause);
			rc = -1;
			break;
		}
		if (n == 0) {
			sink_enrich_free(ips, n);
			break;
		}
		total += n;
		if (enrich_lookup(e, (const char *const *)ips, n, store_cb, &c,
		    &cause) != 0 && c.cause == NULL && !agent_quitting()) {
			log_warnx("enrichment: %s", cause);
			rc = -1;
		}
		sink_enrich_free(ips, n);
		if (store_flush(&c) != 0 || c.cause != NULL) {
			log_warnx("enrichment: %s", c.cause);
			rc = -1;
		}
		free(cause);
		cause = NULL;
		if (rc != 0)
			break;
	}
	free(cause);
	while (c.n > 0)
		info_free(&c.buf[--c.n]);
	free(c.cause);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (summary != NULL)
		snprintf(summary, size, "%zu new, %zu looked up (ok %zu, "
		    "nxdomain %zu, no_ptr %zu, timeout %zu, servfail %zu, "
		    "refused %zu, error %zu) in %.3f s", added, total,
		    c.counts[ENRICH_OK], c.counts[ENRICH_NXDOMAIN],
		    c.counts[ENRICH_NO_PTR], c.counts[ENRICH_TIMEOUT],
		    c.counts[ENRICH_SERVFAIL], c.counts[ENRICH_REFUSED],
		    c.counts[ENRICH_ERROR], (double)(t1.tv_sec - t0.tv_sec) +
		    (t1.tv_nsec - t0.tv_nsec) / 1e9);
	return (rc);
}

/* enrich: one pass, then exit. */
int
cmd_enrich(struct cmd_env *env, int argc, char **argv)
{
	struct sink	*sink;
	struct enrich	*e;
	char		 line[256];
	int		 rc;

	if (argc != 0) {
		log_warnx("usage: dmarc-agent enrich");
		return (EXIT_USAGE);
	}
	if ((e = ipinfo_resolver(env->conf)) == NULL)
		return (EXIT_USAGE);
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL) {
		enrich_free(e);
		return (EXIT_OPFAIL);
	}
	rc = ipinfo_pass(env->conf, sink, e, line, sizeof line);
	printf("enrich: %s\n", line);
	sink_close(sink);
	enrich_free(e);
	return (rc == 0 ? 0 : EXIT_OPFAIL);
}
