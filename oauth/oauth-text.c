/*
 * oauth-text.c: the pure parts of OAuth 2.0: base64url, form encoding,
 * query strings, the endpoints' JSON answers, Google's key file, the
 * renewal arithmetic, error classes and scrubbing secrets out of text.
 * No I/O here: tests/unit/tst_oauth.c checks all of it.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"

static const char b64std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static char	*b64_encode(const void *, size_t, const char *);
static char	*pct_encode(const char *, const char *, int, int);
static int	 hexval(int);
static char	*pct_decode(const char *, size_t);
static char	*json_str(json_object *, const char *, int *);
static long	 json_long(json_object *, const char *, int *);
static void	 scrub_one(struct buf *, const char *, size_t, const char *);

/* base64 in alphabet abc, without padding. */
static char *
b64_encode(const void *data, size_t len, const char *abc)
{
	const unsigned char	*p = data;
	char			*out, *o;
	size_t			 i;
	unsigned long		 v;

	out = o = xmalloc(len / 3 * 4 + 5);
	for (i = 0; i + 2 < len; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
		*o++ = abc[v & 63];
	}
	if (len - i == 1) {
		v = (unsigned long)p[i] << 16;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
	} else if (len - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		*o++ = abc[v >> 18 & 63];
		*o++ = abc[v >> 12 & 63];
		*o++ = abc[v >> 6 & 63];
	}
	*o = '\0';
	return (out);
}

char *
oauth_b64url(const void *data, size_t len)
{
	return (b64_encode(data, len, b64url));
}

unsigned char *
oauth_b64url_decode(const char *s, size_t *len)
{
	unsigned char	*out;
	const char	*c;
	size_t		 n = strlen(s), i, o = 0;
	unsigned long	 v = 0;
	int		 bits = 0;

	if (n % 4 == 1)
		return (NULL);
	out = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		if (s[i] == '\0' || (c = strchr(b64url, s[i])) == NULL) {
			free(out);
			return (NULL);
		}
		v = (v << 6 | (unsigned long)(c - b64url)) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	*len = o;
	return (out);
}

/*
 * Percent-encode every byte of s that is not alphanumeric or in keep;
 * space as '+' when plus is set; hex digits in upper case unless lower.
 */
static char *
pct_encode(const char *s, const char *keep, int plus, int lower)
{
	const char	*hex = lower ? "0123456789abcdef" : "0123456789ABCDEF";
	const unsigned char *p;
	char		*out, *o;

	out = o = xmalloc(strlen(s) * 3 + 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p) != NULL)
			*o++ = (char)*p;
		else if (*p == ' ' && plus)
			*o++ = '+';
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return (out);
}

void
oauth_form_add(struct buf *b, const char *name, const char *value)
{
	char	*n, *v;

	if (value == NULL)
		return;
	n = pct_encode(name, "*-._", 1, 0);
	v = pct_encode(value, "*-._", 1, 0);
	if (b->len != 0)
		buf_add(b, "&", 1);
	buf_add(b, n, strlen(n));
	buf_add(b, "=", 1);
	buf_add(b, v, strlen(v));
	explicit_bzero(v, strlen(v));
	free(n);
	free(v);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* len bytes of form-encoded text, decoded (a bad escape is kept). */
static char *
pct_decode(const char *s, size_t len)
{
	char	*out, *o;
	size_t	 i;

	out = o = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			*o++ = ' ';
		else if (s[i] == '%' && i + 2 < len &&
		    hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		} else
			*o++ = s[i];
	}
	*o = '\0';
	return (out);
}

