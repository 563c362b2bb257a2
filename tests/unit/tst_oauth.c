/*
 * tst_oauth.c: the pure parts of oauth/: base64url, form encoding and
 * query strings, the endpoints' answers, the renewal arithmetic, error
 * classes, scrubbing secrets, Google's key file, JWTs signed and verified
 * with the public key alone, keys and certificates, PKCE, the endpoints'
 * defaults, and the atomic replacement of a token file.  Keys and
 * certificates are made here with libcrypto; nothing touches the network.
 */
#include "config.h"

#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"
#include "tests/tst.h"

static void	 t_b64url(void);
static void	 t_form(void);
static void	 t_query(void);
static void	 t_reply(void);
static void	 t_fresh(void);
static void	 t_classify(void);
static void	 t_scrub(void);
static void	 t_sa(void);
static void	 t_pkce(void);
static void	 t_jwt(void);
static void	 t_keys(void);
static void	 t_ends(void);
static void	 t_replace(void);
static void	 t_check(void);
static char	*key_pem(EVP_PKEY *, const char *);
static X509	*self_signed(EVP_PKEY *);
static char	*cert_pem(X509 *);
static char	*decode_text(const char *, size_t);
static int	 verify(EVP_PKEY *, const char *);
static char	*write_file(const char *, const char *, const char *);

static char	 tmpdir[] = "/tmp/tst_oauth.XXXXXX";

static void
t_b64url(void)
{
	static const struct {
		const char	*in;
		size_t		 len;
		const char	*out;
	} t[] = {
		{ "", 0, "" },
		{ "f", 1, "Zg" },
		{ "fo", 2, "Zm8" },
		{ "foo", 3, "Zm9v" },
		{ "foob", 4, "Zm9vYg" },
		{ "fooba", 5, "Zm9vYmE" },
		{ "foobar", 6, "Zm9vYmFy" },
		{ "\xfb\xff", 2, "-_8" },
		{ "\x00\x10\x83", 3, "ABCD" },
	};
	unsigned char	*d;
	char		*e;
	size_t		 i, n;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		e = oauth_b64url(t[i].in, t[i].len);
		CHECK_STR(e, t[i].out);
		d = oauth_b64url_decode(e, &n);
		CHECK(d != NULL && n == t[i].len &&
		    memcmp(d, t[i].in, n) == 0);
		free(d);
		free(e);
	}
	CHECK(oauth_b64url_decode("a", &n) == NULL);
	CHECK(oauth_b64url_decode("ab+c", &n) == NULL);
	CHECK(oauth_b64url_decode("ab=", &n) == NULL);
}

static void
t_form(void)
{
	static const struct {
		const char	*name, *value, *out;
	} t[] = {
		{ "a", "b", "a=b" },
		{ "scope", "https://outlook.office365.com/.default",
		    "scope=https%3A%2F%2Foutlook.office365.com%2F.default" },
		{ "s", "a b+c", "s=a+b%2Bc" },
		{ "x&y", "z=1&w", "x%26y=z%3D1%26w" },
		{ "t", "*-._~", "t=*-._%7E" },
		{ "u", "\xc3\xa9", "u=%C3%A9" },
		{ "e", "", "e=" },
	};
	struct buf	b;
	size_t		i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		buf_init(&b, 4096);
		oauth_form_add(&b, t[i].name, t[i].value);
		CHECK_STR(b.data, t[i].out);
		buf_free(&b);
	}
	buf_init(&b, 4096);
	oauth_form_add(&b, "grant_type", "client_credentials");
	oauth_form_add(&b, "client_secret", NULL);
	oauth_form_add(&b, "client_id", "00000000-aaaa");
	CHECK_STR(b.data, "grant_type=client_credentials&"
	    "client_id=00000000-aaaa");
	buf_free(&b);
	/* The cap is the caller's: past it, nothing more is added. */
	buf_init(&b, 8);
	oauth_form_add(&b, "a", "b");
	oauth_form_add(&b, "long", "value");
	CHECK(b.len <= 8);
	buf_free(&b);
}

