/*
 * enrich.c: reverse DNS, forward confirmation, base domain, ASN and
 * country for source addresses.
 *
 * One c-ares channel runs the queries of a batch concurrently: a slot per
 * address in flight (at most concurrency of them), each going through a
 * PTR query, then, when a name came back, an A (IPv4) or AAAA (IPv6)
 * query of that name to see whether it points back at the address.  The
 * loop polls the channel's sockets with the channel's own timeout, and
 * reports a slot (the callback) once its queries are over, from the loop,
 * never from inside a c-ares callback, so that the caller may do slow
 * work (a database write) without re-entering c-ares.  Every query is
 * bounded by c-ares's timeout and tries; nothing is cached here (the
 * database is the cache).  ARES_FLAG_NOCHECKRESP makes c-ares hand
 * SERVFAIL and REFUSED answers over as such (without it they all end as
 * "could not contact DNS servers"); the cost is that a second system
 * resolver is not tried after such an answer, and the lookup is retried
 * in a later pass anyway.
 *
 * The base domain comes from libpsl, ICANN section only, so that a
 * hosting platform's private suffixes (compute-1.amazonaws.com) do not
 * split its hosts apart.  ASN and country come from MaxMind-format
 * databases read with libmaxminddb (memory-mapped).  Text from the
 * network or a database is cleaned before it leaves the module: names to
 * printable ASCII (\ddd escapes), database strings to valid UTF-8.
 */
#include "config.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ares.h>
#include <libpsl.h>
#include <maxminddb.h>

#include "common/common.h"
#include "enrich/enrich.h"
#include "enrich/enrich_p.h"

#define ENRICH_TIMEOUT_MS	2000
#define ENRICH_TRIES		2
#define ENRICH_CONCURRENCY	16
#define ENRICH_MAX_CONCURRENCY	1024
#define ENRICH_MAX_TRIES	10
#define ENRICH_MAX_TIMEOUT_MS	600000

/* DNS class and types (RFC 1035, RFC 3596). */
#define DNS_C_IN	1
#define DNS_T_A		1
#define DNS_T_PTR	12
#define DNS_T_AAAA	28

enum slot_state {
	SLOT_FREE = 0,
	SLOT_PTR,		/* PTR query in flight */
	SLOT_FORWARD,		/* A/AAAA query in flight */
	SLOT_DONE		/* to report */
};

struct enrich_slot {
	struct enrich		*e;
	enum slot_state		 state;
	const char		*ip;		/* borrowed from the batch */
	int			 family;
	unsigned char		 addr[16];
	enum enrich_status	 status;
	char			*ptr;
	int			 confirmed;
	char			*detail;
};

struct enrich_geo {
	int64_t		 asn;
	char		*as_org;
	char		 country[3];
};

struct enrich {
	ares_channel		 chan;
	psl_ctx_t		*psl_own;	/* psl_latest, freed */
	const psl_ctx_t		*psl;
	MMDB_s			*mmdb;
	size_t			 nmmdb;
	int			 concurrency;
	struct enrich_slot	*slots;
	int			 stopping;	/* ignore late callbacks */
};

static int	enrich_channel(struct enrich *, const struct enrich_opts *,
		    char **);
static int	enrich_open_mmdb(struct enrich *, const struct enrich_opts *,
		    char **);
static void	enrich_slot_start(struct enrich_slot *, const char *);
static void	enrich_slot_clear(struct enrich_slot *);
static void	enrich_slot_fail(struct enrich_slot *, enum enrich_status,
		    const char *, int);
static void	enrich_ptr_cb(void *, int, int, unsigned char *, int);
static const char *enrich_ptr_pick(const struct hostent *);
static void	enrich_forward_cb(void *, int, int, unsigned char *, int);
static int	enrich_forward_match(struct enrich_slot *,
		    const unsigned char *, int, int *);
static int	enrich_report(struct enrich *, struct enrich_slot *,
		    enrich_result_fn, void *);
