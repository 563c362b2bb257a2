/*
 * oauth_p.h: the oauth module's internals, shared by the oauth/ files and
 * tests/unit/tst_oauth.c.  The text functions (oauth-text.c) and the JWT
 * functions (oauth-jwt.c) do no I/O.
 */
#ifndef OAUTH_P_H
#define OAUTH_P_H

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <stddef.h>
#include <time.h>

#include "common/common.h"
#include "oauth/oauth.h"

#define OAUTH_MAX_RESPONSE	(64 * 1024)	/* bytes of an HTTP answer */
#define OAUTH_MAX_FILE		(64 * 1024)	/* a key, a certificate, the
						   service account file */
#define OAUTH_MAX_TOKEN		(16 * 1024)	/* a refresh token, a secret */
#define OAUTH_MAX_TEXT		300	/* of an error_description shown */
#define OAUTH_RENEW_MAX		300	/* renew at most 5 min before */
#define OAUTH_LIFE_DEFAULT	3600	/* when expires_in is missing */
#define OAUTH_ASSERTION_LIFE	600	/* a client assertion, seconds */
#define OAUTH_GOOGLE_LIFE	3600	/* Google's maximum for a JWT */
#define OAUTH_MASK		"********"

/* The providers' endpoints and scopes. */
#define OAUTH_MS_HOST		"https://login.microsoftonline.com/"
#define OAUTH_MS_SCOPE_APP	"https://outlook.office365.com/.default"
#define OAUTH_MS_SCOPE_USER	"https://outlook.office365.com/" \
				"IMAP.AccessAsUser.All offline_access"
#define OAUTH_GOOGLE_TOKEN	"https://oauth2.googleapis.com/token"
#define OAUTH_GOOGLE_AUTH	"https://accounts.google.com/o/oauth2/v2/auth"
#define OAUTH_GOOGLE_SCOPE	"https://mail.google.com/"
#define OAUTH_GT_JWT		"urn:ietf:params:oauth:grant-type:jwt-bearer"
#define OAUTH_GT_DEVICE		"urn:ietf:params:oauth:grant-type:device_code"
#define OAUTH_CA_JWT		"urn:ietf:params:oauth:client-assertion-type:" \
				"jwt-bearer"

/* oauth-text.c */

/* base64url without padding (RFC 7515 §2); malloc'd. */
char	*oauth_b64url(const void *, size_t);
/* The reverse; NULL when the text is not base64url.  *len is set. */
unsigned char *oauth_b64url_decode(const char *, size_t *len);

/*
 * Append name=value to an application/x-www-form-urlencoded body
 * (WHATWG URL "application/x-www-form-urlencoded serializer": every byte
 * but ALPHA, DIGIT, "*-._" percent-encoded, space as "+"), with "&" before
 * it unless the buffer is empty.  The buffer's cap is the caller's.
 * value NULL: nothing is added.
 */
void	oauth_form_add(struct buf *, const char *, const char *);
/* The value of name in a query string (after '?', up to '#'), decoded;
   NULL when absent.  malloc'd. */
char	*oauth_query_get(const char *, const char *);

/* What a token or device endpoint answered (RFC 6749 §5.1, §5.2;
   RFC 8628 §3.2, §3.5).  Strings owned; free with oauth_reply_free. */
struct oauth_reply {
	char	*access_token;
	char	*token_type;
	long	 expires_in;		/* -1: not given */
	char	*refresh_token;
	char	*error;
	char	*error_description;
	char	*device_code;
	char	*user_code;
	char	*verification_uri;	/* Microsoft's, or
					   verification_url (Google's) */
	long	 interval;		/* -1: not given */
};

/*
 * Parse a JSON answer.  0, or -1 with *cause when it is not a JSON object
 * or a member has the wrong type.  Members are not required here.
 */
int	oauth_reply_parse(const char *, size_t, struct oauth_reply *, char **);
void	oauth_reply_free(struct oauth_reply *);

/*
 * Whether a token got at got (seconds, any monotonic clock) with lifetime
 * seconds can still be used at now: more than the renewal margin,
 * min(OAUTH_RENEW_MAX, lifetime / 10), left.
 */
int	oauth_fresh(long got, long lifetime, long now);

/* The class of an endpoint's answer: HTTP status and error code. */
enum oauth_class oauth_classify(long status, const char *error);

/*
 * text with every occurrence of each secret, as it is, in base64
 * (standard or url alphabet) or percent-encoded (form or URL), replaced
 * with OAUTH_MASK; malloc'd.  NULL secrets and those shorter than 4 bytes
 * are left (they would mask ordinary words).
 */
char	*oauth_scrub(const char *, const char *const *, size_t);

