/*
 * oauth.c: a mailbox's token source: the grants of RFC 6749 (§4.4 client
 * credentials, §6 refresh) and RFC 7523 (§2.1 the JWT grant, §2.2 the JWT
 * client assertion), the cached access token and when to renew it, and
 * the rotated refresh token written back in place.
 *
 * Every file is read when a token is needed, not once at start: a key put
 * right, or a new `oauth2 login`, is used by the next poll.  Causes name
 * the endpoint, the provider's error code and description (scrubbed of
 * every secret of the request) and the setting that is probably wrong.
 */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"

#define MAX_SECRETS	4

struct oauth {
	struct oauth_opts	 o;	/* strings: copies, owned */
	char			*access;	/* the cached token */
	long			 got;		/* boot clock, seconds */
	long			 life;		/* seconds */
	char			*issuer;	/* the endpoint that gave it */
};

/* What one grant needs: the request, its secrets, the hint on refusal. */
struct oauth_req {
	struct buf	 form;
	const char	*secrets[MAX_SECRETS];
	char		*owned[MAX_SECRETS];	/* to wipe and free */
	size_t		 n;
	char		*url;		/* the token endpoint */
	char		*old_refresh;	/* refresh_token: the one sent */
};

static long	 boot_secs(void);
static char	*dup_opt(const char *);
static void	 free_opts(struct oauth_opts *);
static void	 req_init(struct oauth_req *);
static void	 req_secret(struct oauth_req *, char *);
static void	 req_free(struct oauth_req *);
static int	 req_client_credentials(const struct oauth_opts *,
		    const struct oauth_ends *, struct oauth_req *, char **);
static int	 req_assertion(const struct oauth_opts *, const char *,
		    struct oauth_req *, char **);
static int	 req_service_account(const struct oauth_opts *,
		    const struct oauth_ends *, struct oauth_req *, char **);
static int	 req_refresh(const struct oauth_opts *,
		    const struct oauth_ends *, struct oauth_req *, char **);
static char	*hint(const struct oauth_opts *, const char *);
static int	 grant(struct oauth *, struct oauth_reply *, enum oauth_class *,
		    char **);
static void	 rotate(struct oauth *, const struct oauth_req *,
		    const struct oauth_reply *);
static int	 check_https(const char *, const char *, char **);
static int	 check_files(const struct oauth_opts *, char **);

const char *
oauth_provider_name(enum oauth_provider p)
{
	switch (p) {
	case OAUTH_MICROSOFT:
		return ("microsoft");
	case OAUTH_GOOGLE:
		return ("google");
	case OAUTH_GENERIC:
		return ("generic");
	}
	return ("?");
}

const char *
oauth_flow_name(enum oauth_flow f)
{
	switch (f) {
	case OAUTH_CLIENT_CREDENTIALS:
		return ("client_credentials");
	case OAUTH_SERVICE_ACCOUNT:
		return ("service_account");
	case OAUTH_REFRESH_TOKEN:
		return ("refresh_token");
	}
	return ("?");
}

/* Seconds on a clock that counts suspend and never goes back. */
static long
boot_secs(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0 &&
	    clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fatal("clock_gettime");
	return ((long)ts.tv_sec);
}

static char *
dup_opt(const char *s)
{
	return (s != NULL ? xstrdup(s) : NULL);
}

struct oauth *
oauth_new(const struct oauth_opts *o)
{
	struct oauth	*oa;

	oa = xcalloc(1, sizeof *oa);
	oa->o = *o;
	oa->o.name = dup_opt(o->name != NULL ? o->name : "oauth2");
	oa->o.tenant = dup_opt(o->tenant);
	oa->o.client_id = dup_opt(o->client_id);
	oa->o.client_secret_file = dup_opt(o->client_secret_file);
	oa->o.client_certificate_file = dup_opt(o->client_certificate_file);
	oa->o.client_key_file = dup_opt(o->client_key_file);
	oa->o.service_account_file = dup_opt(o->service_account_file);
	oa->o.refresh_token_file = dup_opt(o->refresh_token_file);
	oa->o.token_url = dup_opt(o->token_url);
	oa->o.device_url = dup_opt(o->device_url);
	oa->o.auth_url = dup_opt(o->auth_url);
	oa->o.scope = dup_opt(o->scope);
	oa->o.ca_file = dup_opt(o->ca_file);
	oa->o.username = dup_opt(o->username);
	if (oa->o.timeout <= 0)
		oa->o.timeout = 60;
	return (oa);
}

