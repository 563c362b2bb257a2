/*
 * verify-parse.c: the pure parts of verify/: header fields, the
 * Authentication-Results grammar (RFC 8601 §2.2), From domains, domain
 * alignment on organisational domains (RFC 7489 §3.2, with the public
 * suffix list) and key records (RFC 6376 §3.6.1).  No network, no state.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/common.h"
#include "verify/verify_p.h"

/* A tokenizer over one Authentication-Results value. */
struct ar_lex {
	char	*s;		/* the value, comments blanked */
	size_t	 pos;
};

static void	 ar_blank_comments(char *);
static char	*ar_word(struct ar_lex *, int);
static void	 ar_skip_ws(struct ar_lex *);
static int	 ar_resinfo(struct ar_lex *, struct verify_ar *);
static void	 ar_keep(char **, const char *);
static char	*addr_domain(const char *);

size_t
verify_fields(const char *buf, size_t len, verify_field_fn cb, void *arg)
{
	size_t		 pos = 0, start, end, nlen;
	const char	*colon, *nl;

	while (pos < len) {
		if (buf[pos] == '\n')
			return (pos + 1);
		if (buf[pos] == '\r' && pos + 1 < len && buf[pos + 1] == '\n')
			return (pos + 2);
		start = pos;
		/* The field runs to a line end not followed by WSP. */
		for (;;) {
			nl = memchr(buf + pos, '\n', len - pos);
			if (nl == NULL) {
				pos = len;
				break;
			}
			pos = (size_t)(nl - buf) + 1;
			if (pos >= len || (buf[pos] != ' ' && buf[pos] != '\t'))
				break;
		}
		end = pos;
		while (end > start && (buf[end - 1] == '\n' ||
		    buf[end - 1] == '\r'))
			end--;
		colon = memchr(buf + start, ':', end - start);
		if (colon == NULL)
			continue;	/* an mbox "From " line, or junk */
		nlen = (size_t)(colon - (buf + start));
		while (nlen > 0 && (buf[start + nlen - 1] == ' ' ||
		    buf[start + nlen - 1] == '\t'))
			nlen--;
		if (nlen == 0 || memchr(buf + start, ' ', nlen) != NULL)
			continue;
		if (cb(buf + start, nlen, buf + start, end - start, arg) != 0)
			break;
	}
	return (len);
}

/* Bytes outside printable ASCII become '?' (text from the network that
   goes to the database and logs). */
void
verify_ascii(char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			*s = '?';
}

/* Comments (RFC 5322 §3.2.2, nested) become spaces; quotes are kept. */
static void
ar_blank_comments(char *s)
{
	int	depth = 0, quoted = 0;

	for (; *s != '\0'; s++) {
		if (*s == '\\' && s[1] != '\0') {
			if (depth > 0)
				s[0] = s[1] = ' ';
			s++;
			continue;
		}
		if (depth == 0 && *s == '"')
			quoted = !quoted;
		else if (!quoted && *s == '(') {
			depth++;
			*s = ' ';
		} else if (!quoted && depth > 0 && *s == ')') {
			depth--;
			*s = ' ';
		} else if (depth > 0 || *s == '\r' || *s == '\n' || *s == '\t')
			*s = ' ';
	}
}

static void
ar_skip_ws(struct ar_lex *lx)
{
	while (lx->s[lx->pos] == ' ')
		lx->pos++;
}

/*
 * The next word: a quoted string, or a run up to a space, ';' or '=' (and
 * '.' when dot is set, for ptype.property).  NULL at ';' or the end.
 */
static char *
ar_word(struct ar_lex *lx, int dot)
{
	struct buf	 b;
	char		*s = lx->s, *w;
	size_t		 n;

	ar_skip_ws(lx);
	if (s[lx->pos] == '\0' || s[lx->pos] == ';' || s[lx->pos] == '=')
		return (NULL);
	/* Bounded by the header field, itself capped by max_header_line. */
	buf_init(&b, SIZE_MAX - 1);
	if (s[lx->pos] == '"') {
		lx->pos++;
		while (s[lx->pos] != '\0' && s[lx->pos] != '"') {
			if (s[lx->pos] == '\\' && s[lx->pos + 1] != '\0')
				lx->pos++;
			buf_add(&b, &s[lx->pos++], 1);
		}
		if (s[lx->pos] == '"')
			lx->pos++;
	} else {
		while (s[lx->pos] != '\0' && strchr(dot ? " ;=." : " ;=",
		    s[lx->pos]) == NULL)
			buf_add(&b, &s[lx->pos++], 1);
	}
	buf_add(&b, "", 1);
	w = buf_steal(&b, &n);
	verify_ascii(w);
	return (w);
}

static void
ar_keep(char **dst, const char *v)
{
	if (*dst == NULL)
		*dst = xstrdup(v);
}