static void
t_query(void)
{
	static const struct {
		const char	*q, *name, *want;
	} t[] = {
		{ "code=4%2F0Ab-x&state=s+t", "code", "4/0Ab-x" },
		{ "code=4%2F0Ab-x&state=s+t", "state", "s t" },
		{ "code=1&state=2", "stat", NULL },
		{ "xcode=1&code=2", "code", "2" },
		{ "error=access_denied#code=9", "code", NULL },
		{ "error=access_denied#code=9", "error", "access_denied" },
		{ "a=%zz&b", "a", "%zz" },
		{ "a=%4", "a", "%4" },
		{ "", "a", NULL },
		{ "code=&state=x", "code", "" },
	};
	char	*v;
	size_t	 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = oauth_query_get(t[i].q, t[i].name);
		CHECK_STR(v, t[i].want);
		free(v);
	}
}

static void
t_reply(void)
{
	struct oauth_reply	 r;
	char			*cause = NULL;
	const char		*ok = "{\"token_type\":\"Bearer\","
	    "\"expires_in\":3599,\"ext_expires_in\":3599,"
	    "\"access_token\":\"eyJ0eXAi.abc.def\",\"refresh_token\":\"0.AR\"}";
	const char		*err = "{\"error\":\"invalid_client\","
	    "\"error_description\":\"AADSTS7000215: Invalid client secret "
	    "provided.\",\"error_codes\":[7000215]}";
	const char		*dev = "{\"device_code\":\"GmRh\","
	    "\"user_code\":\"WDJB-MJHT\",\"verification_url\":"
	    "\"https://example.com/device\",\"expires_in\":\"1800\","
	    "\"interval\":5}";

	CHECK_INT(oauth_reply_parse(ok, strlen(ok), &r, &cause), 0);
	CHECK_STR(r.access_token, "eyJ0eXAi.abc.def");
	CHECK_STR(r.token_type, "Bearer");
	CHECK_STR(r.refresh_token, "0.AR");
	CHECK_INT(r.expires_in, 3599);
	CHECK_INT(r.interval, -1);
	CHECK(r.error == NULL);
	oauth_reply_free(&r);
	CHECK_INT(oauth_reply_parse(err, strlen(err), &r, &cause), 0);
	CHECK_STR(r.error, "invalid_client");
	CHECK_STR(r.error_description,
	    "AADSTS7000215: Invalid client secret provided.");
	CHECK(r.access_token == NULL);
	CHECK_INT(r.expires_in, -1);
	oauth_reply_free(&r);
	CHECK_INT(oauth_reply_parse(dev, strlen(dev), &r, &cause), 0);
	CHECK_STR(r.device_code, "GmRh");
	CHECK_STR(r.user_code, "WDJB-MJHT");
	CHECK_STR(r.verification_uri, "https://example.com/device");
	CHECK_INT(r.expires_in, 1800);
	CHECK_INT(r.interval, 5);
	oauth_reply_free(&r);
	/* Only part of the text counts. */
	CHECK_INT(oauth_reply_parse(ok, 20, &r, &cause), -1);
	CHECK_STR(cause, "the answer is not a JSON object");
	free(cause);
	CHECK_INT(oauth_reply_parse("[1]", 3, &r, &cause), -1);
	free(cause);
	CHECK_INT(oauth_reply_parse("<html>", 6, &r, &cause), -1);
	free(cause);
	CHECK_INT(oauth_reply_parse("{\"access_token\":5}", 18, &r, &cause),
	    -1);
	CHECK_STR(cause, "the answer has a member of the wrong type");
	free(cause);
	CHECK_INT(oauth_reply_parse("{\"expires_in\":\"soon\"}", 21, &r,
	    &cause), -1);
	free(cause);
	CHECK_INT(oauth_reply_parse("{\"access_token\":null}", 21, &r,
	    &cause), 0);
	CHECK(r.access_token == NULL);
	oauth_reply_free(&r);
}

