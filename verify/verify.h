/*
 * verify.h: who sent a report mail.
 *
 * verify_message checks one whole message (headers and body as fetched):
 * every DKIM-Signature (RFC 6376) with libopendkim, the keys looked up as
 * TXT records through the resolver the caller names, with a per-lookup
 * timeout, a per-message budget and a cache; the Authentication-Results
 * header (RFC 8601) of the user's own receiving server, when its
 * authserv-id is one the caller trusts (every other such header is
 * ignored); and the report mail's own DMARC verdict (RFC 7489 §3.1.1 and
 * §6.6.2: the From domain against the domains of passing signatures,
 * aligned relaxed on organisational domains or strict).
 * verify_reporter then decides, for one report the message carried,
 * whether the domain that authenticated the mail is the reporter's.
 *
 * Nothing here fails: a message that cannot be checked (no signature, a
 * key that times out, a broken header) is a verdict with its reasons.
 * verify_new fails (NULL with *cause) only on a bad resolver address or
 * when libopendkim cannot start.
 *
 * Ownership: the options' strings are borrowed for verify_new (copied).
 * Everything in a struct verify_result is owned by it and freed by
 * verify_result_free.  One struct verify serves many threads at once: its
 * key cache is locked, each lookup has its own c-ares channel.
 */
#ifndef VERIFY_H
#define VERIFY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct verify;

struct verify_opts {
	const char	*resolver;	/* "IP[:PORT]"; NULL: the system's */
	/* Numbers 0 or less take the default. */
	int		 timeout_ms;	/* one key lookup; 2000 */
	int		 budget_ms;	/* all lookups of one message; 5000 */
	int		 cache_ttl;	/* s a key found is kept; 3600 */
	int		 negative_ttl;	/* s a missing or timed-out key is
					   remembered; 300 */
	unsigned	 max_signatures; /* checked per message; 8 */
	size_t		 max_signature_bytes; /* one DKIM-Signature; 8192 */
	const char *const *trusted_ids;	/* authserv-ids to believe */
	size_t		 ntrusted;
};

/* What became of one signature. */
enum verify_sig_result {
	VERIFY_SIG_PASS = 0,	/* header and whole body verified */
	VERIFY_SIG_FAIL,	/* signature or body hash does not match, or
				   l= leaves part of the body unsigned */
	VERIFY_SIG_TEMPERROR,	/* key lookup timed out or failed: a later
				   check may tell */
	VERIFY_SIG_PERMERROR,	/* no key, malformed key or signature */
	VERIFY_SIG_SKIPPED	/* past max_signatures or too large */
};

/* The report mail's DMARC verdict. */
enum verify_dmarc {
	VERIFY_DMARC_NONE = 0,	/* nothing to judge by */
	VERIFY_DMARC_PASS,
	VERIFY_DMARC_FAIL
};

/* Per report: what the stored rows may be trusted as. */
enum verify_authenticity {
	VERIFY_UNVERIFIED = 0,	/* no usable signature or trusted verdict */
	VERIFY_VERIFIED,	/* the reporter's domain authenticated it */
	VERIFY_FORGED		/* a signature failed, or only another
				   domain authenticated it */
};

struct verify_sig {
	char			*domain;	/* d=, lower case; NULL */
	char			*selector;	/* s=; NULL */
	char			*algorithm;	/* a=; NULL */
	enum verify_sig_result	 result;
	char			*error;		/* why not pass; NULL */
	int64_t			 body_length;	/* l=; -1 when absent */
	char			*key_sha256;	/* hex SHA-256 of the key's p=
						   value; NULL: none fetched */
	int			 aligned;	/* with From: 0 no, 1 relaxed,
						   2 strict */
};

struct verify_result {
	time_t			 checked_at;
	char			*from_domain;	/* NULL: none, several, or
						   unreadable */
	unsigned		 from_count;	/* From header fields */
	struct verify_sig	*sigs;
	size_t			 nsigs;
	unsigned		 sigs_seen;	/* DKIM-Signature fields, all */
	/* The trusted Authentication-Results header, when there is one. */
	char			*ar_id;		/* its authserv-id */
	char			*ar_dkim;	/* dkim= result; NULL */
	char			*ar_dkim_domain; /* header.d of a dkim=pass */
	char			*ar_spf;	/* spf= result */
	char			*ar_dmarc;	/* dmarc= result */
	char			*ar_dmarc_from;	/* header.from of dmarc= */
	enum verify_dmarc	 dmarc;
	const char		*dmarc_via;	/* static: "dkim", "authres" or
						   NULL */
	int			 alignment;	/* best aligned pass: 0, 1
						   relaxed, 2 strict */
	/* Domains that authenticated the mail, lower case. */
	char			**auth_domains;
	size_t			 nauth;
	int			 any_fail;	/* a signature failed, or the
						   trusted verdict is fail */
	int			 any_usable;	/* a signature passed or failed,
						   or a trusted verdict */
	char			*detail;	/* a summary for people */
};

struct verify	*verify_new(const struct verify_opts *, char **cause);
void		 verify_free(struct verify *);

/* Check one whole message (RFC 5322 bytes, CRLF or LF line ends). */
void		 verify_message(struct verify *, const char *buf, size_t len,
		    struct verify_result *);
void		 verify_result_free(struct verify_result *);

/*
 * Whether the report's reporter (the domain of its email, else its
 * org_name when that is a domain name; either may be NULL) authenticated
 * the message: VERIFY_VERIFIED when a domain of result->auth_domains has
 * the reporter's organisational domain, VERIFY_FORGED when a signature
 * failed or only other domains authenticated it, else VERIFY_UNVERIFIED.
 * *reporter is set to the reporter's organisational domain (malloc'd,
 * NULL when the report names none; the caller frees it).
 */
enum verify_authenticity verify_reporter(struct verify *,
		    const struct verify_result *, const char *org_email,
		    const char *org_name, char **reporter);

/* Static names: "pass" ..., "none" ..., "verified" ... */
const char	*verify_sig_result_name(enum verify_sig_result);
const char	*verify_dmarc_name(enum verify_dmarc);
const char	*verify_authenticity_name(enum verify_authenticity);

#endif