static void	enrich_geo_lookup(struct enrich *, const char *,
		    struct enrich_geo *);
static int	enrich_wait(struct enrich *, char **);
static int	enrich_upper(char);

static const char *const enrich_status_names[] = {
	"ok", "nxdomain", "no_ptr", "timeout", "servfail", "refused", "error"
};

/* The word for a status, as stored in ip_info.status. */
const char *
enrich_status_name(enum enrich_status st)
{
	if ((size_t)st >= sizeof enrich_status_names /
	    sizeof enrich_status_names[0])
		return ("error");
	return (enrich_status_names[st]);
}

/* Our status for a c-ares one. */
enum enrich_status
enrich_status_from_ares(int rc)
{
	switch (rc) {
	case ARES_SUCCESS:
		return (ENRICH_OK);
	case ARES_ENOTFOUND:
		return (ENRICH_NXDOMAIN);
	case ARES_ENODATA:
		return (ENRICH_NO_PTR);
	case ARES_ETIMEOUT:
		return (ENRICH_TIMEOUT);
	case ARES_ESERVFAIL:
		return (ENRICH_SERVFAIL);
	case ARES_EREFUSED:
		return (ENRICH_REFUSED);
	default:
		return (ENRICH_ERROR);
	}
}

/* An address in text form to family and bytes. */
int
enrich_parse_ip(const char *s, int *family, unsigned char addr[16])
{
	memset(addr, 0, 16);
	if (s == NULL)
		return (-1);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return (0);
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return (0);
	}
	return (-1);
}

/* "IP", "IP:PORT", "[IPv6]", "[IPv6]:PORT" or a bare IPv6 address. */
int
enrich_parse_server(const char *s, struct enrich_server *sv, char **cause)
{
	char		 host[INET6_ADDRSTRLEN + 1];
	const char	*orig = s, *port = NULL, *end;
	char		*ep;
	size_t		 len;
	long		 p;
	int		 bracket = 0;

	memset(sv, 0, sizeof *sv);
	sv->port = 53;
	if (s[0] == '[') {
		bracket = 1;
		if ((end = strchr(s, ']')) == NULL)
			goto bad;
		len = (size_t)(end - s - 1);
		if (end[1] == ':')
			port = end + 2;
		else if (end[1] != '\0')
			goto bad;
		s++;
	} else if ((end = strchr(s, ':')) != NULL && strchr(end + 1, ':') ==
	    NULL) {
		len = (size_t)(end - s);	/* one colon: IPv4:PORT */
		port = end + 1;
	} else
		len = strlen(s);		/* IPv4, or bare IPv6 */
	if (len == 0 || len >= sizeof host)
		goto bad;
	memcpy(host, s, len);
	host[len] = '\0';
	if (enrich_parse_ip(host, &sv->family, sv->addr) != 0)
		goto bad;
	if (bracket && sv->family != AF_INET6)
		goto bad;
	if (port != NULL) {
		errno = 0;
		p = strtol(port, &ep, 10);
		if (*port < '0' || *port > '9' || *ep != '\0' ||
		    errno != 0 || p < 1 || p > 65535)
			goto bad;
		sv->port = (uint16_t)p;
	}
	return (0);
bad:
	xasprintf(cause, "resolver \"%s\": not IP, IP:PORT or [IPv6]:PORT",
	    orig);
	return (-1);
}

/* The in-addr.arpa or ip6.arpa name of an address. */
void
enrich_reverse_name(int family, const unsigned char *a, char *out,
    size_t outsz)
{
	static const char	 hex[] = "0123456789abcdef";
	size_t			 o = 0;
	int			 i;

	if (family == AF_INET) {
		snprintf(out, outsz, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2],
		    a[1], a[0]);
		return;
	}
	if (outsz < 74) {
		if (outsz > 0)
			out[0] = '\0';
		return;
	}
	for (i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	memcpy(out + o, "ip6.arpa", sizeof "ip6.arpa");
}