/* Google's service account key file: the members used, owned. */
struct oauth_sa {
	char	*client_email;
	char	*private_key;		/* PEM */
	char	*private_key_id;	/* the JWT's kid */
	char	*token_uri;		/* NULL: not given */
};
/* 0, or -1 with *cause naming what is missing (never the key). */
int	oauth_sa_parse(const char *, size_t, struct oauth_sa *, char **);
void	oauth_sa_free(struct oauth_sa *);

/* oauth-jwt.c */

/* The header and claims of a JWT; NULL strings and 0 times are left out. */
struct oauth_jwt {
	const char	*kid;
	const char	*x5t;		/* base64url SHA-1 of the DER */
	const char	*x5t_s256;	/* base64url SHA-256 of the DER */
	const char	*iss;
	const char	*sub;
	const char	*aud;
	const char	*scope;
	const char	*jti;
	time_t		 iat;
	time_t		 nbf;
	time_t		 exp;
};

/*
 * header.claims.signature, RS256 (RFC 7518 §3.3: RSASSA-PKCS1-v1_5 with
 * SHA-256) with key, which must be RSA.  malloc'd (a secret: wipe it);
 * NULL with *cause.
 */
char	*oauth_jwt_sign(EVP_PKEY *, const struct oauth_jwt *, char **);

/*
 * A private key from PEM text (PKCS#8 or PKCS#1, not encrypted), which
 * must be RSA of 2048 bits or more.  what names it in *cause.
 */
EVP_PKEY *oauth_key_parse(const char *, size_t, const char *what, char **);
/* A certificate from PEM text; NULL with *cause. */
X509	*oauth_cert_parse(const char *, size_t, const char *what, char **);
/* 0 when the certificate holds key's public half, else -1 with *cause. */
int	 oauth_cert_match(X509 *, EVP_PKEY *, char **);
/* Its x5t and x5t#S256 thumbprints (RFC 7515 §4.1.7, §4.1.8). */
void	 oauth_cert_thumbprints(X509 *, char **x5t, char **x5t_s256);

/* n random bytes as base64url (a jti, a PKCE verifier, a state). */
char	*oauth_random(size_t);
/* The PKCE S256 challenge of a verifier (RFC 7636 §4.2). */
char	*oauth_pkce_challenge(const char *);

/* oauth-file.c */

/*
 * A whole file of at most max bytes, NUL-terminated (*len without it);
 * what names the setting in *cause ("client_key_file").  Wipe and free it
 * when it holds a secret.
 */
char	*oauth_file_read(const char *, size_t max, const char *what,
	    size_t *len, char **);
/* Its first line, the line end dropped; empty is an error. */
char	*oauth_file_line(const char *, const char *what, char **);

/*
 * Replace path with text and a newline, atomically: a temporary file in
 * the same directory (path.tmp, mode 0600), written, fsync'd, renamed over
 * path, then the directory fsync'd.  A crash leaves the old file or the
 * new one, never a mix.  fault: opts.fault_rotate.  0, or -1 with *cause.
 */
int	oauth_file_replace(const char *, const char *, int fault, char **);

/* oauth-http.c */

struct oauth_http {
	long		 status;	/* 0: no answer */
	struct buf	 body;		/* capped at OAUTH_MAX_RESPONSE */
};

/*
 * POST form (x-www-form-urlencoded) to url (https only, no redirects
 * followed, certificate verified with ca_file or the system's store).
 * 0 when an answer came, whatever its status; -1 with *cause and *cls
 * (OAUTH_RETRY: no answer; OAUTH_FATAL: certificate not trusted, answer
 * over the cap).  Free with oauth_http_free.
 */
int	oauth_http_post(const char *url, const char *form, const char *ca_file,
	    long timeout, struct oauth_http *, enum oauth_class *, char **);
void	oauth_http_free(struct oauth_http *);

/* oauth.c, shared with oauth-login.c */

/* The options with every default filled in: urls and scope. */
struct oauth_ends {
	char	*token_url;
	char	*device_url;
	char	*auth_url;
	char	*scope;
};
/* 0, or -1 with *cause when a needed URL cannot be made. */
int	oauth_ends(const struct oauth_opts *, struct oauth_ends *, char **);
void	oauth_ends_free(struct oauth_ends *);

/*
 * POST form to url and parse the answer.  0 when it is a success (2xx
 * and a JSON object); else -1 with *cls and *cause ("what: error:
 * description (HTTP n)"), the answer's error kept in *r when it had one.
 * secrets (n of them) are scrubbed from the cause.
 */
int	oauth_exchange(const struct oauth_opts *, const char *url,
	    const char *what, struct buf *form, const char *const *, size_t,
	    struct oauth_reply *, enum oauth_class *, char **);

#endif