/* The copies oauth_new made. */
static void
free_opts(struct oauth_opts *o)
{
	const char	**s[] = { &o->name, &o->tenant, &o->client_id,
	    &o->client_secret_file, &o->client_certificate_file,
	    &o->client_key_file, &o->service_account_file,
	    &o->refresh_token_file, &o->token_url, &o->device_url,
	    &o->auth_url, &o->scope, &o->ca_file, &o->username };
	size_t		  i;

	for (i = 0; i < sizeof s / sizeof s[0]; i++)
		free((char *)(uintptr_t)*s[i]);
}

void
oauth_free(struct oauth *oa)
{
	if (oa == NULL)
		return;
	free_opts(&oa->o);
	if (oa->access != NULL)
		explicit_bzero(oa->access, strlen(oa->access));
	free(oa->access);
	free(oa->issuer);
	free(oa);
}

long
oauth_token_left(struct oauth *oa)
{
	long	left;

	if (oa->access == NULL)
		return (-1);
	left = oa->got + oa->life - boot_secs();
	return (left < 0 ? 0 : left);
}

const char *
oauth_token_url(struct oauth *oa)
{
	return (oa->issuer);
}

int
oauth_ends(const struct oauth_opts *o, struct oauth_ends *e, char **cause)
{
	char	*base = NULL;

	memset(e, 0, sizeof *e);
	if (o->provider == OAUTH_MICROSOFT && o->tenant != NULL)
		xasprintf(&base, OAUTH_MS_HOST "%s/oauth2/v2.0/", o->tenant);
	e->token_url = dup_opt(o->token_url);
	e->device_url = dup_opt(o->device_url);
	e->auth_url = dup_opt(o->auth_url);
	e->scope = dup_opt(o->scope);
	if (o->provider == OAUTH_MICROSOFT) {
		if (e->token_url == NULL && base != NULL)
			xasprintf(&e->token_url, "%stoken", base);
		if (e->device_url == NULL && base != NULL)
			xasprintf(&e->device_url, "%sdevicecode", base);
		if (e->auth_url == NULL && base != NULL)
			xasprintf(&e->auth_url, "%sauthorize", base);
		if (e->scope == NULL)
			e->scope = xstrdup(o->flow == OAUTH_REFRESH_TOKEN ?
			    OAUTH_MS_SCOPE_USER : OAUTH_MS_SCOPE_APP);
	} else if (o->provider == OAUTH_GOOGLE) {
		if (e->token_url == NULL)
			e->token_url = xstrdup(OAUTH_GOOGLE_TOKEN);
		if (e->auth_url == NULL)
			e->auth_url = xstrdup(OAUTH_GOOGLE_AUTH);
		if (e->scope == NULL)
			e->scope = xstrdup(OAUTH_GOOGLE_SCOPE);
	}
	free(base);
	if (e->token_url == NULL) {
		xasprintf(cause, o->provider == OAUTH_MICROSOFT ?
		    "oauth2 needs \"tenant\" (or \"token_url\")" :
		    "oauth2 needs \"token_url\"");
		oauth_ends_free(e);
		return (-1);
	}
	return (0);
}

void
oauth_ends_free(struct oauth_ends *e)
{
	free(e->token_url);
	free(e->device_url);
	free(e->auth_url);
	free(e->scope);
	memset(e, 0, sizeof *e);
}

static void
req_init(struct oauth_req *rq)
{
	memset(rq, 0, sizeof *rq);
	buf_init(&rq->form, OAUTH_MAX_RESPONSE);
}

/* s is a secret of the request, owned by it from now on. */
static void
req_secret(struct oauth_req *rq, char *s)
{
	if (rq->n == MAX_SECRETS)
		fatalx("req_secret: too many secrets");
	rq->owned[rq->n] = s;
	rq->secrets[rq->n++] = s;
}

static void
req_free(struct oauth_req *rq)
{
	size_t	i;

	for (i = 0; i < rq->n; i++) {
		explicit_bzero(rq->owned[i], strlen(rq->owned[i]));
		free(rq->owned[i]);
	}
	if (rq->form.data != NULL)
		explicit_bzero(rq->form.data, rq->form.len);
	buf_free(&rq->form);
	free(rq->url);
	memset(rq, 0, sizeof *rq);
}

