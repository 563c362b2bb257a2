/*
 * enrich.h: what the network says about a source address.
 *
 * For each address: its reverse DNS name (PTR), whether that name resolves
 * back to it (forward-confirmed reverse DNS: A for IPv4, AAAA for IPv6),
 * the name's registrable domain from the Public Suffix List (libpsl, ICANN
 * section), and, when MaxMind-format databases are given (libmaxminddb),
 * its autonomous system and country.  Lookups run concurrently on one
 * c-ares channel, at most `concurrency` addresses in flight, each query
 * bounded by the timeout; nothing here touches the database.
 *
 * A struct enrich is used by one thread at a time; enrich_new and
 * enrich_free must not race with each other (c-ares library set-up).
 */
#ifndef ENRICH_H
#define ENRICH_H

#include <stddef.h>
#include <stdint.h>

struct enrich;

struct enrich_opts {
	/*
	 * The DNS server: "IP", "IP:PORT" or "[IPv6]:PORT" (a bare IPv6
	 * address too); NULL or "" for the system's (/etc/resolv.conf).
	 */
	const char	*resolver;
	/*
	 * MaxMind-format databases (GeoLite2-ASN, GeoLite2-Country or
	 * City, DB-IP lite ...), consulted in order: the first that has a
	 * value gives it.  nmmdb 0: no ASN or country.
	 */
	const char *const *mmdb_files;
	size_t		 nmmdb;
	int		 timeout_ms;	/* per query try; 0: 2000 */
	int		 tries;		/* per query; 0: 2 (c-ares doubles the
					   timeout after the first) */
	int		 concurrency;	/* addresses in flight; 0: 16 */
};

/* Outcome of one address's lookup. */
enum enrich_status {
	ENRICH_OK = 0,		/* a PTR answer (and its forward lookup) */
	ENRICH_NXDOMAIN,	/* the reverse name does not exist */
	ENRICH_NO_PTR,		/* it exists but has no PTR record */
	ENRICH_TIMEOUT,		/* no answer in time */
	ENRICH_SERVFAIL,
	ENRICH_REFUSED,
	ENRICH_ERROR		/* anything else; see detail */
};

/* The word stored in ip_info.status: "ok", "nxdomain", "no_ptr" ... */
const char *enrich_status_name(enum enrich_status);

/* One address's result; everything is borrowed for the callback. */
struct enrich_result {
	const char		*ip;		/* as given */
	enum enrich_status	 status;
	const char		*ptr;		/* PTR name (the first in
						   alphabetical order), no
						   trailing dot; or NULL */
	int			 ptr_confirmed;	/* 1 yes, 0 no, -1 unknown */
	const char		*base_domain;	/* lower-case, or NULL */
	int			 have_geo;	/* databases were consulted */
	int64_t			 asn;		/* 0: unknown */
	const char		*as_org;	/* NULL: unknown */
	const char		*country;	/* ISO 3166-1 alpha-2 */
	const char		*detail;	/* failure text, or NULL */
};

/*
 * Called once per address, in completion order, from enrich_lookup's
 * thread.  Return 0 to go on, -1 to stop the batch: the queries in flight
 * are cancelled and enrich_lookup returns -1.
 */
typedef int (*enrich_result_fn)(const struct enrich_result *, void *);

/*
 * A resolver with its databases opened.  NULL with *cause when the
 * resolver address is malformed, c-ares cannot start or a database cannot
 * be opened.
 */
struct enrich *enrich_new(const struct enrich_opts *, char **);
void	enrich_free(struct enrich *);

/*
 * Look up n addresses (text, IPv4 or IPv6), calling cb for each.  An
 * address that is not one gets status error without a query.  Returns 0
 * when every address was reported, -1 with *cause when cb stopped the
 * batch or the event loop failed (poll).  Takes at most about
 * n / concurrency * 2 * timeout_ms * (2^tries - 1) milliseconds.
 */
int	enrich_lookup(struct enrich *, const char *const *ips, size_t n,
	    enrich_result_fn cb, void *arg, char **);

/*
 * The registrable domain of a host name (lower-case, trailing dot
 * ignored) under the ICANN section of the Public Suffix List, or NULL
 * (a public suffix itself, a single label, an empty name).  The caller
 * frees it.
 */
char	*enrich_base_domain(struct enrich *, const char *);

#endif
