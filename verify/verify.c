/*
 * verify.c: one report mail through libopendkim, the trusted
 * Authentication-Results header and the DMARC verdict of the mail itself.
 *
 * The header fields are scanned here first: From fields are counted (two
 * or more is no From domain, RFC 7489 §6.6.1), Authentication-Results
 * fields are read until the first whose authserv-id is trusted (the
 * topmost one the user's own server added: RFC 8601 §5 has it remove
 * look-alikes arriving from outside), and DKIM-Signature fields past
 * max_signatures, or over max_signature_bytes, are not given to
 * libopendkim at all, so a message with a thousand signatures or a huge
 * h= list costs what max_signatures cost.  libopendkim hashes the rest
 * and asks verify-dns.c for each key.
 */
#include "config.h"

#include <sys/types.h>

#include <ares.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/common.h"
#include "verify/verify_p.h"

/* A key as verify-dns.c found it, for one signature. */
struct vkey {
	const DKIM_SIGINFO	*sig;
	enum verify_key_status	 status;
	char			 sha[65];
};

/* State for one message. */
struct vmsg {
	struct verify		*v;
	struct verify_result	*r;
	DKIM			*dkim;
	int64_t			 deadline;	/* monotonic ms */
	struct vkey		*keys;
	size_t			 nkeys;
	unsigned		 fed_sigs;	/* given to libopendkim */
	unsigned		 big_sigs;	/* over max_signature_bytes */
	int			 ar_done;	/* a trusted one was found */
	unsigned		 nar;
	const char		*from;		/* the first From field */
	size_t			 fromlen;
};

static DKIM_CBSTAT	 key_lookup(DKIM *, DKIM_SIGINFO *, u_char *, size_t);
static int		 field_cb(const char *, size_t, const char *, size_t,
			    void *);
static void		 vm_ar(struct vmsg *, const char *, size_t);
static void		 vm_sigs(struct vmsg *);
static void		 vm_sig(struct vmsg *, DKIM_SIGINFO *,
			    struct verify_sig *);
static void		 vm_verdict(struct vmsg *);
static void		 vm_detail(struct verify_result *, unsigned);
static void		 add_auth(struct verify_result *, const char *);
static int64_t		 mono_ms(void);
static int		 org_in(struct verify *, const char *,
			    char *const [2]);

static int64_t
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

struct verify *
verify_new(const struct verify_opts *o, char **cause)
{
	struct verify	*v;
	unsigned int	 flags;
	size_t		 i;

	if (o->resolver != NULL && *o->resolver != '\0' &&
	    verify_resolver_check(o->resolver, cause) != 0)
		return (NULL);
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		xasprintf(cause, "c-ares cannot start");
		return (NULL);
	}
	v = xcalloc(1, sizeof *v);
	pthread_mutex_init(&v->lock, NULL);
	if (o->resolver != NULL && *o->resolver != '\0')
		v->resolver = xstrdup(o->resolver);
	v->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : VERIFY_TIMEOUT_MS;
	v->budget_ms = o->budget_ms > 0 ? o->budget_ms : VERIFY_BUDGET_MS;
	v->cache_ttl = o->cache_ttl > 0 ? o->cache_ttl : VERIFY_CACHE_TTL;
	v->negative_ttl = o->negative_ttl > 0 ? o->negative_ttl :
	    VERIFY_NEGATIVE_TTL;
	v->max_sigs = o->max_signatures > 0 ? o->max_signatures :
	    VERIFY_MAX_SIGS;
	v->max_sig_bytes = o->max_signature_bytes > 0 ?
	    o->max_signature_bytes : VERIFY_MAX_SIG_BYTES;
	if (o->ntrusted != 0) {
		v->trusted = xcalloc(o->ntrusted, sizeof *v->trusted);
		for (i = 0; i < o->ntrusted; i++)
			v->trusted[i] = xstrdup(o->trusted_ids[i]);
		v->ntrusted = o->ntrusted;
	}
	if ((v->psl_own = psl_latest(NULL)) != NULL)
		v->psl = v->psl_own;
	else if ((v->psl = psl_builtin()) == NULL) {
		xasprintf(cause, "libpsl: no public suffix list");
		verify_free(v);
		return (NULL);
	}
	if ((v->lib = dkim_init(NULL, NULL)) == NULL) {
		xasprintf(cause, "libopendkim cannot start");
		verify_free(v);
		return (NULL);
	}
	/* Bare LF line ends (files from disk) hash as CRLF; signatures
	   that do not parse still get a handle, so they are recorded. */
	flags = DKIM_LIBFLAGS_FIXCRLF | DKIM_LIBFLAGS_BADSIGHANDLES;
	dkim_options(v->lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags,
	    sizeof flags);
	dkim_set_key_lookup(v->lib, key_lookup);
	return (v);
}