char *
oauth_query_get(const char *q, const char *name)
{
	const char	*p = q, *eq, *end;
	size_t		 nlen = strlen(name), len;

	len = strcspn(q, "#");
	while (p < q + len) {
		end = p + strcspn(p, "&#");
		if (end > q + len)
			end = q + len;
		eq = memchr(p, '=', (size_t)(end - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    strncmp(p, name, nlen) == 0)
			return (pct_decode(eq + 1, (size_t)(end - eq - 1)));
		p = *end == '&' ? end + 1 : q + len;
	}
	return (NULL);
}

/*
 * Member name of o as a new string; absent or null: NULL.  Another type
 * sets *bad.
 */
static char *
json_str(json_object *o, const char *name, int *bad)
{
	json_object	*m;

	if (!json_object_object_get_ex(o, name, &m) || m == NULL)
		return (NULL);
	if (!json_object_is_type(m, json_type_string)) {
		*bad = 1;
		return (NULL);
	}
	return (xstrdup(json_object_get_string(m)));
}

/*
 * Member name as a number (some endpoints send "3599" as a string); -1
 * when absent, *bad set when it is neither.
 */
static long
json_long(json_object *o, const char *name, int *bad)
{
	json_object	*m;
	const char	*s;
	char		*end;
	long		 v;

	if (!json_object_object_get_ex(o, name, &m) || m == NULL)
		return (-1);
	if (json_object_is_type(m, json_type_int)) {
		v = (long)json_object_get_int64(m);
		return (v < 0 ? 0 : v);
	}
	if (json_object_is_type(m, json_type_string)) {
		s = json_object_get_string(m);
		v = strtol(s, &end, 10);
		if (end != s && *end == '\0' && v >= 0)
			return (v);
	}
	*bad = 1;
	return (-1);
}

int
oauth_reply_parse(const char *text, size_t len, struct oauth_reply *r,
    char **cause)
{
	struct json_tokener	*tok;
	json_object		*o;
	int			 bad = 0;

	memset(r, 0, sizeof *r);
	r->expires_in = r->interval = -1;
	if ((tok = json_tokener_new_ex(16)) == NULL)
		fatalx("json_tokener_new_ex: out of memory");
	o = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		xasprintf(cause, "the answer is not a JSON object");
		return (-1);
	}
	r->access_token = json_str(o, "access_token", &bad);
	r->token_type = json_str(o, "token_type", &bad);
	r->refresh_token = json_str(o, "refresh_token", &bad);
	r->error = json_str(o, "error", &bad);
	r->error_description = json_str(o, "error_description", &bad);
	r->device_code = json_str(o, "device_code", &bad);
	r->user_code = json_str(o, "user_code", &bad);
	r->verification_uri = json_str(o, "verification_uri", &bad);
	if (r->verification_uri == NULL)
		r->verification_uri = json_str(o, "verification_url", &bad);
	r->expires_in = json_long(o, "expires_in", &bad);
	r->interval = json_long(o, "interval", &bad);
	json_object_put(o);
	if (bad) {
		oauth_reply_free(r);
		xasprintf(cause, "the answer has a member of the wrong type");
		return (-1);
	}
	return (0);
}

void
oauth_reply_free(struct oauth_reply *r)
{
	char	**secret[] = { &r->access_token, &r->refresh_token,
	    &r->device_code };
	size_t	  i;

	for (i = 0; i < sizeof secret / sizeof secret[0]; i++)
		if (*secret[i] != NULL)
			explicit_bzero(*secret[i], strlen(*secret[i]));
	free(r->access_token);
	free(r->token_type);
	free(r->refresh_token);
	free(r->error);
	free(r->error_description);
	free(r->device_code);
	free(r->user_code);
	free(r->verification_uri);
	memset(r, 0, sizeof *r);
	r->expires_in = r->interval = -1;
}

int
oauth_fresh(long got, long lifetime, long now)
{
	long	margin;

	margin = lifetime / 10 < OAUTH_RENEW_MAX ? lifetime / 10 :
	    OAUTH_RENEW_MAX;
	return (got + lifetime - now > margin);
}

/*
 * RFC 6749 §5.2's codes and RFC 8628 §3.5's are the credential's fault,
 * except temporarily_unavailable and server_error (RFC 6749 §4.1.2.1);
 * without a code, the HTTP status decides.
 */
