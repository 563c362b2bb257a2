/*
 * oauth-jwt.c: JSON Web Tokens signed with RS256 (RFC 7515, RFC 7518
 * §3.3) for the two assertions of RFC 7523: a client authenticating with
 * its certificate's key (§2.2, Microsoft's client_assertion) and a
 * service account asking for a user's token (§2.1, Google's jwt-bearer
 * grant); the keys and certificates they need, from PEM text; random
 * values and the PKCE challenge.  libcrypto does the cryptography; no I/O.
 */
#include "config.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"

#define KEY_BITS_MIN	2048

static int	no_passphrase(char *, int, int, void *);
static void	add_str(json_object *, const char *, const char *);
static void	add_time(json_object *, const char *, time_t);
static char	*segment(json_object *);
static const char *ssl_reason(void);

/* Never ask a terminal for a passphrase: an encrypted key is refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	return (-1);
}

/* The reason of libcrypto's last error (static), the queue cleared. */
static const char *
ssl_reason(void)
{
	const char	*r;
	unsigned long	 e = ERR_peek_last_error();

	r = e != 0 ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	return (r != NULL ? r : "unknown error");
}

EVP_PKEY *
oauth_key_parse(const char *pem, size_t len, const char *what, char **cause)
{
	BIO		*bio;
	EVP_PKEY	*key;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf failed");
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (key == NULL) {
		if (strstr(pem, "ENCRYPTED") != NULL) {
			ERR_clear_error();
			xasprintf(cause, "%s: the key is encrypted; store it "
			    "without a passphrase (mode 0600)", what);
		} else
			xasprintf(cause, "%s: no PEM private key (%s)", what,
			    ssl_reason());
		return (NULL);
	}
	if (!EVP_PKEY_is_a(key, "RSA")) {
		xasprintf(cause, "%s: a %s key; RS256 needs an RSA key", what,
		    EVP_PKEY_get0_type_name(key));
		EVP_PKEY_free(key);
		return (NULL);
	}
	if (EVP_PKEY_get_bits(key) < KEY_BITS_MIN) {
		xasprintf(cause, "%s: an RSA key of %d bits; %d at least",
		    what, EVP_PKEY_get_bits(key), KEY_BITS_MIN);
		EVP_PKEY_free(key);
		return (NULL);
	}
	return (key);
}

X509 *
oauth_cert_parse(const char *pem, size_t len, const char *what, char **cause)
{
	BIO	*bio;
	X509	*cert;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		fatalx("BIO_new_mem_buf failed");
	cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (cert == NULL)
		xasprintf(cause, "%s: no PEM certificate (%s)", what,
		    ssl_reason());
	return (cert);
}

int
oauth_cert_match(X509 *cert, EVP_PKEY *key, char **cause)
{
	EVP_PKEY	*pub = X509_get0_pubkey(cert);

	if (pub != NULL && EVP_PKEY_eq(pub, key) == 1)
		return (0);
	ERR_clear_error();
	xasprintf(cause, "client_certificate_file and client_key_file do not "
	    "match: the certificate holds another key");
	return (-1);
}

void
oauth_cert_thumbprints(X509 *cert, char **x5t, char **x5t_s256)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n;

	if (X509_digest(cert, EVP_sha1(), md, &n) != 1)
		fatalx("X509_digest failed");
	*x5t = oauth_b64url(md, n);
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
		fatalx("X509_digest failed");
	*x5t_s256 = oauth_b64url(md, n);
}

static void
add_str(json_object *o, const char *name, const char *v)
{
	if (v != NULL)
		json_object_object_add(o, name, json_object_new_string(v));
}

static void
add_time(json_object *o, const char *name, time_t t)
{
	if (t != 0)
		json_object_object_add(o, name,
		    json_object_new_int64((int64_t)t));
}

/* base64url of o's compact JSON; o is released. */
static char *
segment(json_object *o)
{
	const char	*s;
	char		*out;

	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
	    JSON_C_TO_STRING_NOSLASHESCAPE);
	out = oauth_b64url(s, strlen(s));
	json_object_put(o);
	return (out);
}

char *
oauth_jwt_sign(EVP_PKEY *key, const struct oauth_jwt *j, char **cause)
{
	json_object	*h, *c;
	EVP_MD_CTX	*md;
	unsigned char	*sig;
	char		*head, *claims, *input, *s64, *jwt;
	size_t		 siglen;

	if (!EVP_PKEY_is_a(key, "RSA")) {
		xasprintf(cause, "RS256 needs an RSA key");
		return (NULL);
	}
	h = json_object_new_object();
	add_str(h, "alg", "RS256");
	add_str(h, "typ", "JWT");
	add_str(h, "kid", j->kid);
	add_str(h, "x5t", j->x5t);
	add_str(h, "x5t#S256", j->x5t_s256);
	c = json_object_new_object();
	add_str(c, "iss", j->iss);
	add_str(c, "sub", j->sub);
	add_str(c, "aud", j->aud);
	add_str(c, "scope", j->scope);
	add_str(c, "jti", j->jti);
	add_time(c, "iat", j->iat);
	add_time(c, "nbf", j->nbf);
	add_time(c, "exp", j->exp);
	head = segment(h);
	claims = segment(c);
	xasprintf(&input, "%s.%s", head, claims);
	free(head);
	free(claims);
	if ((md = EVP_MD_CTX_new()) == NULL)
		fatalx("EVP_MD_CTX_new failed");
	if (EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen, (unsigned char *)input,
	    strlen(input)) != 1) {
		EVP_MD_CTX_free(md);
		free(input);
		xasprintf(cause, "cannot sign the JWT: %s", ssl_reason());
		return (NULL);
	}
	sig = xmalloc(siglen);
	if (EVP_DigestSign(md, sig, &siglen, (unsigned char *)input,
	    strlen(input)) != 1) {
		EVP_MD_CTX_free(md);
		free(sig);
		free(input);
		xasprintf(cause, "cannot sign the JWT: %s", ssl_reason());
		return (NULL);
	}
	EVP_MD_CTX_free(md);
	s64 = oauth_b64url(sig, siglen);
	free(sig);
	xasprintf(&jwt, "%s.%s", input, s64);
	free(input);
	free(s64);
	return (jwt);
}

char *
oauth_random(size_t n)
{
	unsigned char	 buf[64];
	char		*out;

	if (n > sizeof buf)
		fatalx("oauth_random: %zu bytes", n);
	if (RAND_bytes(buf, (int)n) != 1)
		fatalx("RAND_bytes failed");
	out = oauth_b64url(buf, n);
	explicit_bzero(buf, sizeof buf);
	return (out);
}

char *
oauth_pkce_challenge(const char *verifier)
{
	unsigned char	md[EVP_MAX_MD_SIZE];
	unsigned int	n;

	if (EVP_Digest(verifier, strlen(verifier), md, &n, EVP_sha256(),
	    NULL) != 1)
		fatalx("EVP_Digest failed");
	return (oauth_b64url(md, n));
}