static void
t_fresh(void)
{
	static const struct {
		long	got, life, now;
		int	fresh;
	} t[] = {
		{ 0, 3600, 0, 1 },
		{ 0, 3600, 3299, 1 },	/* 301 s left: margin 300 */
		{ 0, 3600, 3300, 0 },
		{ 1000, 3600, 4299, 1 },
		{ 1000, 3600, 4300, 0 },
		{ 0, 86400, 86099, 1 },	/* 5 minutes, not 10% */
		{ 0, 86400, 86100, 0 },
		{ 0, 60, 53, 1 },	/* 10% of a short lifetime */
		{ 0, 60, 54, 0 },
		{ 0, 15, 13, 1 },
		{ 0, 15, 14, 0 },
		{ 0, 15, 20, 0 },	/* expired */
		{ 0, 0, 0, 0 },
		{ 100, 3600, 50, 1 },	/* a clock read before got */
	};
	size_t	i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++)
		CHECK_INT(oauth_fresh(t[i].got, t[i].life, t[i].now),
		    t[i].fresh);
}

static void
t_classify(void)
{
	static const struct {
		long		 status;
		const char	*error;
		enum oauth_class cls;
	} t[] = {
		{ 0, NULL, OAUTH_RETRY },
		{ 400, "invalid_client", OAUTH_AUTH },
		{ 401, "invalid_client", OAUTH_AUTH },
		{ 400, "invalid_grant", OAUTH_AUTH },
		{ 400, "unauthorized_client", OAUTH_AUTH },
		{ 400, "invalid_scope", OAUTH_AUTH },
		{ 400, "expired_token", OAUTH_AUTH },
		{ 503, "temporarily_unavailable", OAUTH_RETRY },
		{ 400, "temporarily_unavailable", OAUTH_RETRY },
		{ 500, "server_error", OAUTH_RETRY },
		{ 502, NULL, OAUTH_RETRY },
		{ 429, NULL, OAUTH_RETRY },
		{ 408, NULL, OAUTH_RETRY },
		{ 404, NULL, OAUTH_AUTH },
		{ 200, "invalid_request", OAUTH_AUTH },
		{ 302, NULL, OAUTH_FATAL },
	};
	enum oauth_class	cls;
	size_t			i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cls = oauth_classify(t[i].status, t[i].error);
		CHECK_INT(cls, t[i].cls);
	}
}

static void
t_scrub(void)
{
	const char	*secrets[] = { "s3cr3t+/=Value~x", NULL, "abc",
	    "rt-0.AXyz" };
	const char	*in = "raw s3cr3t+/=Value~x, form s3cr3t%2B%2F%3DValue"
	    "%7Ex, lower s3cr3t%2b%2f%3dValue%7ex, uri s3cr3t%2B%2F%3DValue~x,"
	    " b64 czNjcjN0Ky89VmFsdWV+eA, b64url czNjcjN0Ky89VmFsdWV-eA, "
	    "rt rt-0.AXyz twice rt-0.AXyz; abc stays";
	char		*out;

	out = oauth_scrub(in, secrets, 4);
	CHECK_STR(out, "raw ********, form ********, lower ********, uri "
	    "********, b64 ********, b64url ********, rt ******** twice "
	    "********; abc stays");
	free(out);
	out = oauth_scrub("nothing here", secrets, 4);
	CHECK_STR(out, "nothing here");
	free(out);
	out = oauth_scrub("", NULL, 0);
	CHECK_STR(out, "");
	free(out);
}

