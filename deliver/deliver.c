/*
 * deliver.c: sending over libcurl: the mail (SMTP, RFC 5321, with TLS:
 * implicit for smtps://, STARTTLS, RFC 3207, required for smtp://) and the
 * webhook (HTTPS POST).
 *
 * Only the protocols asked for are allowed on each handle (no redirect to
 * another scheme), certificates are verified, and a caller's cancel
 * function is asked between transfers' progress calls so that SIGTERM does
 * not wait for a slow server.  Responses are read into a capped buffer and
 * dropped: only the status matters.
 */
#include "config.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "deliver/deliver.h"

#define DELIVER_ANSWER	65536	/* bytes of a webhook's answer read */

struct upload {
	const char	*data;
	size_t		 len, off;
};

static size_t	upload_read(char *, size_t, size_t, void *);
static size_t	answer_drop(char *, size_t, size_t, void *);
static int	progress(void *, curl_off_t, curl_off_t, curl_off_t,
		    curl_off_t);
static CURL	*handle(const char *, const char *, long,
		    int (*const *)(void), char *);
static void	failure(CURL *, CURLcode, const char *, const char *,
		    char **);

static size_t
upload_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload	*u = arg;
	size_t		 want = size * n;

	if (want > u->len - u->off)
		want = u->len - u->off;
	memcpy(buf, u->data + u->off, want);
	u->off += want;
	return (want);
}

static size_t
answer_drop(char *buf, size_t size, size_t n, void *arg)
{
	size_t	*seen = arg;

	(void)buf;
	*seen += size * n;
	if (*seen > DELIVER_ANSWER)
		return (0);	/* an answer that long is not ours to read */
	return (size * n);
}

/* arg: the address of the caller's cancel function (maybe NULL). */
static int
progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut,
    curl_off_t un)
{
	int	(*const *cancel)(void) = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return (*cancel != NULL && (*cancel)() ? 1 : 0);
}

/* A handle for url, restricted to protocols, with the common options. */
static CURL *
handle(const char *url, const char *protocols, long timeout,
    int (*const *cancel)(void), char *errbuf)
{
	CURL	*c;

	if ((c = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 2 * timeout);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (const void *)cancel);
	return (c);
}

/* "what: curl's text (its detail)", escaped, into *cause. */
static void
failure(CURL *c, CURLcode rc, const char *what, const char *errbuf,
    char **cause)
{
	char	*esc;

	(void)c;
	esc = log_escape(*errbuf != '\0' ? errbuf : curl_easy_strerror(rc),
	    strlen(*errbuf != '\0' ? errbuf : curl_easy_strerror(rc)), 300);
	xasprintf(cause, "%s: %s", what, esc);
	free(esc);
}

int
deliver_mail_send(const struct deliver_mail *m,
    const struct deliver_message *msg, char **cause)
{
	struct curl_slist	*rcpt = NULL;
	struct upload		 u;
	CURL			*c;
	CURLcode		 rc;
	char			 errbuf[CURL_ERROR_SIZE], *from, *to;
	uint32_t		 rnd;
	size_t			 i;

	memset(errbuf, 0, sizeof errbuf);
	memset(&u, 0, sizeof u);
	if (getentropy(&rnd, sizeof rnd) != 0)
		rnd = (uint32_t)getpid() ^ (uint32_t)time(NULL);
	u.data = deliver_message_build(m, msg, time(NULL), rnd, &u.len);
	c = handle(m->url, "smtp,smtps", m->timeout, &m->cancel, errbuf);
	/* smtp://: STARTTLS or nothing; smtps:// is TLS anyway. */
	curl_easy_setopt(c, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (m->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, m->ca_file);
	if (m->username != NULL) {
		curl_easy_setopt(c, CURLOPT_USERNAME, m->username);
		curl_easy_setopt(c, CURLOPT_PASSWORD, m->password);
	}
	xasprintf(&from, "<%s>", m->from);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	for (i = 0; i < m->nto; i++) {
		xasprintf(&to, "<%s>", m->to[i]);
		if ((rcpt = curl_slist_append(rcpt, to)) == NULL)
			fatalx("%s: out of memory", __func__);
		free(to);
	}
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, upload_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &u);
	curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)u.len);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		failure(c, rc, "mail", errbuf, cause);
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	free(from);
	free((char *)u.data);
	return (rc == CURLE_OK ? 0 : -1);
}

int
deliver_webhook(const struct deliver_hook *h, const char *body, size_t len,
    char **cause)
{
	struct curl_slist	*hdr = NULL;
	CURL			*c;
	CURLcode		 rc;
	char			 errbuf[CURL_ERROR_SIZE], sig[DELIVER_SIG_LEN + 1];
	char			*line;
	size_t			 seen = 0;
	long			 code = 0;

	memset(errbuf, 0, sizeof errbuf);
	deliver_signature(h->secret, h->secret_len, body, len, sig);
	xasprintf(&line, "%s: %s", DELIVER_SIG_HEADER, sig);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, line);
	hdr = curl_slist_append(hdr, "Expect:");
	free(line);
	if (hdr == NULL)
		fatalx("%s: out of memory", __func__);
	c = handle(h->url, "https", h->timeout, &h->cancel, errbuf);
	if (h->ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(c, CURLOPT_USERAGENT, PACKAGE_NAME "/"
	    PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, answer_drop);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &seen);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (rc != CURLE_OK)
		failure(c, rc, "webhook", errbuf, cause);
	else if (code < 200 || code > 299)
		xasprintf(cause, "webhook: the server answered HTTP %ld", code);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return (rc == CURLE_OK && code >= 200 && code <= 299 ? 0 : -1);
}