/*
 * The RFC 7523 §2.2 client assertion: iss = sub = client_id, aud = the
 * token endpoint, a jti of its own, valid for OAUTH_ASSERTION_LIFE, with
 * the certificate's thumbprints so the provider knows which key to check.
 */
static int
req_assertion(const struct oauth_opts *o, const char *aud,
    struct oauth_req *rq, char **cause)
{
	struct oauth_jwt	 j;
	EVP_PKEY		*key = NULL;
	X509			*cert = NULL;
	char			*pem, *kpem, *x5t = NULL, *x5t256 = NULL, *jwt;
	size_t			 len, klen;
	time_t			 now = time(NULL);
	int			 rc = -1;

	if ((pem = oauth_file_read(o->client_certificate_file,
	    OAUTH_MAX_FILE, "client_certificate_file", &len, cause)) == NULL)
		return (-1);
	cert = oauth_cert_parse(pem, len, "client_certificate_file", cause);
	free(pem);
	if (cert == NULL)
		return (-1);
	if ((kpem = oauth_file_read(o->client_key_file, OAUTH_MAX_FILE,
	    "client_key_file", &klen, cause)) == NULL)
		goto out;
	key = oauth_key_parse(kpem, klen, "client_key_file", cause);
	explicit_bzero(kpem, klen);
	free(kpem);
	if (key == NULL || oauth_cert_match(cert, key, cause) != 0)
		goto out;
	oauth_cert_thumbprints(cert, &x5t, &x5t256);
	memset(&j, 0, sizeof j);
	j.x5t = x5t;
	j.x5t_s256 = x5t256;
	j.iss = j.sub = o->client_id;
	j.aud = aud;
	j.jti = oauth_random(16);
	j.iat = j.nbf = now;
	j.exp = now + OAUTH_ASSERTION_LIFE;
	jwt = oauth_jwt_sign(key, &j, cause);
	free((char *)(uintptr_t)j.jti);
	if (jwt == NULL)
		goto out;
	req_secret(rq, jwt);
	oauth_form_add(&rq->form, "client_assertion_type", OAUTH_CA_JWT);
	oauth_form_add(&rq->form, "client_assertion", jwt);
	rc = 0;
out:
	free(x5t);
	free(x5t256);
	EVP_PKEY_free(key);
	X509_free(cert);
	return (rc);
}

static int
req_client_credentials(const struct oauth_opts *o,
    const struct oauth_ends *e, struct oauth_req *rq, char **cause)
{
	char	*secret;

	oauth_form_add(&rq->form, "grant_type", "client_credentials");
	oauth_form_add(&rq->form, "client_id", o->client_id);
	oauth_form_add(&rq->form, "scope", e->scope);
	if (o->client_secret_file == NULL)
		return (req_assertion(o, e->token_url, rq, cause));
	if ((secret = oauth_file_line(o->client_secret_file,
	    "client_secret_file", cause)) == NULL)
		return (-1);
	req_secret(rq, secret);
	oauth_form_add(&rq->form, "client_secret", secret);
	return (0);
}

/*
 * RFC 7523 §2.1 as Google has it: iss the service account, sub the user
 * whose mail is read (domain-wide delegation), the scope, aud the token
 * endpoint, at most an hour.  The endpoint: token_url, else the file's
 * token_uri, else Google's.
 */
static int
req_service_account(const struct oauth_opts *o, const struct oauth_ends *e,
    struct oauth_req *rq, char **cause)
{
	struct oauth_sa		 sa;
	struct oauth_jwt	 j;
	EVP_PKEY		*key;
	char			*text, *jwt, *why;
	size_t			 len;
	time_t			 now = time(NULL);

