/*
 * verify-dns.c: DKIM key records (RFC 6376 §3.6.2) through c-ares, and
 * the cache in front of them.
 *
 * libopendkim's own resolver is libresolv's, which takes neither a port
 * nor a deadline we choose; its asynchronous hooks (dkim_dns_set_query_*)
 * would still have it wait on our behalf.  So verify.c installs a key
 * lookup callback (dkim_set_key_lookup) that comes here: each lookup has a
 * c-ares channel of its own pointed at the configured resolver, ends at
 * the earlier of its timeout and the message's budget, and its outcome is
 * cached (found keys for cache_ttl, missing or timed-out ones for
 * negative_ttl), so a slow resolver costs one timeout per key name and
 * negative_ttl, and never more than budget_ms per message.
 */
#include "config.h"

#include <sys/time.h>

#include <arpa/nameser.h>
#include <ares.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "verify/verify_p.h"

/* One lookup in flight. */
struct key_query {
	int			 done;
	enum verify_key_status	 status;
	char			*txt;
};

static int64_t	now_ms(void);
static void	key_cb(void *, int, int, unsigned char *, int);
static enum verify_key_status key_query(struct verify *, const char *, int,
		    char **);
static int	key_channel(struct verify *, ares_channel *, int);
static void	cache_put(struct verify *, const char *,
		    enum verify_key_status, const char *);

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Whether the resolver setting is one c-ares takes; -1 with *cause. */
int
verify_resolver_check(const char *resolver, char **cause)
{
	ares_channel	chan;
	int		rc;

	if (ares_init(&chan) != ARES_SUCCESS) {
		xasprintf(cause, "c-ares cannot start");
		return (-1);
	}
	rc = ares_set_servers_ports_csv(chan, resolver);
	ares_destroy(chan);
	if (rc != ARES_SUCCESS) {
		xasprintf(cause, "resolver \"%s\": %s", resolver,
		    ares_strerror(rc));
		return (-1);
	}
	return (0);
}

static int
key_channel(struct verify *v, ares_channel *chan, int ms)
{
	struct ares_options	ao;

	memset(&ao, 0, sizeof ao);
	ao.timeout = ms;
	ao.tries = 1;
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
	if (ares_init_options(chan, &ao, ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_FLAGS) != ARES_SUCCESS)
		return (-1);
	if (v->resolver != NULL &&
	    ares_set_servers_ports_csv(*chan, v->resolver) != ARES_SUCCESS) {
		ares_destroy(*chan);
		return (-1);
	}
	return (0);
}

/* The TXT answer: one record (its strings joined) or why not. */
static void
key_cb(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct key_query	*q = arg;
	struct ares_txt_ext	*txt = NULL, *t;
	struct buf		 b;
	size_t			 n;
	int			 records = 0, over = 0;

	q->done = 1;
	if (status == ARES_ENOTFOUND || status == ARES_ENODATA) {
		q->status = VERIFY_KEY_NONE;
		return;
	}
	if (status == ARES_ETIMEOUT) {
		q->status = VERIFY_KEY_TIMEOUT;
		return;
	}
	if (status != ARES_SUCCESS ||
	    ares_parse_txt_reply_ext(abuf, alen, &txt) != ARES_SUCCESS) {
		q->status = status == ARES_SUCCESS ? VERIFY_KEY_FAILED :
		    (status == ARES_ECANCELLED || status == ARES_EDESTRUCTION ?
		    VERIFY_KEY_TIMEOUT : VERIFY_KEY_FAILED);
		return;
	}
	buf_init(&b, VERIFY_KEY_MAX);
	for (t = txt; t != NULL; t = t->next) {
		if (t->record_start)
			records++;
		if (records == 1 && buf_add(&b, t->txt, t->length) != 0)
			over = 1;
	}
	ares_free_data(txt);
	if (records == 0)
		q->status = VERIFY_KEY_NONE;
	else if (records > 1)
		q->status = VERIFY_KEY_MANY;
	else if (over || memchr(b.data, '\0', b.len) != NULL)
		q->status = VERIFY_KEY_BAD;
	else {
		buf_add(&b, "", 1);
		q->status = VERIFY_KEY_OK;
		q->txt = buf_steal(&b, &n);
		return;
	}
	buf_free(&b);
}