static void
t_sa(void)
{
	static const struct {
		const char	*json;
		int		 rc;
		const char	*email, *kid, *uri, *cause;
	} t[] = {
		{ "{\"type\":\"service_account\",\"project_id\":\"p\","
		    "\"private_key_id\":\"k1\",\"private_key\":\"PEM\","
		    "\"client_email\":\"sa@p.iam.gserviceaccount.com\","
		    "\"token_uri\":\"https://oauth2.googleapis.com/token\"}",
		    0, "sa@p.iam.gserviceaccount.com", "k1",
		    "https://oauth2.googleapis.com/token", NULL },
		{ "{\"private_key\":\"PEM\",\"client_email\":\"a@b\"}",
		    0, "a@b", NULL, NULL, NULL },
		{ "{\"type\":\"authorized_user\",\"client_id\":\"x\"}", -1,
		    NULL, NULL, NULL, "a key file of type \"authorized_user\", "
		    "not \"service_account\"" },
		{ "{\"type\":\"service_account\",\"client_email\":\"a@b\"}",
		    -1, NULL, NULL, NULL, "not a service account key file "
		    "(client_email and private_key needed)" },
		{ "{\"private_key\":7,\"client_email\":\"a@b\"}", -1, NULL,
		    NULL, NULL, "not a service account key file "
		    "(client_email and private_key needed)" },
		{ "-----BEGIN PRIVATE KEY-----", -1, NULL, NULL, NULL,
		    "not a JSON key file" },
	};
	struct oauth_sa	 sa;
	char		*cause;
	size_t		 i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		cause = NULL;
		CHECK_INT(oauth_sa_parse(t[i].json, strlen(t[i].json), &sa,
		    &cause), t[i].rc);
		CHECK_STR(cause, t[i].cause);
		if (t[i].rc == 0) {
			CHECK_STR(sa.client_email, t[i].email);
			CHECK_STR(sa.private_key, "PEM");
			CHECK_STR(sa.private_key_id, t[i].kid);
			CHECK_STR(sa.token_uri, t[i].uri);
			oauth_sa_free(&sa);
		}
		free(cause);
	}
}

static void
t_pkce(void)
{
	char	*c, *v;

	/* RFC 7636 Appendix B. */
	c = oauth_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
	CHECK_STR(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	free(c);
	v = oauth_random(48);
	CHECK_INT(strlen(v), 64);
	CHECK(strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == 64);
	c = oauth_random(48);
	CHECK(strcmp(c, v) != 0);
	free(c);
	free(v);
}

/* PEM of a key, encrypted with pass when not NULL; malloc'd. */
static char *
key_pem(EVP_PKEY *key, const char *pass)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data, *out;
	long	 n;

	if (pass != NULL)
		PEM_write_bio_PKCS8PrivateKey(bio, key, EVP_aes_256_cbc(),
		    pass, (int)strlen(pass), NULL, NULL);
	else
		PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return (out);
}

static X509 *
self_signed(EVP_PKEY *key)
{
	X509	*x = X509_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)"dmarc-agent test", -1, -1,
	    0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_set_pubkey(x, key);
	X509_sign(x, key, EVP_sha256());
	return (x);
}

static char *
cert_pem(X509 *x)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data, *out;
	long	 n;

	PEM_write_bio_X509(bio, x);
	n = BIO_get_mem_data(bio, &data);
	out = xstrndup(data, (size_t)n);
	BIO_free(bio);
	return (out);
}

/* A base64url segment as text. */
static char *
decode_text(const char *seg, size_t len)
{
	char		*s = xstrndup(seg, len), *t;
	unsigned char	*d;
	size_t		 n;

	d = oauth_b64url_decode(s, &n);
	free(s);
	if (d == NULL)
		return (NULL);
	t = xstrndup((char *)d, n);
	free(d);
	return (t);
}