	if ((text = oauth_file_read(o->service_account_file, OAUTH_MAX_FILE,
	    "service_account_file", &len, cause)) == NULL)
		return (-1);
	if (oauth_sa_parse(text, len, &sa, &why) != 0) {
		xasprintf(cause, "service_account_file \"%s\": %s",
		    o->service_account_file, why);
		free(why);
		explicit_bzero(text, len);
		free(text);
		return (-1);
	}
	explicit_bzero(text, len);
	free(text);
	key = oauth_key_parse(sa.private_key, strlen(sa.private_key),
	    "service_account_file's private_key", cause);
	if (key == NULL) {
		oauth_sa_free(&sa);
		return (-1);
	}
	if (o->token_url == NULL && sa.token_uri != NULL) {
		free(rq->url);
		rq->url = xstrdup(sa.token_uri);
	}
	memset(&j, 0, sizeof j);
	j.kid = sa.private_key_id;
	j.iss = sa.client_email;
	j.sub = o->username;
	j.scope = e->scope;
	j.aud = rq->url;
	j.iat = now;
	j.exp = now + OAUTH_GOOGLE_LIFE;
	jwt = oauth_jwt_sign(key, &j, cause);
	EVP_PKEY_free(key);
	oauth_sa_free(&sa);
	if (jwt == NULL)
		return (-1);
	req_secret(rq, jwt);
	oauth_form_add(&rq->form, "grant_type", OAUTH_GT_JWT);
	oauth_form_add(&rq->form, "assertion", jwt);
	return (0);
}

static int
req_refresh(const struct oauth_opts *o, const struct oauth_ends *e,
    struct oauth_req *rq, char **cause)
{
	char	*rt, *secret;

	if (access(o->refresh_token_file, F_OK) != 0 && errno == ENOENT) {
		xasprintf(cause, "no refresh token yet in \"%s\": run "
		    "dmarc-agent oauth2 login %s", o->refresh_token_file,
		    o->name);
		return (-1);
	}
	if ((rt = oauth_file_line(o->refresh_token_file,
	    "refresh_token_file", cause)) == NULL)
		return (-1);
	req_secret(rq, rt);
	rq->old_refresh = rt;
	oauth_form_add(&rq->form, "grant_type", "refresh_token");
	oauth_form_add(&rq->form, "refresh_token", rt);
	oauth_form_add(&rq->form, "client_id", o->client_id);
	/* Google takes no scope here: the grant keeps the consented one. */
	if (o->provider != OAUTH_GOOGLE)
		oauth_form_add(&rq->form, "scope", e->scope);
	if (o->client_secret_file != NULL) {
		if ((secret = oauth_file_line(o->client_secret_file,
		    "client_secret_file", cause)) == NULL)
			return (-1);
		req_secret(rq, secret);
		oauth_form_add(&rq->form, "client_secret", secret);
	}
	return (0);
}

/* What to look at when the endpoint refused with error (malloc'd). */
static char *
hint(const struct oauth_opts *o, const char *error)
{
	char	*h = NULL;
	int	 client = strcmp(error, "invalid_client") == 0 ||
	    strcmp(error, "unauthorized_client") == 0;

	if (o->flow == OAUTH_REFRESH_TOKEN && strcmp(error, "invalid_grant")
	    == 0)
		xasprintf(&h, "the refresh token in \"%s\" was revoked or has "
		    "expired: run dmarc-agent oauth2 login %s",
		    o->refresh_token_file, o->name);
	else if (o->flow == OAUTH_SERVICE_ACCOUNT)
		xasprintf(&h, "check service_account_file \"%s\", the "
		    "domain-wide delegation of its client ID for the scope, "
		    "and that user \"%s\" exists", o->service_account_file,
		    o->username != NULL ? o->username : "");
	else if (client && o->client_secret_file != NULL)
		xasprintf(&h, "check client_id \"%s\" and client_secret_file "
		    "\"%s\"", o->client_id, o->client_secret_file);
	else if (client || strcmp(error, "invalid_grant") == 0)
		xasprintf(&h, "check client_id \"%s\", client_certificate_file "
		    "\"%s\" (uploaded to the app registration?) and "
		    "client_key_file", o->client_id,
		    o->client_certificate_file != NULL ?
		    o->client_certificate_file : "");
	else if (strcmp(error, "invalid_scope") == 0)
		xasprintf(&h, "check scope");
	return (h);
}

int
oauth_exchange(const struct oauth_opts *o, const char *url, const char *what,
    struct buf *form, const char *const *secrets, size_t n,
    struct oauth_reply *r, enum oauth_class *cls, char **cause)
{
	struct oauth_http	 h;
	char			*why = NULL, *desc = NULL, *esc, *code;

