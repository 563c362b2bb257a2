/*
 * verify_p.h: internals of verify/, for its own files and tst_verify.
 */
#ifndef VERIFY_P_H
#define VERIFY_P_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <sys/types.h>

#include <dkim.h>
#include <libpsl.h>

#include "verify/verify.h"

#ifndef nitems
#define nitems(a)	(sizeof (a) / sizeof ((a)[0]))
#endif

#define VERIFY_TIMEOUT_MS	2000
#define VERIFY_BUDGET_MS	5000
#define VERIFY_CACHE_TTL	3600
#define VERIFY_NEGATIVE_TTL	300
#define VERIFY_MAX_SIGS		8
#define VERIFY_MAX_SIG_BYTES	8192
/* Keys kept in the cache; past it the oldest entry goes. */
#define VERIFY_CACHE_MAX	1024
/* A key record is a few hundred bytes (a 4096-bit RSA key under 800). */
#define VERIFY_KEY_MAX		4096
/* Header fields and A-R results looked at, whatever the message has. */
#define VERIFY_MAX_AR		16
#define VERIFY_MAX_FROM		8

/* One resinfo of an Authentication-Results header (RFC 8601 §2.2). */
struct verify_ar {
	char	*id;		/* authserv-id, lower case */
	char	*dkim;		/* first dkim= result, preferring pass */
	char	*dkim_domain;	/* header.d (or header.i's domain) of a
				   dkim=pass */
	char	*spf;
	char	*dmarc;
	char	*dmarc_from;	/* header.from of dmarc= */
};

/* What the key lookup found, as the cache keeps it. */
enum verify_key_status {
	VERIFY_KEY_OK = 0,
	VERIFY_KEY_NONE,	/* NXDOMAIN or no TXT record */
	VERIFY_KEY_MANY,	/* several TXT records (RFC 6376 §3.6.2.2) */
	VERIFY_KEY_BAD,		/* a record too large to be a key */
	VERIFY_KEY_TIMEOUT,	/* no answer in time */
	VERIFY_KEY_FAILED	/* SERVFAIL, REFUSED, a malformed reply */
};

struct verify_key_entry {
	char			*name;	/* selector._domainkey.domain */
	enum verify_key_status	 status;
	char			*txt;	/* the record, when VERIFY_KEY_OK */
	time_t			 expires;
	time_t			 added;
};

struct verify {
	DKIM_LIB		*lib;
	const psl_ctx_t		*psl;
	psl_ctx_t		*psl_own;
	char			*resolver;
	int			 timeout_ms, budget_ms, cache_ttl, negative_ttl;
	unsigned		 max_sigs;
	size_t			 max_sig_bytes;
	char			**trusted;
	size_t			 ntrusted;
	pthread_mutex_t		 lock;		/* the cache */
	struct verify_key_entry	*cache;
	size_t			 ncache;
	unsigned		 lookups, hits;	/* for the tests */
};

/* verify-parse.c: pure functions. */
void	verify_ascii(char *);
int	verify_ar_parse(const char *, struct verify_ar *);
void	verify_ar_free(struct verify_ar *);
int	verify_ar_is_trusted(const struct verify_ar *, char *const *, size_t);
char	*verify_from_domain(const char *, int *);
char	*verify_domain_norm(const char *, size_t);
char	*verify_org_domain(const psl_ctx_t *, const char *);
int	verify_align(const psl_ctx_t *, const char *, const char *);
char	*verify_reporter_domain(const char *, const char *);
char	*verify_key_p(const char *);
int	verify_key_sha256(const char *, char *, size_t);
/* Header fields of a message: name and whole field, folding kept, without
   the final line end.  Returns the offset of the body. */
typedef int (*verify_field_fn)(const char *, size_t, const char *, size_t,
	    void *);
size_t	verify_fields(const char *, size_t, verify_field_fn, void *);

/* verify-dns.c: key lookups through c-ares, and the cache. */
enum verify_key_status verify_key_get(struct verify *, const char *,
	    int64_t, char *, size_t);
void	verify_cache_free(struct verify *);
int	verify_resolver_check(const char *, char **);

#endif