/* Verify an RS256 JWT with the public half of key only: 1 good. */
static int
verify(EVP_PKEY *key, const char *jwt)
{
	unsigned char	*der = NULL, *sig;
	const unsigned char *p;
	EVP_PKEY	*pub;
	EVP_MD_CTX	*md;
	const char	*dot;
	size_t		 siglen;
	int		 n, ok;

	n = i2d_PUBKEY(key, &der);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	dot = strrchr(jwt, '.');
	if (pub == NULL || dot == NULL ||
	    (sig = oauth_b64url_decode(dot + 1, &siglen)) == NULL) {
		EVP_PKEY_free(pub);
		return (0);
	}
	md = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) == 1 &&
	    EVP_DigestVerify(md, sig, siglen, (const unsigned char *)jwt,
	    (size_t)(dot - jwt)) == 1;
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(pub);
	free(sig);
	return (ok);
}

static void
t_jwt(void)
{
	struct oauth_jwt	 j;
	EVP_PKEY		*key, *other, *ec;
	const char		*d1, *d2;
	char			*jwt, *h, *c, *cause = NULL;

	key = EVP_RSA_gen(2048);
	other = EVP_RSA_gen(2048);
	memset(&j, 0, sizeof j);
	j.x5t = "x5t-sha1";
	j.x5t_s256 = "x5t-sha256";
	j.iss = j.sub = "00000000-1111-2222-3333-444444444444";
	j.aud = "https://login.microsoftonline.com/contoso/oauth2/v2.0/token";
	j.jti = "jti-1";
	j.iat = j.nbf = 1700000000;
	j.exp = 1700000600;
	jwt = oauth_jwt_sign(key, &j, &cause);
	CHECK(jwt != NULL);
	d1 = strchr(jwt, '.');
	d2 = d1 != NULL ? strchr(d1 + 1, '.') : NULL;
	CHECK(d2 != NULL && strchr(d2 + 1, '.') == NULL);
	if (d2 == NULL) {
		free(jwt);
		return;
	}
	h = decode_text(jwt, (size_t)(d1 - jwt));
	c = decode_text(d1 + 1, (size_t)(d2 - d1 - 1));
	CHECK_STR(h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"x5t\":\"x5t-sha1\","
	    "\"x5t#S256\":\"x5t-sha256\"}");
	CHECK_STR(c, "{\"iss\":\"00000000-1111-2222-3333-444444444444\","
	    "\"sub\":\"00000000-1111-2222-3333-444444444444\",\"aud\":"
	    "\"https://login.microsoftonline.com/contoso/oauth2/v2.0/token\","
	    "\"jti\":\"jti-1\",\"iat\":1700000000,\"nbf\":1700000000,"
	    "\"exp\":1700000600}");
	free(h);
	free(c);
	CHECK_INT(verify(key, jwt), 1);
	CHECK_INT(verify(other, jwt), 0);
	jwt[5] = jwt[5] == 'A' ? 'B' : 'A';	/* a changed header */
	CHECK_INT(verify(key, jwt), 0);
	free(jwt);
	/* Google's: kid, scope, no nbf or jti. */
	memset(&j, 0, sizeof j);
	j.kid = "8f2c";
	j.iss = "reports@proj.iam.gserviceaccount.com";
	j.sub = "dmarc@example.com";
	j.scope = "https://mail.google.com/";
	j.aud = "https://oauth2.googleapis.com/token";
	j.iat = 1700000000;
	j.exp = 1700003600;
	jwt = oauth_jwt_sign(key, &j, &cause);
	d1 = strchr(jwt, '.');
	d2 = strchr(d1 + 1, '.');
	h = decode_text(jwt, (size_t)(d1 - jwt));
	c = decode_text(d1 + 1, (size_t)(d2 - d1 - 1));
	CHECK_STR(h, "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"8f2c\"}");
	CHECK_STR(c, "{\"iss\":\"reports@proj.iam.gserviceaccount.com\","
	    "\"sub\":\"dmarc@example.com\",\"aud\":"
	    "\"https://oauth2.googleapis.com/token\",\"scope\":"
	    "\"https://mail.google.com/\",\"iat\":1700000000,"
	    "\"exp\":1700003600}");
	CHECK_INT(verify(key, jwt), 1);
	free(h);
	free(c);
	free(jwt);
	/* RS256 only. */
	ec = EVP_EC_gen("P-256");
	CHECK(oauth_jwt_sign(ec, &j, &cause) == NULL);
	CHECK_STR(cause, "RS256 needs an RSA key");
	free(cause);
	EVP_PKEY_free(ec);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

static void
t_keys(void)
{
	EVP_PKEY	*key, *other, *small, *ec, *k;
	X509		*x, *y;
	unsigned char	*der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int	 mdlen;
	char		*pem, *cause = NULL, *x5t, *x5t256, *want;
	int		 n;

	key = EVP_RSA_gen(2048);
	other = EVP_RSA_gen(2048);
	small = EVP_RSA_gen(1024);
	ec = EVP_EC_gen("P-256");
	pem = key_pem(key, NULL);
	k = oauth_key_parse(pem, strlen(pem), "client_key_file", &cause);
	CHECK(k != NULL && EVP_PKEY_eq(k, key) == 1);
	EVP_PKEY_free(k);
	free(pem);
	pem = key_pem(key, "pass-phrase-1");
	CHECK(oauth_key_parse(pem, strlen(pem), "client_key_file", &cause) ==
	    NULL);
	CHECK_STR(cause, "client_key_file: the key is encrypted; store it "
	    "without a passphrase (mode 0600)");
	free(cause);
	free(pem);
	pem = key_pem(ec, NULL);
	CHECK(oauth_key_parse(pem, strlen(pem), "k", &cause) == NULL);
	CHECK_STR(cause, "k: a EC key; RS256 needs an RSA key");
	free(cause);
	free(pem);
	pem = key_pem(small, NULL);
	CHECK(oauth_key_parse(pem, strlen(pem), "k", &cause) == NULL);
	CHECK_STR(cause, "k: an RSA key of 1024 bits; 2048 at least");
	free(cause);
	free(pem);
	CHECK(oauth_key_parse("garbage", 7, "k", &cause) == NULL);
	CHECK(cause != NULL && strncmp(cause, "k: no PEM private key", 21) ==
	    0);
	free(cause);
	/* Certificates: parse, match, thumbprints. */
	x = self_signed(key);
	pem = cert_pem(x);
	y = oauth_cert_parse(pem, strlen(pem), "client_certificate_file",
	    &cause);
	CHECK(y != NULL && X509_cmp(x, y) == 0);
	free(pem);
	CHECK_INT(oauth_cert_match(y, key, &cause), 0);
	CHECK_INT(oauth_cert_match(y, other, &cause), -1);
	CHECK_STR(cause, "client_certificate_file and client_key_file do not "
	    "match: the certificate holds another key");
	free(cause);
	oauth_cert_thumbprints(y, &x5t, &x5t256);
	n = i2d_X509(y, &der);
	EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha1(), NULL);
	want = oauth_b64url(md, mdlen);
	CHECK_STR(x5t, want);
	CHECK_INT(strlen(x5t), 27);
	free(want);
	EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL);
	want = oauth_b64url(md, mdlen);
	CHECK_STR(x5t256, want);
	CHECK_INT(strlen(x5t256), 43);
	free(want);
	OPENSSL_free(der);
	free(x5t);
	free(x5t256);
	CHECK(oauth_cert_parse("nope", 4, "c", &cause) == NULL);
	free(cause);
	X509_free(x);
	X509_free(y);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
	EVP_PKEY_free(small);
	EVP_PKEY_free(ec);
}