	memset(r, 0, sizeof *r);
	r->expires_in = r->interval = -1;
	if (oauth_http_post(url, form->data, o->ca_file, o->timeout, &h, cls,
	    cause) != 0)
		return (-1);
	if (oauth_reply_parse(h.body.data, h.body.len, r, &why) != 0) {
		*cls = h.status / 100 == 2 ? OAUTH_FATAL :
		    oauth_classify(h.status, NULL);
		xasprintf(cause, "%s %s: HTTP %ld, %s", what, url, h.status,
		    why);
		free(why);
		oauth_http_free(&h);
		return (-1);
	}
	oauth_http_free(&h);
	if (h.status / 100 == 2 && r->error == NULL)
		return (0);
	*cls = oauth_classify(h.status, r->error);
	if (r->error_description != NULL) {
		desc = oauth_scrub(r->error_description, secrets, n);
		esc = log_escape(desc, strlen(desc), OAUTH_MAX_TEXT);
		free(desc);
		xasprintf(&desc, ": %s", esc);
		free(esc);
	}
	code = r->error != NULL ? oauth_scrub(r->error, secrets, n) :
	    xstrdup("no error code");
	esc = log_escape(code, strlen(code), 64);
	xasprintf(cause, "%s %s refused: %s%s (HTTP %ld)", what, url, esc,
	    desc != NULL ? desc : "", h.status);
	free(esc);
	free(code);
	free(desc);
	return (-1);
}

/* One grant of the configured flow; the answer in *r. */
static int
grant(struct oauth *oa, struct oauth_reply *r, enum oauth_class *cls,
    char **cause)
{
	const struct oauth_opts	*o = &oa->o;
	struct oauth_ends	 e;
	struct oauth_req	 rq;
	char			*h, *why;
	int			 rc;

	*cls = OAUTH_AUTH;
	if (oauth_ends(o, &e, cause) != 0)
		return (-1);
	req_init(&rq);
	rq.url = xstrdup(e.token_url);
	if (o->flow == OAUTH_CLIENT_CREDENTIALS)
		rc = req_client_credentials(o, &e, &rq, cause);
	else if (o->flow == OAUTH_SERVICE_ACCOUNT)
		rc = req_service_account(o, &e, &rq, cause);
	else
		rc = req_refresh(o, &e, &rq, cause);
	oauth_ends_free(&e);
	if (rc != 0) {
		req_free(&rq);
		return (-1);
	}
	rc = oauth_exchange(o, rq.url, "token endpoint", &rq.form,
	    rq.secrets, rq.n, r, cls, cause);
	if (rc != 0 && *cls == OAUTH_AUTH &&
	    (h = hint(o, r->error != NULL ? r->error : "")) != NULL) {
		why = *cause;
		xasprintf(cause, "%s; %s", why, h);
		free(why);
		free(h);
	}
	if (rc == 0) {
		free(oa->issuer);
		oa->issuer = xstrdup(rq.url);
		rotate(oa, &rq, r);
	} else
		oauth_reply_free(r);
	req_free(&rq);
	return (rc);
}

/*
 * A refresh token the endpoint rotated goes to the file before the old
 * one is forgotten.  When it cannot be written, the old one stays (the
 * providers keep it valid for a while) and the failure is logged.
 */
static void
rotate(struct oauth *oa, const struct oauth_req *rq,
    const struct oauth_reply *r)
{
	char	*cause;

	if (oa->o.flow != OAUTH_REFRESH_TOKEN || r->refresh_token == NULL ||
	    *r->refresh_token == '\0' || rq->old_refresh == NULL ||
	    strcmp(r->refresh_token, rq->old_refresh) == 0)
		return;
	if (oauth_file_replace(oa->o.refresh_token_file, r->refresh_token,
	    oa->o.fault_rotate, &cause) != 0) {
		log_warnx("%s: the rotated refresh token is lost: %s",
		    oa->o.name, cause);
		free(cause);
		return;
	}
	log_info("%s: refresh token rotated, \"%s\" replaced", oa->o.name,
	    oa->o.refresh_token_file);
}