/* Ask the resolver, waiting ms at most. */
static enum verify_key_status
key_query(struct verify *v, const char *name, int ms, char **txt)
{
	ares_socket_t		 socks[ARES_GETSOCK_MAXNUM];
	struct pollfd		 pfd[ARES_GETSOCK_MAXNUM];
	struct key_query	 q;
	ares_channel		 chan;
	int64_t			 end;
	int			 bits, i, n, left, rd, wr, timed_out;

	memset(&q, 0, sizeof q);
	if (key_channel(v, &chan, ms) != 0)
		return (VERIFY_KEY_FAILED);
	end = now_ms() + ms;
	ares_query(chan, name, ns_c_in, ns_t_txt, key_cb, &q);
	while (!q.done && (left = (int)(end - now_ms())) > 0) {
		/* Bits tested unsigned, as enrich.c does (c-ares' macro
		   shifts a signed 1 by up to 31 places). */
		bits = ares_getsock(chan, socks, ARES_GETSOCK_MAXNUM);
		for (i = n = 0; i < ARES_GETSOCK_MAXNUM; i++) {
			rd = ((unsigned)bits & (1U << i)) != 0;
			wr = ((unsigned)bits &
			    (1U << (i + ARES_GETSOCK_MAXNUM))) != 0;
			if (!rd && !wr)
				continue;
			pfd[n].fd = socks[i];
			pfd[n].events = (rd ? POLLIN : 0) | (wr ? POLLOUT : 0);
			pfd[n++].revents = 0;
		}
		if (poll(pfd, (nfds_t)n, left < 100 ? left : 100) == -1 &&
		    errno != EINTR)
			break;
		if (n == 0)
			ares_process_fd(chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		for (i = 0; i < n; i++)
			ares_process_fd(chan, (pfd[i].revents &
			    (POLLIN | POLLERR | POLLHUP)) ? pfd[i].fd :
			    ARES_SOCKET_BAD, (pfd[i].revents & POLLOUT) ?
			    pfd[i].fd : ARES_SOCKET_BAD);
		if (n != 0)
			ares_process_fd(chan, ARES_SOCKET_BAD,
			    ARES_SOCKET_BAD);
	}
	timed_out = !q.done;
	ares_destroy(chan);	/* calls back with ARES_EDESTRUCTION */
	if (timed_out)
		q.status = VERIFY_KEY_TIMEOUT;
	if (q.status != VERIFY_KEY_OK) {
		free(q.txt);
		q.txt = NULL;
	}
	*txt = q.txt;
	return (q.status);
}

static void
cache_put(struct verify *v, const char *name, enum verify_key_status st,
    const char *txt)
{
	struct verify_key_entry	*e = NULL;
	time_t			 now = time(NULL);
	size_t			 i, old = 0;

	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->ncache; i++) {
		if (strcmp(v->cache[i].name, name) == 0 ||
		    v->cache[i].expires <= now) {
			e = &v->cache[i];
			break;
		}
		if (v->cache[i].added < v->cache[old].added)
			old = i;
	}
	if (e == NULL && v->ncache < VERIFY_CACHE_MAX) {
		v->cache = xreallocarray(v->cache, v->ncache + 1,
		    sizeof *v->cache);
		e = &v->cache[v->ncache++];
		memset(e, 0, sizeof *e);
	} else if (e == NULL)
		e = &v->cache[old];
	free(e->name);
	free(e->txt);
	e->name = xstrdup(name);
	e->status = st;
	e->txt = txt != NULL ? xstrdup(txt) : NULL;
	e->added = now;
	e->expires = now + (st == VERIFY_KEY_OK ? v->cache_ttl :
	    v->negative_ttl);
	pthread_mutex_unlock(&v->lock);
}

void
verify_cache_free(struct verify *v)
{
	size_t	i;

	for (i = 0; i < v->ncache; i++) {
		free(v->cache[i].name);
		free(v->cache[i].txt);
	}
	free(v->cache);
	v->cache = NULL;
	v->ncache = 0;
}

/*
 * The key record at name (selector._domainkey.domain) into out, from the
 * cache or the resolver, giving up at deadline (a CLOCK_MONOTONIC time in
 * milliseconds).  A lookup cut short by the deadline is not cached: the
 * key did not time out, the message's budget did.
 */
enum verify_key_status
verify_key_get(struct verify *v, const char *name, int64_t deadline,
    char *out, size_t outsz)
{
	enum verify_key_status	 st;
	char			*txt = NULL;
	time_t			 now = time(NULL);
	size_t			 i;
	int64_t			 left;
	int			 ms, cut;

	*out = '\0';
	pthread_mutex_lock(&v->lock);
	for (i = 0; i < v->ncache; i++) {
		if (strcmp(v->cache[i].name, name) != 0 ||
		    v->cache[i].expires <= now)
			continue;
		st = v->cache[i].status;
		if (st == VERIFY_KEY_OK)
			snprintf(out, outsz, "%s", v->cache[i].txt);
		v->hits++;
		pthread_mutex_unlock(&v->lock);
		return (st);
	}
	v->lookups++;
	pthread_mutex_unlock(&v->lock);
	if ((left = deadline - now_ms()) <= 0)
		return (VERIFY_KEY_TIMEOUT);
	ms = v->timeout_ms;
	cut = left < ms;
	if (cut)
		ms = (int)left;
	st = key_query(v, name, ms, &txt);
	if (st == VERIFY_KEY_OK && strlen(txt) >= outsz)
		st = VERIFY_KEY_BAD;
	if (st == VERIFY_KEY_OK)
		snprintf(out, outsz, "%s", txt);
	if (!(cut && st == VERIFY_KEY_TIMEOUT))
		cache_put(v, name, st, st == VERIFY_KEY_OK ? txt : NULL);
	free(txt);
	return (st);
}
