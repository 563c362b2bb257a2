/*
 * deliver-msg.c: a mail message built from its parts, and the webhook's
 * signature; pure functions (tests/unit/tst_deliver.c).
 *
 * The message (RFC 5322, MIME RFC 2045-2047): Date (§3.3), From, To,
 * Subject, Message-ID (§3.6.4), MIME-Version, Auto-Submitted:
 * auto-generated (RFC 3834 §5: no vacation replies to it) and a
 * multipart/alternative body of a text/plain and a text/html part, each
 * quoted-printable UTF-8 (RFC 2045 §6.7), so no body line is longer than
 * 76 characters and none starts with the boundary: the boundary begins
 * with "=_", which quoted-printable never writes.
 */
#include "config.h"

#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "deliver/deliver.h"

#define QP_LINE		76	/* RFC 2045 §6.7 (5) */
#define HDR_LINE	78	/* RFC 5322 §2.1.1: lines SHOULD be no longer */
#define EW_CHUNK	42	/* bytes per encoded word: 56 in base64, 68
				   with its markers, after "Subject: " 77 */

static void	put(struct buf *, const char *);
static char	*clean_utf8(const char *);
static void	b64(struct buf *, const unsigned char *, size_t);
static char	*fold(const char *, size_t);
static void	headers(struct buf *, const struct deliver_mail *,
		    const struct deliver_message *, time_t, uint32_t,
		    const char *);
static void	part(struct buf *, const char *, const char *, const char *);

static void
put(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

/*
 * s as one line of valid UTF-8: control characters (CR and LF included)
 * become spaces, bytes that are not UTF-8 become '?'.
 */
static char *
clean_utf8(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b;
	size_t			 n;
	uint32_t		 c;

	buf_init(&b, SIZE_MAX - 1);	/* as long as s */
	while (*p != '\0') {
		n = utf8_decode(p, 4, &c);
		if (n == 0) {
			put(&b, "?");
			p++;
			continue;
		}
		if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||
		    c == 0x2028 || c == 0x2029)
			put(&b, " ");
		else
			buf_add(&b, p, n);
		p += n;
	}
	return (buf_steal(&b, NULL));
}

static void
b64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char	 t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	char			 o[4];
	uint32_t		 v;
	size_t			 i;

	for (i = 0; i < n; i += 3) {
		v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		o[0] = t[v >> 18 & 63];
		o[1] = t[v >> 12 & 63];
		o[2] = i + 1 < n ? t[v >> 6 & 63] : '=';
		o[3] = i + 2 < n ? t[v & 63] : '=';
		buf_add(b, o, 4);
	}
}

/*
 * s folded (RFC 5322 §2.2.3) at its spaces so that no line is longer than
 * HDR_LINE, the first one after used columns; a word longer than a line
 * stays whole (the hard limit, 998, is far).
 */
static char *
fold(const char *s, size_t used)
{
	struct buf	 b;
	size_t		 col = used, w;
	int		 first = 1;

	buf_init(&b, SIZE_MAX - 1);	/* s and its breaks */
	while (*s != '\0') {
		w = strcspn(s, " ");
		if (!first && col + 1 + w > HDR_LINE) {
			/* The space stays: unfolding only drops the CRLF. */
			put(&b, "\r\n ");
			col = 1;
		} else if (!first) {
			put(&b, " ");
			col++;
		}
		buf_add(&b, s, w);
		col += w;
		s += w;
		if (*s == ' ')
			s++;
		first = 0;
	}
	return (buf_steal(&b, NULL));
}

/*
 * The Subject: plain when it is printable ASCII and holds no "=?" (which
 * a reader would take for an encoded word), folded; else RFC 2047 encoded
 * words of whole UTF-8 characters, one per folded line.  used: the columns
 * the header's name takes ("Subject: " is 9).
 */
char *
deliver_header_encode(const char *raw, size_t used)
{
	const unsigned char	*p;
	struct buf		 b;
	char			*s;
	size_t			 n, len, take;
	uint32_t		 c;
	int			 plain = 1;

	s = clean_utf8(raw);
	for (p = (unsigned char *)s; *p != '\0'; p++)
		if (*p >= 0x80)
			plain = 0;
	len = strlen(s);
	if (plain && strstr(s, "=?") == NULL && len <= 900) {
		p = (unsigned char *)fold(s, used);
		free(s);
		return ((char *)p);
	}
	buf_init(&b, SIZE_MAX - 1);	/* about 4/3 of s */
	p = (unsigned char *)s;
	while (*p != '\0') {
		for (take = 0; p[take] != '\0'; take += n) {
			n = utf8_decode(p + take, 4, &c);
			if (n == 0)
				n = 1;	/* clean_utf8 left none */
			if (take + n > EW_CHUNK)
				break;
		}
		if (b.len > 0)
			put(&b, "\r\n ");
		put(&b, "=?UTF-8?B?");
		b64(&b, p, take);
		put(&b, "?=");
		p += take;
	}
	free(s);
	return (buf_steal(&b, NULL));
}