static void
t_ends(void)
{
	struct oauth_opts	 o;
	struct oauth_ends	 e;
	char			*cause = NULL;

	memset(&o, 0, sizeof o);
	o.provider = OAUTH_MICROSOFT;
	o.flow = OAUTH_CLIENT_CREDENTIALS;
	o.tenant = "contoso.onmicrosoft.com";
	CHECK_INT(oauth_ends(&o, &e, &cause), 0);
	CHECK_STR(e.token_url, "https://login.microsoftonline.com/"
	    "contoso.onmicrosoft.com/oauth2/v2.0/token");
	CHECK_STR(e.device_url, "https://login.microsoftonline.com/"
	    "contoso.onmicrosoft.com/oauth2/v2.0/devicecode");
	CHECK_STR(e.scope, "https://outlook.office365.com/.default");
	oauth_ends_free(&e);
	o.flow = OAUTH_REFRESH_TOKEN;
	o.token_url = "https://login.microsoftonline.us/x/oauth2/v2.0/token";
	CHECK_INT(oauth_ends(&o, &e, &cause), 0);
	CHECK_STR(e.token_url,
	    "https://login.microsoftonline.us/x/oauth2/v2.0/token");
	CHECK_STR(e.scope, "https://outlook.office365.com/"
	    "IMAP.AccessAsUser.All offline_access");
	oauth_ends_free(&e);
	o.tenant = NULL;
	o.token_url = NULL;
	CHECK_INT(oauth_ends(&o, &e, &cause), -1);
	CHECK_STR(cause, "oauth2 needs \"tenant\" (or \"token_url\")");
	free(cause);
	memset(&o, 0, sizeof o);
	o.provider = OAUTH_GOOGLE;
	o.flow = OAUTH_SERVICE_ACCOUNT;
	CHECK_INT(oauth_ends(&o, &e, &cause), 0);
	CHECK_STR(e.token_url, "https://oauth2.googleapis.com/token");
	CHECK_STR(e.auth_url, "https://accounts.google.com/o/oauth2/v2/auth");
	CHECK_STR(e.scope, "https://mail.google.com/");
	CHECK(e.device_url == NULL);
	oauth_ends_free(&e);
	o.provider = OAUTH_GENERIC;
	CHECK_INT(oauth_ends(&o, &e, &cause), -1);
	CHECK_STR(cause, "oauth2 needs \"token_url\"");
	free(cause);
	CHECK_STR(oauth_provider_name(OAUTH_GOOGLE), "google");
	CHECK_STR(oauth_flow_name(OAUTH_SERVICE_ACCOUNT), "service_account");
}

