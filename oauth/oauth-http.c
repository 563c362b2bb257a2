/*
 * oauth-http.c: one HTTPS POST to a token or device endpoint through
 * libcurl.  The certificate is always verified, only https:// is spoken,
 * redirects are not followed (a token endpoint has no reason to redirect
 * a POST holding a secret), and the answer is capped.  libcurl's trace is
 * never turned on here: the request body holds the secrets.
 */
#include "config.h"

#include <curl/curl.h>
#include <string.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"

static size_t	on_body(char *, size_t, size_t, void *);
static enum oauth_class curl_class(CURLcode);

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct oauth_http	*h = arg;

	if (buf_add(&h->body, data, size * n) != 0)
		return (0);	/* over the cap: curl stops with an error */
	return (size * n);
}

/* An answer that never came is worth another try; a distrusted one not. */
static enum oauth_class
curl_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_WRITE_ERROR:
		return (OAUTH_FATAL);
	default:
		return (OAUTH_RETRY);
	}
}

int
oauth_http_post(const char *url, const char *form, const char *ca_file,
    long timeout, struct oauth_http *h, enum oauth_class *cls, char **cause)
{
	CURL			*c;
	struct curl_slist	*hdr = NULL;
	CURLcode		 rc;
	char			 err[CURL_ERROR_SIZE];

	memset(h, 0, sizeof *h);
	buf_init(&h->body, OAUTH_MAX_RESPONSE);
	if ((c = curl_easy_init()) == NULL)
		fatalx("curl_easy_init failed");
	err[0] = '\0';
	hdr = curl_slist_append(hdr, "Accept: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)CURLPROTO_HTTPS);
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (ca_file != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, ca_file);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, timeout);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, form);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "dmarc-agent/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_VERBOSE, 0L);
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &h->status);
	curl_easy_cleanup(c);
	curl_slist_free_all(hdr);
	if (rc == CURLE_OK)
		return (0);
	*cls = curl_class(rc);
	if (rc == CURLE_WRITE_ERROR)
		xasprintf(cause, "cannot use %s: its answer is over %d bytes",
		    url, OAUTH_MAX_RESPONSE);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION ||
	    rc == CURLE_SSL_CACERT_BADFILE)
		xasprintf(cause, "cannot trust %s: %s (check ca_file)", url,
		    *err != '\0' ? err : curl_easy_strerror(rc));
	else
		xasprintf(cause, "cannot reach %s: %s", url, *err != '\0' ?
		    err : curl_easy_strerror(rc));
	oauth_http_free(h);
	return (-1);
}

void
oauth_http_free(struct oauth_http *h)
{
	if (h->body.data != NULL)
		explicit_bzero(h->body.data, h->body.len);
	buf_free(&h->body);
}