char *
deliver_qp(const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b;
	char			 enc[4];
	size_t			 col = 0, w;
	int			 lit;

	buf_init(&b, SIZE_MAX - 1);	/* at most 3 times s, and breaks */
	for (; *p != '\0'; p++) {
		if (*p == '\n' || (*p == '\r' && p[1] == '\n')) {
			if (*p == '\r')
				p++;
			put(&b, "\r\n");
			col = 0;
			continue;
		}
		/* Space and tab are literal unless they end the line. */
		lit = (*p >= 33 && *p <= 126 && *p != '=') ||
		    ((*p == ' ' || *p == '\t') && p[1] != '\n' &&
		    p[1] != '\r' && p[1] != '\0');
		w = lit ? 1 : 3;
		/* Leave room for the soft break's '='. */
		if (col + w > QP_LINE - 1) {
			put(&b, "=\r\n");
			col = 0;
		}
		if (lit)
			buf_add(&b, p, 1);
		else {
			snprintf(enc, sizeof enc, "=%02X", *p);
			put(&b, enc);
		}
		col += w;
	}
	if (col > 0)
		put(&b, "\r\n");
	return (buf_steal(&b, NULL));
}

static void
headers(struct buf *b, const struct deliver_mail *m,
    const struct deliver_message *msg, time_t now, uint32_t rnd,
    const char *boundary)
{
	static const char	*days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
				    "Fri", "Sat" };
	static const char	*months[] = { "Jan", "Feb", "Mar", "Apr",
				    "May", "Jun", "Jul", "Aug", "Sep", "Oct",
				    "Nov", "Dec" };
	struct tm		 tm;
	const char		*dom;
	char			 line[256], *subj;
	size_t			 i;

	if (gmtime_r(&now, &tm) == NULL)
		fatalx("%s: gmtime", __func__);
	snprintf(line, sizeof line, "Date: %s, %02d %s %04d %02d:%02d:%02d"
	    " +0000\r\n", days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	put(b, line);
	put(b, "From: dmarc-agent <");
	put(b, m->from);
	put(b, ">\r\nTo: ");
	for (i = 0; i < m->nto; i++) {
		if (i > 0)
			put(b, ",\r\n ");
		put(b, m->to[i]);
	}
	put(b, "\r\nSubject: ");
	subj = deliver_header_encode(msg->subject, strlen("Subject: "));
	put(b, subj);
	free(subj);
	dom = strrchr(m->from, '@');
	snprintf(line, sizeof line, "\r\nMessage-ID: <%lld.%08x.dmarc-agent@",
	    (long long)now, rnd);
	put(b, line);
	put(b, dom != NULL ? dom + 1 : "localhost");
	put(b, ">\r\nMIME-Version: 1.0\r\nAuto-Submitted: auto-generated\r\n"
	    "User-Agent: " PACKAGE_NAME "/" PACKAGE_VERSION "\r\n");
	if (boundary != NULL) {
		put(b, "Content-Type: multipart/alternative;\r\n boundary=\"");
		put(b, boundary);
		put(b, "\"\r\n\r\nThis is a MIME message: a text part and an"
		    " HTML part.\r\n");
	}
}

/* One part: its headers and its quoted-printable body. */
static void
part(struct buf *b, const char *boundary, const char *type, const char *body)
{
	char	*qp;

	if (boundary != NULL) {
		put(b, "\r\n--");
		put(b, boundary);
		put(b, "\r\n");
	}
	put(b, "Content-Type: ");
	put(b, type);
	put(b, "; charset=utf-8\r\nContent-Transfer-Encoding:"
	    " quoted-printable\r\n\r\n");
	qp = deliver_qp(body);
	put(b, qp);
	free(qp);
}

char *
deliver_message_build(const struct deliver_mail *m,
    const struct deliver_message *msg, time_t now, uint32_t rnd,
    size_t *len)
{
	struct buf	 b;
	char		 boundary[64];

	buf_init(&b, SIZE_MAX - 1);	/* the parts, about 3 times over */
	if (msg->html == NULL) {
		headers(&b, m, msg, now, rnd, NULL);
		part(&b, NULL, "text/plain", msg->text);
	} else {
		snprintf(boundary, sizeof boundary, "=_dmarc-agent_%08x_%lld",
		    rnd, (long long)now);
		headers(&b, m, msg, now, rnd, boundary);
		part(&b, boundary, "text/plain", msg->text);
		part(&b, boundary, "text/html", msg->html);
		put(&b, "\r\n--");
		put(&b, boundary);
		put(&b, "--\r\n");
	}
	return (buf_steal(&b, len));
}

void
deliver_signature(const void *key, size_t keylen, const void *body,
    size_t len, char out[DELIVER_SIG_LEN + 1])
{
	unsigned char	md[32];
	unsigned int	mdlen = sizeof md;
	size_t		i;

	if (HMAC(EVP_sha256(), key, (int)keylen, body, len, md, &mdlen) ==
	    NULL || mdlen != sizeof md)
		fatalx("%s: HMAC failed", __func__);
	memcpy(out, "sha256=", 7);
	for (i = 0; i < sizeof md; i++)
		snprintf(out + 7 + 2 * i, 3, "%02x", md[i]);
}