/* tmpdir/name holding text; malloc'd path. */
static char *
write_file(const char *name, const char *text, const char *mode)
{
	FILE	*f;
	char	*path;

	xasprintf(&path, "%s/%s", tmpdir, name);
	if ((f = fopen(path, "w")) == NULL)
		fatal("%s", path);
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)strtol(mode, NULL, 8));
	return (path);
}

static void
t_replace(void)
{
	struct stat	 st;
	char		*path, *tmp, *line, *cause = NULL;

	path = write_file("refresh", "old-token-1\n", "644");
	CHECK_INT(oauth_file_replace(path, "new-token-2", 0, &cause), 0);
	line = oauth_file_line(path, "refresh_token_file", &cause);
	CHECK_STR(line, "new-token-2");
	free(line);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	xasprintf(&tmp, "%s.tmp", path);
	CHECK(access(tmp, F_OK) != 0);
	/* What a crash left behind does not stop the next write. */
	free(write_file("refresh.tmp", "new-tok", "600"));
	CHECK_INT(oauth_file_replace(path, "newer-token-3", 0, &cause), 0);
	line = oauth_file_line(path, "refresh_token_file", &cause);
	CHECK_STR(line, "newer-token-3");
	free(line);
	CHECK(access(tmp, F_OK) != 0);
	free(tmp);
	free(path);
	xasprintf(&path, "%s/no/such/dir/refresh", tmpdir);
	CHECK_INT(oauth_file_replace(path, "x", 0, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "cannot write refresh_token_file")
	    != NULL && strstr(cause, "No such file") != NULL);
	free(cause);
	free(path);
	path = write_file("empty", "\n", "600");
	CHECK(oauth_file_line(path, "client_secret_file", &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "is empty") != NULL);
	free(cause);
	free(path);
}