enum oauth_class
oauth_classify(long status, const char *error)
{
	if (status == 0)
		return (OAUTH_RETRY);
	if (error != NULL && (strcmp(error, "temporarily_unavailable") == 0 ||
	    strcmp(error, "server_error") == 0))
		return (OAUTH_RETRY);
	if (status >= 500 || status == 429 || status == 408)
		return (OAUTH_RETRY);
	if (error != NULL || (status >= 400 && status < 500))
		return (OAUTH_AUTH);
	return (OAUTH_FATAL);
}

/* Copy text into out with every occurrence of pat masked. */
static void
scrub_one(struct buf *out, const char *text, size_t plen, const char *pat)
{
	const char	*p = text, *hit;

	buf_reset(out);
	while ((hit = strstr(p, pat)) != NULL) {
		buf_add(out, p, (size_t)(hit - p));
		buf_add(out, OAUTH_MASK, strlen(OAUTH_MASK));
		p = hit + plen;
	}
	buf_add(out, p, strlen(p));
}

char *
oauth_scrub(const char *text, const char *const *secrets, size_t n)
{
	struct buf	 a, b;
	char		*forms[6], *t;
	size_t		 i, j, len;

	buf_init(&a, SIZE_MAX - 1);	/* bounded by text and the masks */
	buf_init(&b, SIZE_MAX - 1);
	buf_add(&a, text, strlen(text));
	for (i = 0; i < n; i++) {
		if (secrets[i] == NULL || (len = strlen(secrets[i])) < 4)
			continue;
		forms[0] = xstrdup(secrets[i]);
		forms[1] = pct_encode(secrets[i], "*-._", 1, 0);
		forms[2] = pct_encode(secrets[i], "*-._", 1, 1);
		forms[3] = pct_encode(secrets[i], "-._~", 0, 0);
		forms[4] = b64_encode(secrets[i], len, b64std);
		forms[5] = b64_encode(secrets[i], len, b64url);
		for (j = 0; j < 6; j++) {
			scrub_one(&b, a.data, strlen(forms[j]), forms[j]);
			explicit_bzero(a.data, a.len);
			buf_reset(&a);
			buf_add(&a, b.data, b.len);
			explicit_bzero(b.data, b.len);
			explicit_bzero(forms[j], strlen(forms[j]));
			free(forms[j]);
		}
	}
	buf_free(&b);
	t = buf_steal(&a, NULL);
	return (t);
}

int
oauth_sa_parse(const char *text, size_t len, struct oauth_sa *sa,
    char **cause)
{
	struct json_tokener	*tok;
	json_object		*o;
	char			*type;
	int			 bad = 0;

	memset(sa, 0, sizeof *sa);
	if ((tok = json_tokener_new_ex(16)) == NULL)
		fatalx("json_tokener_new_ex: out of memory");
	o = json_tokener_parse_ex(tok, text, (int)len);
	json_tokener_free(tok);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		xasprintf(cause, "not a JSON key file");
		return (-1);
	}
	type = json_str(o, "type", &bad);
	sa->client_email = json_str(o, "client_email", &bad);
	sa->private_key = json_str(o, "private_key", &bad);
	sa->private_key_id = json_str(o, "private_key_id", &bad);
	sa->token_uri = json_str(o, "token_uri", &bad);
	json_object_put(o);
	if (bad || (type != NULL && strcmp(type, "service_account") != 0) ||
	    sa->client_email == NULL || sa->private_key == NULL) {
		if (type != NULL && strcmp(type, "service_account") != 0)
			xasprintf(cause, "a key file of type \"%.40s\", not "
			    "\"service_account\"", type);
		else
			xasprintf(cause, "not a service account key file "
			    "(client_email and private_key needed)");
		free(type);
		oauth_sa_free(sa);
		return (-1);
	}
	free(type);
	return (0);
}

void
oauth_sa_free(struct oauth_sa *sa)
{
	if (sa->private_key != NULL)
		explicit_bzero(sa->private_key, strlen(sa->private_key));
	free(sa->client_email);
	free(sa->private_key);
	free(sa->private_key_id);
	free(sa->token_uri);
	memset(sa, 0, sizeof *sa);
}