char *
oauth_token(struct oauth *oa, int renew, enum oauth_class *cls,
    char **cause)
{
	struct oauth_reply	 r;
	long			 now = boot_secs();

	*cls = OAUTH_OK;
	if (oa->access != NULL && !renew &&
	    oauth_fresh(oa->got, oa->life, now))
		return (xstrdup(oa->access));
	if (oa->access != NULL) {
		explicit_bzero(oa->access, strlen(oa->access));
		free(oa->access);
		oa->access = NULL;
	}
	if (grant(oa, &r, cls, cause) != 0)
		return (NULL);
	if (r.access_token == NULL || *r.access_token == '\0' ||
	    (r.token_type != NULL && strcasecmp(r.token_type, "bearer") != 0)) {
		*cls = OAUTH_FATAL;
		xasprintf(cause, "token endpoint %s: no bearer access_token in "
		    "its answer", oa->issuer);
		oauth_reply_free(&r);
		return (NULL);
	}
	oa->access = r.access_token;
	r.access_token = NULL;
	/* Counted from before the request: never longer than it is. */
	oa->got = now;
	oa->life = r.expires_in > 0 ? r.expires_in : OAUTH_LIFE_DEFAULT;
	oauth_reply_free(&r);
	log_debug("%s: new access token from %s, valid for %ld s",
	    oa->o.name, oa->issuer, oa->life);
	return (xstrdup(oa->access));
}

static int
check_https(const char *what, const char *url, char **cause)
{
	if (url == NULL || strncasecmp(url, "https://", 8) == 0)
		return (0);
	xasprintf(cause, "%s \"%s\" must be an https:// URL", what, url);
	return (-1);
}

/* The files of the flow: readable, and the keys load. */
static int
check_files(const struct oauth_opts *o, char **cause)
{
	struct oauth_req	 rq;
	struct oauth_ends	 e;
	struct oauth_sa		 sa;
	char			*s, *text, *why;
	size_t			 len;
	int			 rc = 0;

	if (o->client_secret_file != NULL) {
		if ((s = oauth_file_line(o->client_secret_file,
		    "client_secret_file", cause)) == NULL)
			return (-1);
		explicit_bzero(s, strlen(s));
		free(s);
	}
	if (o->flow == OAUTH_CLIENT_CREDENTIALS &&
	    o->client_secret_file == NULL) {
		/* Builds and signs an assertion: key, certificate, match. */
		req_init(&rq);
		rc = req_assertion(o, "https://check.invalid/", &rq, cause);
		req_free(&rq);
	} else if (o->flow == OAUTH_SERVICE_ACCOUNT) {
		if ((text = oauth_file_read(o->service_account_file,
		    OAUTH_MAX_FILE, "service_account_file", &len, cause)) ==
		    NULL)
			return (-1);
		rc = oauth_sa_parse(text, len, &sa, &why);
		explicit_bzero(text, len);
		free(text);
		if (rc != 0) {
			xasprintf(cause, "service_account_file \"%s\": %s",
			    o->service_account_file, why);
			free(why);
			return (-1);
		}
		req_init(&rq);
		rq.url = xstrdup(sa.token_uri != NULL ? sa.token_uri :
		    OAUTH_GOOGLE_TOKEN);
		rc = check_https("service_account_file's token_uri",
		    sa.token_uri, cause);
		oauth_sa_free(&sa);
		if (rc == 0 && oauth_ends(o, &e, cause) == 0) {
			rc = req_service_account(o, &e, &rq, cause);
			oauth_ends_free(&e);
		} else
			rc = -1;
		req_free(&rq);
	} else if (o->flow == OAUTH_REFRESH_TOKEN &&
	    access(o->refresh_token_file, F_OK) == 0) {
		if ((s = oauth_file_line(o->refresh_token_file,
		    "refresh_token_file", cause)) == NULL)
			return (-1);
		explicit_bzero(s, strlen(s));
		free(s);
	}
	return (rc);
}

int
oauth_check(const struct oauth_opts *o, char **cause)
{
	struct oauth_ends	e;
	int			rc;

	if (oauth_ends(o, &e, cause) != 0)
		return (-1);
	rc = check_https("token_url", e.token_url, cause) == 0 &&
	    check_https("device_url", e.device_url, cause) == 0 &&
	    check_https("auth_url", e.auth_url, cause) == 0 ? 0 : -1;
	oauth_ends_free(&e);
	if (rc != 0)
		return (-1);
	return (check_files(o, cause));
}