/* oauth_check against files made here: nothing is contacted. */
static void
t_check(void)
{
	struct oauth_opts	 o;
	EVP_PKEY		*key, *other;
	X509			*x;
	char			*kp, *cp, *op, *sp, *json, *pem, *cause = NULL;

	key = EVP_RSA_gen(2048);
	other = EVP_RSA_gen(2048);
	x = self_signed(key);
	pem = key_pem(key, NULL);
	kp = write_file("key.pem", pem, "600");
	free(pem);
	pem = key_pem(other, NULL);
	op = write_file("other.pem", pem, "600");
	free(pem);
	pem = cert_pem(x);
	cp = write_file("cert.pem", pem, "644");
	free(pem);
	memset(&o, 0, sizeof o);
	o.provider = OAUTH_MICROSOFT;
	o.flow = OAUTH_CLIENT_CREDENTIALS;
	o.tenant = "contoso";
	o.client_id = "cid";
	o.client_certificate_file = cp;
	o.client_key_file = kp;
	CHECK_INT(oauth_check(&o, &cause), 0);
	o.client_key_file = op;
	CHECK_INT(oauth_check(&o, &cause), -1);
	CHECK_STR(cause, "client_certificate_file and client_key_file do not "
	    "match: the certificate holds another key");
	free(cause);
	o.client_key_file = kp;
	o.token_url = "http://127.0.0.1/token";
	CHECK_INT(oauth_check(&o, &cause), -1);
	CHECK_STR(cause, "token_url \"http://127.0.0.1/token\" must be an "
	    "https:// URL");
	free(cause);
	o.token_url = NULL;
	o.client_secret_file = "/nonexistent/secret";
	CHECK_INT(oauth_check(&o, &cause), -1);
	CHECK_STR(cause, "client_secret_file \"/nonexistent/secret\": No such "
	    "file or directory");
	free(cause);
	/* Google: the key inside the JSON file. */
	pem = key_pem(key, NULL);
	json = NULL;
	{
		json_object *j = json_object_new_object();

		json_object_object_add(j, "type",
		    json_object_new_string("service_account"));
		json_object_object_add(j, "client_email",
		    json_object_new_string("sa@p.iam.gserviceaccount.com"));
		json_object_object_add(j, "private_key",
		    json_object_new_string(pem));
		json = xstrdup(json_object_to_json_string(j));
		json_object_put(j);
	}
	free(pem);
	sp = write_file("sa.json", json, "600");
	free(json);
	memset(&o, 0, sizeof o);
	o.provider = OAUTH_GOOGLE;
	o.flow = OAUTH_SERVICE_ACCOUNT;
	o.service_account_file = sp;
	o.username = "dmarc@example.com";
	CHECK_INT(oauth_check(&o, &cause), 0);
	o.service_account_file = kp;
	CHECK_INT(oauth_check(&o, &cause), -1);
	CHECK(cause != NULL && strstr(cause, "not a JSON key file") != NULL);
	free(cause);
	/* A refresh token file that is not there yet is no error. */
	memset(&o, 0, sizeof o);
	o.provider = OAUTH_GOOGLE;
	o.flow = OAUTH_REFRESH_TOKEN;
	o.refresh_token_file = "/nonexistent/refresh";
	CHECK_INT(oauth_check(&o, &cause), 0);
	free(kp);
	free(op);
	free(cp);
	free(sp);
	X509_free(x);
	EVP_PKEY_free(key);
	EVP_PKEY_free(other);
}

int
main(void)
{
	char	cmd[128];

	log_init(LOG_TO_STDERR, 0);
	if (mkdtemp(tmpdir) == NULL)
		fatal("mkdtemp");
	t_b64url();
	t_form();
	t_query();
	t_reply();
	t_fresh();
	t_classify();
	t_scrub();
	t_sa();
	t_pkce();
	t_jwt();
	t_keys();
	t_ends();
	t_replace();
	t_check();
	snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmpdir);
	return (TST_DONE());
}