/* One resinfo after its ';': method=result [reason=..] [ptype.prop=v]... */
static int
ar_resinfo(struct ar_lex *lx, struct verify_ar *ar)
{
	char	*method, *result = NULL, *ptype, *prop, *val;
	char	*d = NULL, *from = NULL;
	size_t	 i;
	int	 rc = -1;

	if ((method = ar_word(lx, 0)) == NULL)
		return (-1);
	for (i = 0; method[i] != '\0'; i++)
		method[i] = (char)tolower((unsigned char)method[i]);
	if (strchr(method, '/') != NULL)
		*strchr(method, '/') = '\0';	/* method-version */
	ar_skip_ws(lx);
	if (lx->s[lx->pos] != '=')
		goto out;
	lx->pos++;
	if ((result = ar_word(lx, 0)) == NULL)
		goto out;
	for (i = 0; result[i] != '\0'; i++)
		result[i] = (char)tolower((unsigned char)result[i]);
	/* reasonspec and propspecs, to the next ';'. */
	while ((ptype = ar_word(lx, 1)) != NULL) {
		prop = NULL;
		ar_skip_ws(lx);
		if (lx->s[lx->pos] == '.') {
			lx->pos++;
			prop = ar_word(lx, 0);
		}
		ar_skip_ws(lx);
		val = NULL;
		if (lx->s[lx->pos] == '=') {
			lx->pos++;
			val = ar_word(lx, 0);
		}
		if (val != NULL && prop != NULL &&
		    strcasecmp(ptype, "header") == 0) {
			if (strcasecmp(prop, "d") == 0 && d == NULL)
				d = verify_domain_norm(val, strlen(val));
			else if (strcasecmp(prop, "i") == 0 && d == NULL)
				d = addr_domain(val);
			else if (strcasecmp(prop, "from") == 0 && from == NULL)
				from = strchr(val, '@') != NULL ?
				    addr_domain(val) :
				    verify_domain_norm(val, strlen(val));
		}
		free(ptype);
		free(prop);
		free(val);
	}
	if (strcmp(method, "dkim") == 0) {
		/* A pass (and its domain) wins over other dkim results. */
		if (strcmp(result, "pass") == 0 && (ar->dkim == NULL ||
		    strcmp(ar->dkim, "pass") != 0 || ar->dkim_domain == NULL)) {
			free(ar->dkim);
			ar->dkim = xstrdup(result);
			free(ar->dkim_domain);
			ar->dkim_domain = d;
			d = NULL;
		} else
			ar_keep(&ar->dkim, result);
	} else if (strcmp(method, "spf") == 0)
		ar_keep(&ar->spf, result);
	else if (strcmp(method, "dmarc") == 0 && ar->dmarc == NULL) {
		ar->dmarc = xstrdup(result);
		ar->dmarc_from = from;
		from = NULL;
	}
	rc = 0;
out:
	free(method);
	free(result);
	free(d);
	free(from);
	return (rc);
}

/*
 * Parse the value of one Authentication-Results field (after the colon).
 * Returns 0 with ar filled (free with verify_ar_free), or -1 when it has
 * no authserv-id.  Results the grammar cannot read are skipped.
 */
int
verify_ar_parse(const char *value, struct verify_ar *ar)
{
	struct ar_lex	 lx;
	char		*w;
	size_t		 i;

	memset(ar, 0, sizeof *ar);
	lx.s = xstrdup(value);
	lx.pos = 0;
	ar_blank_comments(lx.s);
	if ((ar->id = ar_word(&lx, 0)) == NULL) {
		free(lx.s);
		return (-1);
	}
	for (i = 0; ar->id[i] != '\0'; i++)
		ar->id[i] = (char)tolower((unsigned char)ar->id[i]);
	/* An authres-version, or "none" after the ';', is skipped. */
	while ((w = ar_word(&lx, 0)) != NULL)
		free(w);
	while (lx.s[lx.pos] != '\0') {
		if (lx.s[lx.pos] != ';') {
			lx.pos++;
			continue;
		}
		lx.pos++;
		if (ar_resinfo(&lx, ar) != 0) {
			/* Skip to the next resinfo. */
			while (lx.s[lx.pos] != '\0' && lx.s[lx.pos] != ';')
				lx.pos++;
		}
	}
	free(lx.s);
	return (0);
}

void
verify_ar_free(struct verify_ar *ar)
{
	free(ar->id);
	free(ar->dkim);
	free(ar->dkim_domain);
	free(ar->spf);
	free(ar->dmarc);
	free(ar->dmarc_from);
	memset(ar, 0, sizeof *ar);
}

/* Whether the header's authserv-id is one of the trusted ones. */
int
verify_ar_is_trusted(const struct verify_ar *ar, char *const *ids, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcasecmp(ar->id, ids[i]) == 0)
			return (1);
	return (0);
}

/*
 * A domain name, lower case, without a trailing dot; NULL when it is
 * empty, has an empty label or a character no host name has (IDNs are
 * taken as A-labels only).
 */