void
verify_free(struct verify *v)
{
	size_t	i;

	if (v == NULL)
		return;
	if (v->lib != NULL)
		dkim_close(v->lib);
	verify_cache_free(v);
	for (i = 0; i < v->ntrusted; i++)
		free(v->trusted[i]);
	free(v->trusted);
	free(v->resolver);
	psl_free(v->psl_own);
	pthread_mutex_destroy(&v->lock);
	free(v);
	ares_library_cleanup();
}

/*
 * libopendkim's key lookup: the record from verify-dns.c.  Every failure
 * is "not found" to libopendkim (a try-again would stop it from checking
 * the other signatures); what really happened is kept in vm->keys.
 */
static DKIM_CBSTAT
key_lookup(DKIM *dkim, DKIM_SIGINFO *sig, u_char *buf, size_t buflen)
{
	struct vmsg	*vm = dkim_get_user_context(dkim);
	struct vkey	*k;
	const char	*d, *s;
	char		*name;
	size_t		 i;

	d = (const char *)dkim_sig_getdomain(sig);
	s = (const char *)dkim_sig_getselector(sig);
	vm->keys = xreallocarray(vm->keys, vm->nkeys + 1, sizeof *vm->keys);
	k = &vm->keys[vm->nkeys++];
	memset(k, 0, sizeof *k);
	k->sig = sig;
	k->status = VERIFY_KEY_BAD;
	if (d == NULL || s == NULL || strlen(d) + strlen(s) > 240)
		return (DKIM_CBSTAT_NOTFOUND);
	for (i = 0; s[i] != '\0'; i++)
		if (strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789-_.", s[i]) == NULL)
			return (DKIM_CBSTAT_NOTFOUND);
	xasprintf(&name, "%s._domainkey.%s", s, d);
	k->status = verify_key_get(vm->v, name, vm->deadline, (char *)buf,
	    buflen);
	free(name);
	if (k->status != VERIFY_KEY_OK)
		return (DKIM_CBSTAT_NOTFOUND);
	if (verify_key_sha256((const char *)buf, k->sha, sizeof k->sha) != 0)
		k->sha[0] = '\0';
	return (DKIM_CBSTAT_CONTINUE);
}

/* An Authentication-Results field: keep the first trusted one. */
static void
vm_ar(struct vmsg *vm, const char *field, size_t len)
{
	struct verify_ar	 ar;
	struct verify_result	*r = vm->r;
	const char		*colon;
	char			*value;

	if (vm->ar_done || ++vm->nar > VERIFY_MAX_AR)
		return;
	colon = memchr(field, ':', len);
	value = xstrndup(colon + 1, len - (size_t)(colon + 1 - field));
	if (verify_ar_parse(value, &ar) == 0 &&
	    verify_ar_is_trusted(&ar, vm->v->trusted, vm->v->ntrusted)) {
		vm->ar_done = 1;
		r->ar_id = ar.id;
		r->ar_dkim = ar.dkim;
		r->ar_dkim_domain = ar.dkim_domain;
		r->ar_spf = ar.spf;
		r->ar_dmarc = ar.dmarc;
		r->ar_dmarc_from = ar.dmarc_from;
	} else
		verify_ar_free(&ar);
	free(value);
}

static int
field_cb(const char *name, size_t nlen, const char *field, size_t len,
    void *arg)
{
	struct vmsg	*vm = arg;

	if (nlen == 4 && strncasecmp(name, "From", 4) == 0) {
		if (vm->r->from_count++ == 0) {
			vm->from = field;
			vm->fromlen = len;
		}
	} else if (nlen == 22 && strncasecmp(name,
	    "Authentication-Results", 22) == 0)
		vm_ar(vm, field, len);
	else if (nlen == 14 && strncasecmp(name, "DKIM-Signature", 14) == 0) {
		vm->r->sigs_seen++;
		if (vm->fed_sigs + vm->big_sigs >= vm->v->max_sigs)
			return (0);
		if (len > vm->v->max_sig_bytes) {
			vm->big_sigs++;
			return (0);
		}
		vm->fed_sigs++;
	}
	if (vm->dkim != NULL)
		dkim_header(vm->dkim, (u_char *)field, len);
	return (0);
}

/* One signature's outcome from libopendkim's handle. */
static void
vm_sig(struct vmsg *vm, DKIM_SIGINFO *sig, struct verify_sig *vs)
{
	struct vkey	*k = NULL;
	const u_char	*t;
	unsigned int	 flags = dkim_sig_getflags(sig);
	ssize_t		 msglen = -1, canonlen = -1, signlen = -1;
	int		 err = dkim_sig_geterror(sig), bh;
	size_t		 i;

	memset(vs, 0, sizeof *vs);
	vs->body_length = -1;
	if ((t = dkim_sig_getdomain(sig)) != NULL)
		vs->domain = verify_domain_norm((const char *)t,
		    strlen((const char *)t));
	if ((t = dkim_sig_getselector(sig)) != NULL) {
		vs->selector = xstrndup((const char *)t, 255);
		verify_ascii(vs->selector);
	}
	if ((t = dkim_sig_gettagvalue(sig, 0, (u_char *)"a")) != NULL) {
		vs->algorithm = xstrndup((const char *)t, 64);
		verify_ascii(vs->algorithm);
	}
	if ((t = dkim_sig_gettagvalue(sig, 0, (u_char *)"l")) != NULL)
		vs->body_length = strtoll((const char *)t, NULL, 10);
	for (i = 0; i < vm->nkeys; i++)
		if (vm->keys[i].sig == sig)
			k = &vm->keys[i];
	if (k != NULL && k->sha[0] != '\0')
		vs->key_sha256 = xstrdup(k->sha);
	bh = dkim_sig_getbh(sig);
	if ((flags & DKIM_SIGFLAG_PASSED) && bh == DKIM_SIGBH_MATCH) {
		vs->result = VERIFY_SIG_PASS;
		dkim_sig_getcanonlen(vm->dkim, sig, &msglen, &canonlen,
		    &signlen);
		if (vs->body_length >= 0 && msglen > canonlen) {
			vs->result = VERIFY_SIG_FAIL;
			xasprintf(&vs->error, "l=%lld leaves %lld body bytes "
			    "unsigned", (long long)vs->body_length,
			    (long long)(msglen - canonlen));
		}
		return;
	}
	if (k != NULL && k->status != VERIFY_KEY_OK) {
		switch (k->status) {
		case VERIFY_KEY_TIMEOUT:
			vs->result = VERIFY_SIG_TEMPERROR;
			vs->error = xstrdup("key lookup timed out");
			break;
		case VERIFY_KEY_FAILED:
			vs->result = VERIFY_SIG_TEMPERROR;
			vs->error = xstrdup("key lookup failed");
			break;
		case VERIFY_KEY_MANY:
			vs->result = VERIFY_SIG_PERMERROR;
			vs->error = xstrdup("several key records");
			break;
		case VERIFY_KEY_NONE:
			vs->result = VERIFY_SIG_PERMERROR;
			vs->error = xstrdup("no key record");
			break;
		default:
			vs->result = VERIFY_SIG_PERMERROR;
			vs->error = xstrdup("malformed key record or name");
			break;
		}
		return;
	}
	if (err == DKIM_SIGERROR_BADSIG || bh == DKIM_SIGBH_MISMATCH) {
		vs->result = VERIFY_SIG_FAIL;
		vs->error = xstrdup(bh == DKIM_SIGBH_MISMATCH ?
		    "body hash mismatch" : dkim_sig_geterrorstr(err));
		return;
	}
	vs->result = VERIFY_SIG_PERMERROR;
	vs->error = xstrdup(err != DKIM_SIGERROR_OK && dkim_sig_geterrorstr(err)
	    != NULL ? dkim_sig_geterrorstr(err) : "not verified");
}

static void
vm_sigs(struct vmsg *vm)
{
	struct verify_result	*r = vm->r;
	DKIM_SIGINFO		**sigs = NULL;
	struct verify_sig	*vs;
	int			 n = 0, i;

	if (vm->dkim == NULL ||
	    dkim_getsiglist(vm->dkim, &sigs, &n) != DKIM_STAT_OK)
		n = 0;
	r->sigs = xcalloc((size_t)n + vm->big_sigs + 1, sizeof *r->sigs);
	for (i = 0; i < n; i++) {
		vs = &r->sigs[r->nsigs++];
		vm_sig(vm, sigs[i], vs);
		if (vs->result == VERIFY_SIG_PASS)
			vs->aligned = verify_align(vm->v->psl, r->from_domain,
			    vs->domain);
	}
	if (vm->big_sigs != 0) {
		vs = &r->sigs[r->nsigs++];
		memset(vs, 0, sizeof *vs);
		vs->body_length = -1;
		vs->result = VERIFY_SIG_SKIPPED;
		xasprintf(&vs->error, "%u signature(s) over %zu bytes not "
		    "checked", vm->big_sigs, vm->v->max_sig_bytes);
	}
}

static void
add_auth(struct verify_result *r, const char *d)
{
	size_t	i;

	if (d == NULL)
		return;
	for (i = 0; i < r->nauth; i++)
		if (strcmp(r->auth_domains[i], d) == 0)
			return;
	r->auth_domains = xreallocarray(r->auth_domains, r->nauth + 1,
	    sizeof *r->auth_domains);
	r->auth_domains[r->nauth++] = xstrdup(d);
}

/* Who authenticated the mail, and its DMARC verdict (RFC 7489 §6.6.2). */
static void
vm_verdict(struct vmsg *vm)
{
	struct verify_result	*r = vm->r;
	size_t			 i;
	int			 ar_dkim_pass;

	for (i = 0; i < r->nsigs; i++) {
		if (r->sigs[i].result == VERIFY_SIG_PASS) {
			add_auth(r, r->sigs[i].domain);
			r->any_usable = 1;
			if (r->sigs[i].aligned > r->alignment)
				r->alignment = r->sigs[i].aligned;
		} else if (r->sigs[i].result == VERIFY_SIG_FAIL) {
			r->any_fail = 1;
			r->any_usable = 1;
		}
	}
	ar_dkim_pass = r->ar_dkim != NULL && strcmp(r->ar_dkim, "pass") == 0;
	if (ar_dkim_pass)
		add_auth(r, r->ar_dkim_domain);
	if (r->ar_dmarc != NULL && strcmp(r->ar_dmarc, "pass") == 0)
		add_auth(r, r->ar_dmarc_from != NULL ? r->ar_dmarc_from :
		    r->from_domain);
	if (r->ar_dkim != NULL && strcmp(r->ar_dkim, "fail") == 0)
		r->any_fail = 1;
	if (r->ar_dkim != NULL || r->ar_dmarc != NULL)
		r->any_usable = 1;
	if (r->from_domain != NULL && r->alignment > 0) {
		r->dmarc = VERIFY_DMARC_PASS;
		r->dmarc_via = "dkim";
	} else if (r->from_domain != NULL && r->ar_dmarc != NULL &&
	    strcmp(r->ar_dmarc, "pass") == 0) {
		r->dmarc = VERIFY_DMARC_PASS;
		r->dmarc_via = "authres";
	} else if (r->from_domain == NULL && r->from_count != 0)
		r->dmarc = VERIFY_DMARC_FAIL;	/* several or bad From */
	else if (r->any_usable) {
		r->dmarc = VERIFY_DMARC_FAIL;
		r->dmarc_via = r->ar_dmarc != NULL ? "authres" : "dkim";
	}
}

static void
vm_detail(struct verify_result *r, unsigned skipped)
{
	struct buf	 b;
	char		*s;
	size_t		 i, n;

	buf_init(&b, 2048);
	for (i = 0; i < r->nsigs; i++) {
		xasprintf(&s, "%s%s/%s %s%s%s%s", i == 0 ? "" : "; ",
		    r->sigs[i].domain != NULL ? r->sigs[i].domain : "?",
		    r->sigs[i].selector != NULL ? r->sigs[i].selector : "?",
		    verify_sig_result_name(r->sigs[i].result),
		    r->sigs[i].error != NULL ? " (" : "",
		    r->sigs[i].error != NULL ? r->sigs[i].error : "",
		    r->sigs[i].error != NULL ? ")" : "");
		buf_add(&b, s, strlen(s));
		free(s);
	}
	if (skipped != 0) {
		xasprintf(&s, "%s%u signature(s) past the first %zu not "
		    "checked", r->nsigs != 0 ? "; " : "", skipped, r->nsigs);
		buf_add(&b, s, strlen(s));
		free(s);
	}
	if (r->from_count > 1) {
		xasprintf(&s, "%s%u From fields", b.len != 0 ? "; " : "",
		    r->from_count);
		buf_add(&b, s, strlen(s));
		free(s);
	}
	if (b.len == 0)
		buf_add(&b, "no DKIM signature", 17);
	buf_add(&b, "", 1);
	r->detail = buf_steal(&b, &n);
}

void
verify_message(struct verify *v, const char *buf, size_t len,
    struct verify_result *r)
{
	struct vmsg	 vm;
	DKIM_STAT	 st;
	size_t		 body;
	int		 naddr = 0;
	const char	*colon;
	char		*value;
	unsigned	 skipped;

	memset(r, 0, sizeof *r);
	memset(&vm, 0, sizeof vm);
	r->checked_at = time(NULL);
	vm.v = v;
	vm.r = r;
	vm.deadline = mono_ms() + v->budget_ms;
	vm.dkim = dkim_verify(v->lib, (const u_char *)"report", NULL, &st);
	if (vm.dkim != NULL)
		dkim_set_user_context(vm.dkim, &vm);
	body = verify_fields(buf, len, field_cb, &vm);
	if (r->from_count >= 1 && r->from_count <= VERIFY_MAX_FROM) {
		colon = memchr(vm.from, ':', vm.fromlen);
		value = xstrndup(colon + 1,
		    vm.fromlen - (size_t)(colon + 1 - vm.from));
		if (r->from_count == 1)
			r->from_domain = verify_from_domain(value, &naddr);
		if (naddr > 1) {
			free(r->from_domain);
			r->from_domain = NULL;
		}
		free(value);
	}
	if (vm.dkim != NULL && vm.fed_sigs != 0 &&
	    dkim_eoh(vm.dkim) == DKIM_STAT_OK) {
		if (body < len)
			dkim_body(vm.dkim, (u_char *)buf + body, len - body);
		dkim_eom(vm.dkim, NULL);
	}
	vm_sigs(&vm);
	vm_verdict(&vm);
	skipped = r->sigs_seen - vm.fed_sigs - vm.big_sigs;
	vm_detail(r, skipped);
	if (vm.dkim != NULL)
		dkim_free(vm.dkim);
	free(vm.keys);
}

void
verify_result_free(struct verify_result *r)
{
	size_t	i;

	for (i = 0; i < r->nsigs; i++) {
		free(r->sigs[i].domain);
		free(r->sigs[i].selector);
		free(r->sigs[i].algorithm);
		free(r->sigs[i].error);
		free(r->sigs[i].key_sha256);
	}
	free(r->sigs);
	for (i = 0; i < r->nauth; i++)
		free(r->auth_domains[i]);
	free(r->auth_domains);
	free(r->from_domain);
	free(r->ar_id);
	free(r->ar_dkim);
	free(r->ar_dkim_domain);
	free(r->ar_spf);
	free(r->ar_dmarc);
	free(r->ar_dmarc_from);
	free(r->detail);
	memset(r, 0, sizeof *r);
}

/* Whether d's organisational domain is one of the two candidates. */
static int
org_in(struct verify *v, const char *d, char *const cand[2])
{
	char	*o;
	int	 in;

	o = verify_org_domain(v->psl, d);
	in = (cand[0] != NULL && strcmp(cand[0], o) == 0) ||
	    (cand[1] != NULL && strcmp(cand[1], o) == 0);
	free(o);
	return (in);
}

enum verify_authenticity
verify_reporter(struct verify *v, const struct verify_result *r,
    const char *org_email, const char *org_name, char **reporter)
{
	char	*cand[2] = { NULL, NULL }, *d;
	size_t	 i;
	int	 matched = 0;

	if ((d = verify_reporter_domain(org_email, NULL)) != NULL) {
		cand[0] = verify_org_domain(v->psl, d);
		free(d);
	}
	if ((d = verify_reporter_domain(NULL, org_name)) != NULL) {
		cand[1] = verify_org_domain(v->psl, d);
		free(d);
	}
	*reporter = cand[0] != NULL ? xstrdup(cand[0]) :
	    cand[1] != NULL ? xstrdup(cand[1]) : NULL;
	for (i = 0; i < r->nauth && !matched; i++)
		matched = org_in(v, r->auth_domains[i], cand);
	/* The reporter's own signature failing now means the content is
	   not what it signed, whatever a header says of the delivery. */
	for (i = 0; i < r->nsigs && matched; i++)
		if (r->sigs[i].result == VERIFY_SIG_FAIL &&
		    r->sigs[i].domain != NULL &&
		    org_in(v, r->sigs[i].domain, cand))
			matched = 0;
	free(cand[0]);
	free(cand[1]);
	if (matched)
		return (VERIFY_VERIFIED);
	if (r->any_fail || r->nauth != 0)
		return (VERIFY_FORGED);
	return (VERIFY_UNVERIFIED);
}

const char *
verify_sig_result_name(enum verify_sig_result x)
{
	static const char *names[] = {
		"pass", "fail", "temperror", "permerror", "skipped"
	};

	return ((unsigned)x < nitems(names) ? names[x] : "?");
}

const char *
verify_dmarc_name(enum verify_dmarc x)
{
	static const char *names[] = { "none", "pass", "fail" };

	return ((unsigned)x < nitems(names) ? names[x] : "?");
}

const char *
verify_authenticity_name(enum verify_authenticity x)
{
	static const char *names[] = { "unverified", "verified", "forged" };

	return ((unsigned)x < nitems(names) ? names[x] : "?");
}