/* A DNS name made safe to store and log. */
char *
enrich_clean_name(const char *name)
{
	struct buf	 b;
	size_t		 len, i;
	unsigned char	 c;
	char		 esc[5];

	if (name == NULL)
		return (NULL);
	len = strlen(name);
	if (len > 0 && name[len - 1] == '.' &&
	    (len < 2 || name[len - 2] != '\\'))
		len--;
	if (len == 0)
		return (NULL);
	buf_init(&b, ENRICH_NAME_MAX);
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		if (c > 0x20 && c < 0x7f && c != '\\') {
			if (buf_add(&b, &c, 1) != 0)
				break;
			continue;
		}
		if (c == '\\' && i + 1 < len) {
			/* Already an escape (c-ares's \. or \ddd): keep. */
			if (buf_add(&b, &c, 1) != 0)
				break;
			continue;
		}
		snprintf(esc, sizeof esc, "\\%03u", c);
		if (buf_add(&b, esc, 4) != 0)
			break;
	}
	return (buf_steal(&b, NULL));
}

/* Database text made valid UTF-8 without control characters. */
char *
enrich_clean_text(const char *s, size_t n, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	char			*out;
	size_t			 i = 0, o = 0, len;
	uint32_t		 cp;

	out = xmalloc(max + 1);
	while (i < n) {
		len = utf8_decode(p + i, n - i, &cp);
		if (len == 0 || (len == 1 && (p[i] < 0x20 || p[i] == 0x7f))) {
			if (o + 1 > max)
				break;
			out[o++] = '?';
			i++;
			continue;
		}
		if (o + len > max)
			break;
		memcpy(out + o, p + i, len);
		o += len;
		i += len;
	}
	out[o] = '\0';
	return (out);
}