char *
verify_domain_norm(const char *s, size_t len)
{
	char	*d;
	size_t	 i;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	if (len > 0 && s[len - 1] == '.')
		len--;
	if (len == 0 || len > 253 || s[0] == '.')
		return (NULL);
	d = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			break;
		/* A-labels only: what the database stores is ASCII. */
		if (!isalnum((unsigned char)s[i]) && s[i] != '-' &&
		    s[i] != '.' && s[i] != '_')
			break;
		d[i] = (char)tolower((unsigned char)s[i]);
	}
	if (i != len) {
		free(d);
		return (NULL);
	}
	d[len] = '\0';
	return (d);
}

/* The domain of one address (after the last '@'), or NULL. */
static char *
addr_domain(const char *a)
{
	const char	*at, *end;

	if ((at = strrchr(a, '@')) == NULL)
		return (NULL);
	at++;
	end = at + strcspn(at, "> \t");
	return (verify_domain_norm(at, (size_t)(end - at)));
}

/*
 * The domain of the one author in a From field's value (RFC 5322 §3.6.2).
 * *naddr is how many addresses it holds (2 or more: several authors, the
 * domain is NULL, RFC 7489 §6.6.1); NULL also for a group or no domain.
 */
char *
verify_from_domain(const char *value, int *naddr)
{
	char	*s, *p, *lt, *gt, *d;
	int	 quoted = 0, angle = 0, group = 0, n = 1;

	s = xstrdup(value);
	ar_blank_comments(s);
	for (p = s; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '<')
			angle++;
		else if (!quoted && *p == '>' && angle > 0)
			angle--;
		else if (!quoted && angle == 0 && *p == ',')
			n++;
		else if (!quoted && angle == 0 && *p == ':')
			group = 1;
	}
	*naddr = n;
	d = NULL;
	if (n == 1 && !group) {
		if ((lt = strrchr(s, '<')) != NULL &&
		    (gt = strchr(lt, '>')) != NULL) {
			*gt = '\0';
			d = addr_domain(lt + 1);
		} else
			d = addr_domain(s);
	}
	free(s);
	return (d);
}

/* The organisational domain (RFC 7489 §3.2) of a domain; malloc'd. */
char *
verify_org_domain(const psl_ctx_t *psl, const char *d)
{
	const char	*r;

	if ((r = psl_registrable_domain(psl, d)) == NULL)
		r = d;		/* a public suffix itself */
	return (xstrdup(r));
}

/* 2 when the domains are equal (strict), 1 when their organisational
   domains are (relaxed), else 0 (RFC 7489 §3.1.1). */
int
verify_align(const psl_ctx_t *psl, const char *from, const char *d)
{
	char	*a, *b;
	int	 rc;

	if (from == NULL || d == NULL)
		return (0);
	if (strcmp(from, d) == 0)
		return (2);
	a = verify_org_domain(psl, from);
	b = verify_org_domain(psl, d);
	rc = strcmp(a, b) == 0 ? 1 : 0;
	free(a);
	free(b);
	return (rc);
}

/*
 * The domain a report names its reporter by: its email's domain, else
 * its org_name when that is a domain name ("google.com").  NULL if none.
 */
char *
verify_reporter_domain(const char *email, const char *org_name)
{
	char	*d = NULL;

	if (email != NULL)
		d = addr_domain(email);
	if (d == NULL && org_name != NULL && strchr(org_name, '.') != NULL &&
	    strchr(org_name, '@') == NULL)
		d = verify_domain_norm(org_name, strlen(org_name));
	return (d);
}

/* The p= value of a key record, whitespace removed; NULL without one. */
char *
verify_key_p(const char *txt)
{
	const char	*p = txt, *v;
	char		*out;
	size_t		 n = 0;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ';')
			p++;
		if (p[0] == 'p' && (p[1] == '=' || p[1] == ' ' ||
		    p[1] == '\t')) {
			v = p + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			if (*v == '=') {
				v++;
				out = xmalloc(strcspn(v, ";") + 1);
				for (; *v != '\0' && *v != ';'; v++)
					if (!isspace((unsigned char)*v))
						out[n++] = *v;
				out[n] = '\0';
				return (out);
			}
		}
		p += strcspn(p, ";");
	}
	return (NULL);
}

/* Hex SHA-256 of a key record's p= value into hex (65 bytes); -1 when it
   has none or it is empty (revoked, RFC 6376 §3.6.1). */
int
verify_key_sha256(const char *txt, char *hex, size_t size)
{
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;
	char		*p;
	size_t		 i;

	if (size < 65 || (p = verify_key_p(txt)) == NULL)
		return (-1);
	if (*p == '\0' || EVP_Digest(p, strlen(p), md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32) {
		free(p);
		return (-1);
	}
	free(p);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return (0);
}