/* The registrable domain of a host name (ICANN suffixes only). */
char *
enrich_base_domain(struct enrich *e, const char *name)
{
	char	*s, *p, *prev = NULL, *dot, *out = NULL;
	size_t	 len;

	if (name == NULL || *name == '\0')
		return (NULL);
	s = xstrdup(name);
	len = strlen(s);
	if (len > 0 && s[len - 1] == '.')
		s[--len] = '\0';
	for (p = s; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	if (len == 0 || strchr(s, '\\') != NULL || s[0] == '.' ||
	    strstr(s, "..") != NULL) {
		free(s);
		return (NULL);
	}
	/* The leftmost suffix that is public is the longest one. */
	for (p = s;;) {
		if (psl_is_public_suffix2(e->psl, p, PSL_TYPE_ICANN)) {
			if (prev != NULL)
				out = xstrdup(prev);
			break;
		}
		prev = p;
		if ((dot = strchr(p, '.')) == NULL)
			break;
		p = dot + 1;
	}
	free(s);
	return (out);
}

static int
enrich_channel(struct enrich *e, const struct enrich_opts *o, char **cause)
{
	struct ares_options		 ao;
	struct ares_addr_port_node	 node;
	struct enrich_server		 sv;
	int				 rc;

	memset(&ao, 0, sizeof ao);
	ao.timeout = o->timeout_ms > 0 ? o->timeout_ms : ENRICH_TIMEOUT_MS;
	if (ao.timeout > ENRICH_MAX_TIMEOUT_MS)
		ao.timeout = ENRICH_MAX_TIMEOUT_MS;
	ao.tries = o->tries > 0 ? o->tries : ENRICH_TRIES;
	if (ao.tries > ENRICH_MAX_TRIES)
		ao.tries = ENRICH_MAX_TRIES;
	ao.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOCHECKRESP;
	if ((rc = ares_init_options(&e->chan, &ao, ARES_OPT_TIMEOUTMS |
	    ARES_OPT_TRIES | ARES_OPT_FLAGS)) != ARES_SUCCESS) {
		xasprintf(cause, "c-ares: %s", ares_strerror(rc));
		e->chan = NULL;
		return (-1);
	}
	if (o->resolver == NULL || *o->resolver == '\0')
		return (0);
	if (enrich_parse_server(o->resolver, &sv, cause) != 0)
		return (-1);
	memset(&node, 0, sizeof node);
	node.family = sv.family;
	if (sv.family == AF_INET)
		memcpy(&node.addr.addr4, sv.addr, 4);
	else
		memcpy(&node.addr.addr6, sv.addr, 16);
	node.udp_port = node.tcp_port = sv.port;
	if ((rc = ares_set_servers_ports(e->chan, &node)) != ARES_SUCCESS) {
		xasprintf(cause, "resolver \"%s\": %s", o->resolver,
		    ares_strerror(rc));
		return (-1);
	}
	return (0);
}

static int
enrich_open_mmdb(struct enrich *e, const struct enrich_opts *o, char **cause)
{
	size_t	i;
	int	rc;

	if (o->nmmdb == 0)
		return (0);
	e->mmdb = xcalloc(o->nmmdb, sizeof *e->mmdb);
	for (i = 0; i < o->nmmdb; i++) {
		rc = MMDB_open(o->mmdb_files[i], MMDB_MODE_MMAP, &e->mmdb[i]);
		if (rc != MMDB_SUCCESS) {
			xasprintf(cause, "%s: %s%s%s", o->mmdb_files[i],
			    MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			    rc == MMDB_IO_ERROR ? strerror(errno) : "");
			return (-1);
		}
		e->nmmdb = i + 1;
	}
	return (0);
}

/* The resolver and the databases. */
struct enrich *
enrich_new(const struct enrich_opts *o, char **cause)
{
	struct enrich	*e;
	int		 rc;

	if ((rc = ares_library_init(ARES_LIB_INIT_ALL)) != ARES_SUCCESS) {
		xasprintf(cause, "c-ares: %s", ares_strerror(rc));
		return (NULL);
	}
	e = xcalloc(1, sizeof *e);
	e->concurrency = o->concurrency > 0 ? o->concurrency :
	    ENRICH_CONCURRENCY;
	if (e->concurrency > ENRICH_MAX_CONCURRENCY)
		e->concurrency = ENRICH_MAX_CONCURRENCY;
	e->slots = xcalloc((size_t)e->concurrency, sizeof *e->slots);
	if ((e->psl_own = psl_latest(NULL)) != NULL)
		e->psl = e->psl_own;
	else if ((e->psl = psl_builtin()) == NULL) {
		xasprintf(cause, "libpsl: no public suffix list");
		enrich_free(e);
		return (NULL);
	}
	if (enrich_channel(e, o, cause) != 0 ||
	    enrich_open_mmdb(e, o, cause) != 0) {
		enrich_free(e);
		return (NULL);
	}
	return (e);
}

/* Close the resolver and the databases. */
void
enrich_free(struct enrich *e)
{
	size_t	i;
	int	j;

	if (e == NULL)
		return;
	if (e->chan != NULL) {
		e->stopping = 1;
		ares_destroy(e->chan);
	}
	for (j = 0; j < e->concurrency; j++)
		enrich_slot_clear(&e->slots[j]);
	free(e->slots);
	for (i = 0; i < e->nmmdb; i++)
		MMDB_close(&e->mmdb[i]);
	free(e->mmdb);
	psl_free(e->psl_own);
	free(e);
	ares_library_cleanup();
}

static void
enrich_slot_clear(struct enrich_slot *sl)
{
	free(sl->ptr);
	free(sl->detail);
	memset(sl, 0, sizeof *sl);
}

/* Finish a slot with a failure; what says which query. */
static void
enrich_slot_fail(struct enrich_slot *sl, enum enrich_status st,
    const char *what, int rc)
{
	char	*name;

	sl->status = st;
	sl->confirmed = -1;
	if (st != ENRICH_NXDOMAIN && st != ENRICH_NO_PTR) {
		free(sl->detail);
		if (sl->state == SLOT_FORWARD) {
			name = log_escape(sl->ptr, strlen(sl->ptr), 255);
			xasprintf(&sl->detail, "%s of %s: %s", what, name,
			    ares_strerror(rc));
			free(name);
		} else
			xasprintf(&sl->detail, "%s: %s", what,
			    ares_strerror(rc));
	}
	sl->state = SLOT_DONE;
}

/* Start an address: its PTR query (the callback may run at once). */
static void
enrich_slot_start(struct enrich_slot *sl, const char *ip)
{
	char	name[80];

	sl->ip = ip;
	sl->confirmed = -1;
	if (enrich_parse_ip(ip, &sl->family, sl->addr) != 0) {
		sl->status = ENRICH_ERROR;
		sl->detail = xstrdup("not an IP address");
		sl->state = SLOT_DONE;
		return;
	}
	enrich_reverse_name(sl->family, sl->addr, name, sizeof name);
	sl->state = SLOT_PTR;
	ares_query(sl->e->chan, name, DNS_C_IN, DNS_T_PTR, enrich_ptr_cb,
	    sl);
}

/*
 * Of several PTR names, the first in alphabetical order (ignoring case),
 * so that the stored name does not change with the order of the answer.
 */
static const char *
enrich_ptr_pick(const struct hostent *he)
{
	const char	*best = he->h_name;
	size_t		 i;

	for (i = 0; he->h_aliases != NULL && he->h_aliases[i] != NULL; i++)
		if (strcasecmp(he->h_aliases[i], best) < 0)
			best = he->h_aliases[i];
	return (best);
}

static void
enrich_ptr_cb(void *arg, int rc, int timeouts, unsigned char *abuf,
    int alen)
{
	struct enrich_slot	*sl = arg;
	struct hostent		*he = NULL;
	int			 prc;

	(void)timeouts;
	if (sl->e == NULL || sl->e->stopping || sl->state != SLOT_PTR)
		return;
	if (rc != ARES_SUCCESS) {
		enrich_slot_fail(sl, enrich_status_from_ares(rc), "PTR query",
		    rc);
		return;
	}
	prc = ares_parse_ptr_reply(abuf, alen, sl->addr,
	    sl->family == AF_INET ? 4 : 16, sl->family, &he);
	if (prc != ARES_SUCCESS || he == NULL || he->h_name == NULL ||
	    (sl->ptr = enrich_clean_name(enrich_ptr_pick(he))) == NULL) {
		if (he != NULL)
			ares_free_hostent(he);
		if (prc == ARES_SUCCESS)
			prc = ARES_ENODATA;
		enrich_slot_fail(sl, prc == ARES_ENODATA ? ENRICH_NO_PTR :
		    ENRICH_ERROR, "PTR answer", prc);
		return;
	}
	ares_free_hostent(he);
	sl->state = SLOT_FORWARD;
	ares_query(sl->e->chan, sl->ptr, DNS_C_IN,
	    sl->family == AF_INET ? DNS_T_A : DNS_T_AAAA, enrich_forward_cb,
	    sl);
}

/* 0 and *match, or -1 when the answer does not parse. */
static int
enrich_forward_match(struct enrich_slot *sl, const unsigned char *abuf,
    int alen, int *match)
{
	struct ares_addrttl	 a4[32];
	struct ares_addr6ttl	 a6[32];
	int			 n = 32, i, rc;

	*match = 0;
	if (sl->family == AF_INET) {
		rc = ares_parse_a_reply(abuf, alen, NULL, a4, &n);
		for (i = 0; rc == ARES_SUCCESS && i < n; i++)
			if (memcmp(&a4[i].ipaddr, sl->addr, 4) == 0)
				*match = 1;
	} else {
		rc = ares_parse_aaaa_reply(abuf, alen, NULL, a6, &n);
		for (i = 0; rc == ARES_SUCCESS && i < n; i++)
			if (memcmp(&a6[i].ip6addr, sl->addr, 16) == 0)
				*match = 1;
	}
	if (rc == ARES_ENODATA)
		return (0);
	return (rc == ARES_SUCCESS ? 0 : -1);
}

static void
enrich_forward_cb(void *arg, int rc, int timeouts, unsigned char *abuf,
    int alen)
{
	struct enrich_slot	*sl = arg;
	int			 match;

	(void)timeouts;
	if (sl->e == NULL || sl->e->stopping || sl->state != SLOT_FORWARD)
		return;
	if (rc == ARES_ENOTFOUND || rc == ARES_ENODATA) {
		/* The name does not resolve: not confirmed, an answer. */
		sl->status = ENRICH_OK;
		sl->confirmed = 0;
		sl->state = SLOT_DONE;
		return;
	}
	if (rc != ARES_SUCCESS) {
		enrich_slot_fail(sl, enrich_status_from_ares(rc),
		    "forward query", rc);
		return;
	}
	if (enrich_forward_match(sl, abuf, alen, &match) != 0) {
		enrich_slot_fail(sl, ENRICH_ERROR, "forward answer",
		    ARES_EBADRESP);
		return;
	}
	sl->status = ENRICH_OK;
	sl->confirmed = match;
	sl->state = SLOT_DONE;
}

/* ASN, organisation and country from the databases, first value wins. */
static void
enrich_geo_lookup(struct enrich *e, const char *ip, struct enrich_geo *g)
{
	MMDB_lookup_result_s	 r;
	MMDB_entry_data_s	 d;
	size_t			 i;
	int			 gai, err;

	memset(g, 0, sizeof *g);
	for (i = 0; i < e->nmmdb; i++) {
		r = MMDB_lookup_string(&e->mmdb[i], ip, &gai, &err);
		if (gai != 0 || err != MMDB_SUCCESS || !r.found_entry)
			continue;
		if (g->asn == 0 && MMDB_get_value(&r.entry, &d,
		    "autonomous_system_number", NULL) == MMDB_SUCCESS &&
		    d.has_data && d.type == MMDB_DATA_TYPE_UINT32)
			g->asn = d.uint32;
		if (g->as_org == NULL && MMDB_get_value(&r.entry, &d,
		    "autonomous_system_organization", NULL) == MMDB_SUCCESS &&
		    d.has_data && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
		    d.data_size > 0)
			g->as_org = enrich_clean_text(d.utf8_string,
			    d.data_size, ENRICH_TEXT_MAX);
		if (g->country[0] == '\0' && ((MMDB_get_value(&r.entry, &d,
		    "country", "iso_code", NULL) == MMDB_SUCCESS &&
		    d.has_data) || (MMDB_get_value(&r.entry, &d,
		    "registered_country", "iso_code", NULL) == MMDB_SUCCESS &&
		    d.has_data)) && d.type == MMDB_DATA_TYPE_UTF8_STRING &&
		    d.data_size == 2 &&
		    enrich_upper(d.utf8_string[0]) &&
		    enrich_upper(d.utf8_string[1])) {
			g->country[0] = d.utf8_string[0];
			g->country[1] = d.utf8_string[1];
			g->country[2] = '\0';
		}
	}
}

static int
enrich_upper(char c)
{
	return (c >= 'A' && c <= 'Z');
}

/* Hand a finished slot to the caller and free it. */
static int
enrich_report(struct enrich *e, struct enrich_slot *sl, enrich_result_fn cb,
    void *arg)
{
	struct enrich_result	 r;
	struct enrich_geo	 g;
	char			*base = NULL;
	int			 rc;

	memset(&r, 0, sizeof r);
	r.ip = sl->ip;
	r.status = sl->status;
	r.ptr = sl->ptr;
	r.ptr_confirmed = sl->ptr != NULL ? sl->confirmed : -1;
	if (sl->ptr != NULL)
		r.base_domain = base = enrich_base_domain(e, sl->ptr);
	memset(&g, 0, sizeof g);
	if (e->nmmdb > 0 && sl->family != 0) {
		enrich_geo_lookup(e, sl->ip, &g);
		r.have_geo = 1;
		r.asn = g.asn;
		r.as_org = g.as_org;
		r.country = g.country[0] != '\0' ? g.country : NULL;
	}
	r.detail = sl->detail;
	rc = cb(&r, arg);
	free(base);
	free(g.as_org);
	enrich_slot_clear(sl);
	return (rc);
}

/* Wait for the channel's sockets or its next timeout, then process. */
static int
enrich_wait(struct enrich *e, char **cause)
{
	ares_socket_t	 socks[ARES_GETSOCK_MAXNUM];
	struct pollfd	 pfd[ARES_GETSOCK_MAXNUM];
	struct timeval	 tv, *tvp;
	int		 bits, i, n = 0, ms, rc, rd, wr;

	/*
	 * c-ares' ARES_GETSOCK_WRITABLE shifts a signed 1 by up to 31
	 * places (undefined behaviour); test the same bits unsigned.
	 */
	bits = ares_getsock(e->chan, socks, ARES_GETSOCK_MAXNUM);
	for (i = 0; i < ARES_GETSOCK_MAXNUM; i++) {
		rd = ((unsigned)bits & (1U << i)) != 0;
		wr = ((unsigned)bits & (1U << (i + ARES_GETSOCK_MAXNUM))) != 0;
		if (!rd && !wr)
			continue;
		pfd[n].fd = socks[i];
		pfd[n].events = (rd ? POLLIN : 0) | (wr ? POLLOUT : 0);
		pfd[n].revents = 0;
		n++;
	}
	tvp = ares_timeout(e->chan, NULL, &tv);
	ms = tvp == NULL ? 100 : (int)(tvp->tv_sec * 1000 +
	    (tvp->tv_usec + 999) / 1000);
	rc = poll(pfd, (nfds_t)n, ms);
	if (rc == -1) {
		if (errno == EINTR)
			return (0);
		xasprintf(cause, "poll: %s", strerror(errno));
		return (-1);
	}
	if (rc == 0) {
		ares_process_fd(e->chan, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
		return (0);
	}
	for (i = 0; i < n; i++) {
		if (pfd[i].revents == 0)
			continue;
		ares_process_fd(e->chan,
		    (pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) ?
		    pfd[i].fd : ARES_SOCKET_BAD,
		    (pfd[i].revents & POLLOUT) ? pfd[i].fd : ARES_SOCKET_BAD);
	}
	return (0);
}

/* Look a batch up, at most concurrency addresses at a time. */
int
enrich_lookup(struct enrich *e, const char *const *ips, size_t n,
    enrich_result_fn cb, void *arg, char **cause)
{
	struct enrich_slot	*sl;
	size_t			 next = 0;
	int			 i, busy, failed = 0;

	e->stopping = 0;
	for (;;) {
		busy = 0;
		for (i = 0; i < e->concurrency && !failed; i++) {
			sl = &e->slots[i];
			if (sl->state == SLOT_FREE && next < n) {
				sl->e = e;
				enrich_slot_start(sl, ips[next++]);
			}
			if (sl->state == SLOT_DONE) {
				if (enrich_report(e, sl, cb, arg) != 0) {
					xasprintf(cause, "lookups stopped");
					failed = 1;
					break;
				}
				i--;	/* the slot is free: fill it again */
				continue;
			}
			if (sl->state != SLOT_FREE)
				busy++;
		}
		if (failed || (busy == 0 && next >= n))
			break;
		if (busy > 0 && enrich_wait(e, cause) != 0) {
			failed = 1;
			break;
		}
	}
	if (failed) {
		e->stopping = 1;
		ares_cancel(e->chan);
		for (i = 0; i < e->concurrency; i++)
			enrich_slot_clear(&e->slots[i]);
		e->stopping = 0;
		return (-1);
	}
	return (0);
}
