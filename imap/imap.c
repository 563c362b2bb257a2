/*
 * imap.c: one IMAP session over a connection that libcurl opens.
 *
 * libcurl connects, does TLS (imaps://, or STARTTLS on imap://, which is
 * then required), checks the certificate and logs in (CURLOPT_CONNECT_ONLY
 * stops it there).  From then on this file speaks IMAP itself through
 * curl_easy_send and curl_easy_recv, waiting with poll() on curl's socket:
 * tagged commands, one at a time, and responses framed by imap-parse.c.
 * That is how we get BODY.PEEK[] with literals, several UIDs per command
 * and UIDVALIDITY, which libcurl 7.88's own IMAP requests cannot give.
 *
 * It never sets \Seen by reading: messages are fetched with BODY.PEEK[].
 * Flags, moves and deletes happen only when the caller asks, after its
 * commit.  Memory is bounded: a response line by max_line, a message by
 * max_message (a larger one is read and discarded, never allocated), and
 * the fetch callback gets each message as it completes, in a buffer that
 * is reused for the next.
 *
 * Credentials (password, OAuth 2.0 bearer token) go to libcurl only; the
 * dialogue log (verbose) shows no LOGIN or AUTHENTICATE line, no SASL
 * continuation line and no literal contents.
 *
 * Folder names in the configuration use '/' between levels; they are
 * mapped to the server's hierarchy delimiter and personal namespace,
 * which are asked once per session (NAMESPACE, else LIST "" "").
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "common/common.h"
#include "imap/imap.h"
#include "imap/imap_p.h"

#define IMAP_FETCH_CHUNK	100	/* UIDs per UID FETCH */
#define IMAP_SET_MAXLEN		2000	/* characters of a UID set */
#define IMAP_MAX_UIDS		(16 * 1024 * 1024)
/*
 * UIDs one search asks for at most when the folder is larger: 50,000
 * UIDs answer in at most 550,000 bytes, under the 1 MiB a response line
 * may take, however many messages the folder holds.
 */
#define IMAP_SEARCH_WINDOW	50000
#define IMAP_LIT_SLACK		65536	/* other literals in a FETCH */
#define IMAP_LOG_MAX		300	/* bytes of a line in the log */
#define IMAP_LOGOUT_TIMEOUT	5

struct imap_session {
	CURL		*curl;
	curl_socket_t	 fd;
	char		 errbuf[CURL_ERROR_SIZE];
	long		 timeout;
	uint64_t	 max_message;
	int		 verbose;
	char		*mailbox;	/* from the URL, decoded */
	char		*caps;		/* " CAP1 CAP2 " */
	char		*created;	/* folder we last made sure exists */
	int		 ns_known;	/* ns_prefix and ns_delim asked */
	char		*ns_prefix;	/* personal namespace, e.g. "INBOX." */
	char		 ns_delim;	/* hierarchy delimiter; '\0': flat */
	unsigned	 tagnum;
	enum imap_class	 cls;		/* of the last -1 */
	int		 broken;	/* connection lost or closed */
	int		 refused;	/* the last command got NO or BAD */
	int		 bearer;	/* libcurl sent AUTHENTICATE XOAUTH2 or
					   OAUTHBEARER */
	enum imap_tls	 tls;
	enum imap_expunge expunge;
	size_t		 unexpunged;	/* see imap_unexpunged */
	int		 logout;	/* BYE expected */
	uint32_t	 exists;
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;	/* of the last SELECT; 0: not said */
	struct imap_reader rd;
	size_t		 roff;
	size_t		 rlen;
	char		 rbuf[16384];
};

/* Called with each untagged response while a command runs. */
typedef int (*imap_resp_fn)(struct imap_session *, const struct imap_resp *,
    const struct imap_status *, void *, char **);

/* State of one imap_fetch chunk. */
struct imap_chunk {
	const uint32_t	*uids;
	size_t		 n;
	uint64_t	 size[IMAP_FETCH_CHUNK];
	char		 have[IMAP_FETCH_CHUNK];
	char		 done[IMAP_FETCH_CHUNK];
	uint64_t	 max;		/* max_message */
	imap_fetch_fn	 fn;
	void		*arg;
};

struct imap_search {
	uint32_t	*uids;
	size_t		 n;
	size_t		 alloc;
};

/* What NAMESPACE or LIST "" "" said. */
struct imap_ns {
	int		 seen;
	char		*prefix;
	char		 delim;
};

/* What a mailbox URL says (imap_url_split). */
struct imap_url_parts {
	char		*effective;	/* for libcurl; curl_free */
	enum imap_tls	 tls;		/* the mode in force */
	char		*host;		/* curl_free */
	unsigned	 port;		/* given, or the default of the mode */
	char		*mailbox;	/* decoded; free */
};

static int	 imap_fail(struct imap_session *, enum imap_class, char **,
		     const char *, ...) printflike(4, 5);
static enum imap_class imap_curl_class(CURLcode);
static int	 imap_curl_debug(CURL *, curl_infotype, char *, size_t,
		     void *);
static int	 imap_log_safe(const char *, size_t);
static int	 imap_is_bearer(const char *, size_t);
static void	 imap_log(const char *, const char *, size_t);
static void	 imap_url_parts_free(struct imap_url_parts *);
static int	 imap_url_mailbox_of(CURLU *, char **, char **);
static int	 imap_url_split(const struct imap_opts *,
		     struct imap_url_parts *, char **);
static int	 imap_url(struct imap_session *, const struct imap_opts *,
		     char **, char **);
static int	 imap_setup(struct imap_session *, const struct imap_opts *,
		     const char *, char **);
static void	 imap_login_failed(struct imap_session *, CURLcode,
		     enum imap_class *, char **);
static int	 imap_wait(struct imap_session *, short, long, char **);
static int	 imap_send(struct imap_session *, const char *, size_t,
		     char **);
static int	 imap_read(struct imap_session *, long, char **);
static int	 imap_cmd(struct imap_session *, imap_resp_fn, void *, char **,
		     const char *, ...) printflike(5, 6);
static int	 imap_untagged(struct imap_session *,
		     const struct imap_status *, char **);
static char	*imap_resp_text(const struct imap_status *);
static size_t	 imap_verb_len(const char *);
static char	*imap_arg_mailbox(const char *, char **);
static uint32_t	*imap_uids_copy(const uint32_t *, size_t, size_t *);
static int	 imap_on_select(struct imap_session *,
		     const struct imap_resp *, const struct imap_status *,
		     void *, char **);
static int	 imap_on_search(struct imap_session *,
		     const struct imap_resp *, const struct imap_status *,
		     void *, char **);
static int	 imap_search_windows(struct imap_session *,
		    const struct imap_query *, uint32_t, struct imap_search *,
		    char **);
static int	 imap_on_namespace(struct imap_session *,
		     const struct imap_resp *, const struct imap_status *,
		     void *, char **);
static int	 imap_namespace(struct imap_session *, char **);
static int	 imap_on_size(struct imap_session *, const struct imap_resp *,
		     const struct imap_status *, void *, char **);
static int	 imap_on_body(struct imap_session *, const struct imap_resp *,
		     const struct imap_status *, void *, char **);
static int	 imap_chunk_index(const struct imap_chunk *, uint32_t);
static int	 imap_chunk_flush(struct imap_chunk *, size_t, char **);
static int	 imap_fetch_chunk(struct imap_session *, struct imap_chunk *,
		     char **);
static int	 imap_fetch_bodies(struct imap_session *, struct imap_chunk *,
		     const uint32_t *, size_t, char **);
static int	 imap_store(struct imap_session *, const uint32_t *, size_t,
		     const char *, char **);
static int	 imap_uid_cmd(struct imap_session *, const uint32_t *, size_t,
		     const char *, const char *, char **);
static int	 imap_create(struct imap_session *, const char *, char **);

/* Set the class and *cause of a failure; returns -1. */
static int
imap_fail(struct imap_session *is, enum imap_class cls, char **cause,
    const char *fmt, ...)
{
	va_list	 ap;

	is->cls = cls;
	if (cls == IMAP_RETRY)
		is->broken = 1;
	if (cause != NULL) {
		va_start(ap, fmt);
		xvasprintf(cause, fmt, ap);
		va_end(ap);
	}
	return (-1);
}

/* What the scheduler should do after curl_easy_perform failed with rc. */
static enum imap_class
imap_curl_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return (IMAP_OK);
	case CURLE_LOGIN_DENIED:
		return (IMAP_AUTH);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_WEIRD_SERVER_REPLY:	/* e.g. a BYE greeting when busy */
	case CURLE_AGAIN:
		return (IMAP_RETRY);
	default:
		return (IMAP_FATAL);
	}
}

/*
 * curl's side of the dialogue (greeting, STARTTLS, login).  It notes
 * whether libcurl tried a bearer token and, in verbose mode, logs it.
 * Client lines are shown only when they are known to carry no secret.
 */
static int
imap_curl_debug(CURL *c, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct imap_session	*is = arg;

	if (type == CURLINFO_HEADER_OUT && imap_is_bearer(data, size))
		is->bearer = 1;
	if (!is->verbose)
		return (0);
	switch (type) {
	case CURLINFO_TEXT:
		imap_log("curl", data, size);
		break;
	case CURLINFO_HEADER_IN:
		imap_log("S", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		if (imap_log_safe(data, size))
			imap_log("C", data, size);
		else
			log_debug("imap: C: <redacted>");
		break;
	default:
		break;
	}
	return (0);
}

/* Is the client line "tag AUTHENTICATE XOAUTH2|OAUTHBEARER ..."? */
static int
imap_is_bearer(const char *data, size_t size)
{
	static const char	*cmd[] = { "AUTHENTICATE XOAUTH2",
	    "AUTHENTICATE OAUTHBEARER" };
	const char		*sp;
	size_t			 i, n, len;

	if ((sp = memchr(data, ' ', size)) == NULL)
		return (0);
	n = size - (size_t)(sp + 1 - data);
	for (i = 0; i < sizeof cmd / sizeof cmd[0]; i++) {
		len = strlen(cmd[i]);
		if (n >= len && strncasecmp(sp + 1, cmd[i], len) == 0 &&
		    (n == len || sp[1 + len] == ' ' || sp[1 + len] == '\r'))
			return (1);
	}
	return (0);
}

/* Is the client line "tag CAPABILITY|STARTTLS|LOGOUT|NOOP"? */
static int
imap_log_safe(const char *data, size_t size)
{
	static const char	*safe[] = { "CAPABILITY", "STARTTLS", "LOGOUT",
	    "NOOP" };
	const char		*sp;
	size_t			 i, n;

	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		size--;
	if ((sp = memchr(data, ' ', size)) == NULL)
		return (0);
	n = size - (size_t)(sp + 1 - data);
	for (i = 0; i < sizeof safe / sizeof safe[0]; i++) {
		if (n == strlen(safe[i]) &&
		    strncasecmp(sp + 1, safe[i], n) == 0)
			return (1);
	}
	return (0);
}

/* Log one line of the dialogue, escaped and capped. */
static void
imap_log(const char *who, const char *data, size_t size)
{
	char	*esc;

	while (size > 0 && (data[size - 1] == '\n' || data[size - 1] == '\r'))
		size--;
	esc = log_escape(data, size, IMAP_LOG_MAX);
	log_debug("imap: %s: %s", who, esc);
	free(esc);
}

static void
imap_url_parts_free(struct imap_url_parts *up)
{
	curl_free(up->effective);
	curl_free(up->host);
	free(up->mailbox);
	memset(up, 0, sizeof *up);
}

/*
 * Take the mailbox from the URL's path: up to any ";param",
 * percent-decoded, INBOX when empty.
 */
static int
imap_url_mailbox_of(CURLU *u, char **mailbox, char **cause)
{
	char	*path = NULL, *dec;
	size_t	 n;
	int	 len;

	if (curl_url_get(u, CURLUPART_PATH, &path, 0) != CURLUE_OK)
		path = NULL;
	n = path == NULL ? 0 : strcspn(path, ";");
	while (n > 0 && path[n - 1] == '/')
		n--;
	if (n > 0 && path[0] == '/') {
		dec = curl_easy_unescape(NULL, path + 1, (int)n - 1, &len);
		if (dec == NULL)
			fatalx("%s: curl_easy_unescape failed", __func__);
		if ((size_t)len != strlen(dec) || len == 0) {
			curl_free(dec);
			curl_free(path);
			xasprintf(cause, "invalid mailbox in URL");
			return (-1);
		}
		*mailbox = xstrdup(dec);
		curl_free(dec);
	} else
		*mailbox = xstrdup("INBOX");
	curl_free(path);
	return (0);
}

/*
 * Check the URL (imap:// or imaps://, no credentials in it) and split it:
 * the URL for libcurl with its scheme set by the TLS mode (imaps:// for
 * implicit TLS, imap:// otherwise), the host, the port libcurl connects
 * to and the mailbox.
 */
static int
imap_url_split(const struct imap_opts *o, struct imap_url_parts *up,
    char **cause)
{
	CURLU		*u;
	char		*scheme = NULL, *user = NULL, *port = NULL;
	int		 rv = -1;

	memset(up, 0, sizeof *up);
	if ((u = curl_url()) == NULL)
		fatalx("%s: curl_url failed", __func__);
	if (o->url == NULL ||
	    curl_url_set(u, CURLUPART_URL, o->url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &up->host, 0) != CURLUE_OK) {
		xasprintf(cause, "invalid URL");
		goto out;
	}
	if (strcasecmp(scheme, "imaps") != 0 &&
	    strcasecmp(scheme, "imap") != 0) {
		xasprintf(cause, "URL scheme must be imap or imaps");
		goto out;
	}
	if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK) {
		xasprintf(cause, "the URL must not contain credentials");
		goto out;
	}
	up->tls = o->tls;
	if (up->tls == IMAP_TLS_DEFAULT)
		up->tls = strcasecmp(scheme, "imaps") == 0 ?
		    IMAP_TLS_IMPLICIT : IMAP_TLS_STARTTLS;
	if (curl_url_set(u, CURLUPART_SCHEME, up->tls == IMAP_TLS_IMPLICIT ?
	    "imaps" : "imap", 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_URL, &up->effective, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	    CURLUE_OK)
		fatalx("%s: cannot set the URL scheme", __func__);
	up->port = (unsigned)strtoul(port, NULL, 10);
	rv = imap_url_mailbox_of(u, &up->mailbox, cause);
out:
	if (rv == -1)
		imap_url_parts_free(up);
	curl_free(scheme);
	curl_free(user);
	curl_free(port);
	curl_url_cleanup(u);
	return (rv);
}

/* The URL for libcurl (curl_free it); the session's mailbox and TLS. */
static int
imap_url(struct imap_session *is, const struct imap_opts *o,
    char **effective, char **cause)
{
	struct imap_url_parts	up;

	*effective = NULL;
	if (imap_url_split(o, &up, cause) == -1)
		return (-1);
	is->tls = up.tls;
	is->mailbox = up.mailbox;
	*effective = up.effective;
	up.mailbox = NULL;
	up.effective = NULL;
	imap_url_parts_free(&up);
	return (0);
}

/*
 * The identity of the mailbox the options name, without connecting
 * (imap_identity_key): the user name, the host and port libcurl would
 * connect to, and the mailbox of the URL.
 */
char *
imap_url_identity(const struct imap_opts *o, char **cause)
{
	struct imap_url_parts	 up;
	char			*key;

	if (imap_url_split(o, &up, cause) == -1)
		return (NULL);
	key = imap_identity_key(o->username, up.host, up.port, up.mailbox,
	    cause);
	imap_url_parts_free(&up);
	return (key);
}

/* Set libcurl's options for connecting, TLS and login. */
static int
imap_setup(struct imap_session *is, const struct imap_opts *o,
    const char *url, char **cause)
{
	static const char	*mechs[] = { NULL, "AUTH=PLAIN", "AUTH=LOGIN",
	    "AUTH=XOAUTH2", "AUTH=OAUTHBEARER" };

	if ((unsigned)o->mech >= sizeof mechs / sizeof mechs[0] ||
	    (unsigned)o->tls > IMAP_TLS_NONE) {
		xasprintf(cause, "unknown TLS mode or mechanism");
		return (-1);
	}
	if ((o->mech == IMAP_MECH_XOAUTH2 ||
	    o->mech == IMAP_MECH_OAUTHBEARER) &&
	    (o->bearer_token == NULL || *o->bearer_token == '\0')) {
		xasprintf(cause, "%s needs a bearer token", mechs[o->mech] + 5);
		return (-1);
	}
	curl_easy_setopt(is->curl, CURLOPT_URL, url);
	curl_easy_setopt(is->curl, CURLOPT_CONNECT_ONLY, 1L);
	curl_easy_setopt(is->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(is->curl, CURLOPT_ERRORBUFFER, is->errbuf);
	curl_easy_setopt(is->curl, CURLOPT_CONNECTTIMEOUT, is->timeout);
	curl_easy_setopt(is->curl, CURLOPT_TIMEOUT, 2 * is->timeout);
	/* imaps:// is TLS from the start; on imap://, STARTTLS or nothing. */
	curl_easy_setopt(is->curl, CURLOPT_USE_SSL, is->tls == IMAP_TLS_NONE ?
	    (long)CURLUSESSL_NONE : (long)CURLUSESSL_ALL);
	curl_easy_setopt(is->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(is->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (o->ca_file != NULL)
		curl_easy_setopt(is->curl, CURLOPT_CAINFO, o->ca_file);
	if (o->username != NULL)
		curl_easy_setopt(is->curl, CURLOPT_USERNAME, o->username);
	if (o->password != NULL)
		curl_easy_setopt(is->curl, CURLOPT_PASSWORD, o->password);
	if (o->bearer_token != NULL)
		curl_easy_setopt(is->curl, CURLOPT_XOAUTH2_BEARER,
		    o->bearer_token);
	if (mechs[o->mech] != NULL)
		curl_easy_setopt(is->curl, CURLOPT_LOGIN_OPTIONS,
		    mechs[o->mech]);
	/* The trace is always on during login: it notes a bearer attempt. */
	curl_easy_setopt(is->curl, CURLOPT_DEBUGFUNCTION, imap_curl_debug);
	curl_easy_setopt(is->curl, CURLOPT_DEBUGDATA, is);
	curl_easy_setopt(is->curl, CURLOPT_VERBOSE, 1L);
	if (is->tls == IMAP_TLS_NONE)
		log_warnx("imap: tls = none: the connection is not encrypted, "
		    "credentials and mail cross the network in clear text");
	return (0);
}

/*
 * The class and cause of a failed connect or login.  A refused login after
 * AUTHENTICATE XOAUTH2 or OAUTHBEARER says "token refused" so that the
 * caller can get a new token and try again once.
 */
static void
imap_login_failed(struct imap_session *is, CURLcode rc, enum imap_class *cls,
    char **cause)
{
	const char	*what;
	size_t		 n;

	what = is->errbuf[0] != '\0' ? is->errbuf : curl_easy_strerror(rc);
	n = strlen(what);
	while (n > 0 && (what[n - 1] == '\n' || what[n - 1] == '\r'))
		n--;
	*cls = imap_curl_class(rc);
	if (*cls == IMAP_AUTH && is->bearer)
		xasprintf(cause, "token refused (%.*s)", (int)n, what);
	else
		xasprintf(cause, "%.*s", (int)n, what);
}

/* Connect, secure and log in with libcurl, then ask for CAPABILITY. */
struct imap_session *
imap_open(const struct imap_opts *o, enum imap_class *cls, char **cause)
{
	struct imap_session	*is;
	CURLcode		 rc;
	curl_socket_t		 fd;
	char			*url = NULL;

	is = xcalloc(1, sizeof *is);
	is->timeout = o->timeout > 0 ? o->timeout : 60;
	is->max_message = o->max_message > 0 ? o->max_message :
	    (uint64_t)64 * 1024 * 1024;
	is->verbose = o->verbose;
	is->expunge = o->expunge;
	imap_reader_init(&is->rd, o->max_line > 0 ? o->max_line : 1024 * 1024,
	    is->max_message + IMAP_LIT_SLACK);
	if ((is->curl = curl_easy_init()) == NULL)
		fatalx("%s: curl_easy_init failed", __func__);
	*cls = IMAP_FATAL;
	if (o->url == NULL) {
		xasprintf(cause, "no URL");
		goto fail;
	}
	if (imap_url(is, o, &url, cause) == -1 ||
	    imap_setup(is, o, url, cause) == -1)
		goto fail;
	if ((rc = curl_easy_perform(is->curl)) != CURLE_OK) {
		imap_login_failed(is, rc, cls, cause);
		goto fail;
	}
	/* Logged in: from here on the dialogue and its timeouts are ours. */
	curl_easy_setopt(is->curl, CURLOPT_TIMEOUT, 0L);
	curl_easy_setopt(is->curl, CURLOPT_VERBOSE, 0L);
	rc = curl_easy_getinfo(is->curl, CURLINFO_ACTIVESOCKET, &fd);
	if (rc != CURLE_OK || fd == CURL_SOCKET_BAD) {
		*cls = IMAP_RETRY;
		xasprintf(cause, "no connection after login");
		goto fail;
	}
	is->fd = fd;
	if (imap_cmd(is, NULL, NULL, cause, "CAPABILITY") == -1) {
		*cls = is->cls;
		goto fail;
	}
	curl_free(url);
	*cls = IMAP_OK;
	return (is);
fail:
	curl_free(url);
	is->broken = 1;
	imap_close(is);
	return (NULL);
}

/* Log out (briefly, errors ignored), close and free. */
void
imap_close(struct imap_session *is)
{
	char	*cause = NULL;

	if (is == NULL)
		return;
	if (!is->broken && is->curl != NULL) {
		is->logout = 1;
		is->timeout = is->timeout < IMAP_LOGOUT_TIMEOUT ?
		    is->timeout : IMAP_LOGOUT_TIMEOUT;
		imap_cmd(is, NULL, NULL, &cause, "LOGOUT");
		free(cause);
	}
	if (is->curl != NULL)
		curl_easy_cleanup(is->curl);
	imap_reader_free(&is->rd);
	free(is->mailbox);
	free(is->caps);
	free(is->created);
	free(is->ns_prefix);
	free(is);
}

/* The class of the last failure (IMAP_OK if none). */
enum imap_class
imap_error_class(struct imap_session *is)
{
	return (is->cls);
}

/* The mailbox the URL names; borrowed. */
const char *
imap_url_mailbox(struct imap_session *is)
{
	return (is->mailbox);
}

/* Did the server announce capability name after login? */
int
imap_has_capability(struct imap_session *is, const char *name)
{
	return (imap_capability_has(is->caps, name));
}

/* Wait until the socket is ready for events, at most timeout seconds. */
static int
imap_wait(struct imap_session *is, short events, long timeout, char **cause)
{
	struct pollfd	 pfd;
	struct timespec	 now, end;
	long		 ms;
	int		 n;

	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += timeout;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (long)(end.tv_sec - now.tv_sec) * 1000 +
		    (end.tv_nsec - now.tv_nsec) / 1000000;
		if (ms < 0)
			ms = 0;
		pfd.fd = is->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, (int)ms);
		if (n > 0)
			return (0);
		if (n == 0)
			return (imap_fail(is, IMAP_RETRY, cause,
			    "timed out after %ld seconds", timeout));
		if (errno != EINTR)
			return (imap_fail(is, IMAP_RETRY, cause, "poll: %s",
			    strerror(errno)));
	}
}

/* Send all len bytes. */
static int
imap_send(struct imap_session *is, const char *data, size_t len,
    char **cause)
{
	CURLcode	 rc;
	size_t		 n;

	while (len > 0) {
		rc = curl_easy_send(is->curl, data, len, &n);
		if (rc == CURLE_AGAIN) {
			if (imap_wait(is, POLLOUT, is->timeout, cause) == -1)
				return (-1);
			continue;
		}
		if (rc != CURLE_OK)
			return (imap_fail(is, IMAP_RETRY, cause, "send: %s",
			    curl_easy_strerror(rc)));
		data += n;
		len -= n;
	}
	return (0);
}

/* Read until a complete response is in is->rd.resp. */
static int
imap_read(struct imap_session *is, long timeout, char **cause)
{
	CURLcode	 rc;
	size_t		 used, n;
	int		 rv;

	for (;;) {
		if (is->roff < is->rlen) {
			rv = imap_reader_feed(&is->rd, is->rbuf + is->roff,
			    is->rlen - is->roff, &used, cause);
			is->roff += used;
			if (rv == -1) {
				is->broken = 1;
				is->cls = IMAP_FATAL;
				return (-1);
			}
			if (rv == 1)
				return (0);
		}
		is->roff = is->rlen = 0;
		rc = curl_easy_recv(is->curl, is->rbuf, sizeof is->rbuf, &n);
		if (rc == CURLE_AGAIN) {
			if (imap_wait(is, POLLIN, timeout, cause) == -1)
				return (-1);
			continue;
		}
		if (rc != CURLE_OK)
			return (imap_fail(is, IMAP_RETRY, cause, "recv: %s",
			    curl_easy_strerror(rc)));
		if (n == 0)
			return (imap_fail(is, IMAP_RETRY, cause,
			    "connection closed by the server"));
		is->rlen = n;
	}
}

/* The human text of a status response, escaped; the caller frees it. */
static char *
imap_resp_text(const struct imap_status *st)
{
	return (log_escape(st->text, strlen(st->text), 200));
}

/* Untagged responses that matter whatever the command. */
static int
imap_untagged(struct imap_session *is, const struct imap_status *st,
    char **cause)
{
	const char	*arg;
	size_t		 len;
	char		*text;

	if (st->cond == IMAP_C_BYE) {
		if (is->logout)
			return (0);
		text = imap_resp_text(st);
		imap_fail(is, IMAP_RETRY, cause, "server said BYE: %s", text);
		free(text);
		return (-1);
	}
	if (st->cond == IMAP_C_NONE && strcmp(st->word, "CAPABILITY") == 0) {
		free(is->caps);
		is->caps = imap_parse_capability(st->rest, strlen(st->rest));
	} else if (imap_parse_code(st, "CAPABILITY", &arg, &len)) {
		free(is->caps);
		is->caps = imap_parse_capability(arg, len);
	} else if (st->has_num && strcmp(st->word, "EXISTS") == 0)
		is->exists = st->num;
	return (0);
}

/*
 * Send one tagged command (printf-like) and read responses up to its
 * tagged reply.  Untagged responses go to imap_untagged, then to fn.  When
 * fn fails, the rest is still read (the session stays usable) and its
 * cause is returned.  0 on OK; -1 with *cause on NO, BAD or trouble.
 */
static int
imap_cmd(struct imap_session *is, imap_resp_fn fn, void *arg, char **cause,
    const char *fmt, ...)
{
	struct imap_status	 st;
	va_list			 ap;
	char			*cmd, *line, *text, *fncause = NULL, tag[16];
	int			 len, rv = -1;

	is->refused = 0;
	if (is->broken)
		return (imap_fail(is, IMAP_RETRY, cause, "not connected"));
	snprintf(tag, sizeof tag, "D%04u", ++is->tagnum % 10000);
	va_start(ap, fmt);
	xvasprintf(&cmd, fmt, ap);
	va_end(ap);
	len = xasprintf(&line, "%s %s\r\n", tag, cmd);
	if (is->verbose)
		imap_log("C", line, (size_t)len);
	rv = imap_send(is, line, (size_t)len, cause);
	free(line);
	if (rv == -1)
		goto out;
	for (rv = -1;;) {
		imap_reader_reset(&is->rd);
		if (imap_read(is, is->timeout, cause) == -1) {
			if (is->logout && is->cls == IMAP_RETRY)
				rv = 0;		/* closed after BYE */
			goto out;
		}
		if (is->verbose)
			imap_log("S", is->rd.resp.line.data,
			    is->rd.resp.line.len);
		if (imap_parse_status(&is->rd.resp, &st, cause) == -1) {
			imap_fail(is, IMAP_FATAL, NULL, "-");
			is->broken = 1;
			goto out;
		}
		if (st.kind == IMAP_R_TAGGED)
			break;
		if (st.kind == IMAP_R_CONT) {
			imap_fail(is, IMAP_FATAL, cause, "unexpected "
			    "continuation request");
			is->broken = 1;
			goto out;
		}
		if (imap_untagged(is, &st, cause) == -1)
			goto out;
		if (fn != NULL && fncause == NULL &&
		    fn(is, &is->rd.resp, &st, arg, &fncause) == -1 &&
		    fncause == NULL)
			fncause = xstrdup("failed");
	}
	if (strcasecmp(st.tag, tag) != 0) {
		imap_fail(is, IMAP_FATAL, cause, "reply with unknown tag");
		is->broken = 1;
		goto out;
	}
	if (st.cond != IMAP_C_OK) {
		is->refused = 1;
		text = imap_resp_text(&st);
		imap_fail(is, IMAP_FATAL, cause, "%.*s %s: %s",
		    (int)imap_verb_len(cmd), cmd,
		    st.cond == IMAP_C_NO ? "refused" : "rejected", text);
		free(text);
		goto out;
	}
	if (fncause != NULL) {
		imap_fail(is, IMAP_FATAL, NULL, "-");
		*cause = fncause;
		fncause = NULL;
		goto out;
	}
	rv = 0;
out:
	free(fncause);
	free(cmd);
	imap_reader_reset(&is->rd);
	return (rv);
}

/* Length of the command's name at the start of cmd ("UID FETCH"). */
static size_t
imap_verb_len(const char *cmd)
{
	size_t	 n;

	n = strcspn(cmd, " ");
	if (n == 3 && strncasecmp(cmd, "UID", 3) == 0 && cmd[n] == ' ')
		n += 1 + strcspn(cmd + n + 1, " ");
	return (n > 32 ? 32 : n);
}

/* A mailbox name as a command argument: encoded and quoted. */
static char *
imap_arg_mailbox(const char *name, char **cause)
{
	char	*enc, *q;

	if ((enc = imap_mailbox_encode(name, cause)) == NULL)
		return (NULL);
	q = imap_quote(enc);
	free(enc);
	if (q == NULL)
		fatalx("%s: encoded name not quotable", __func__);
	return (q);
}

static int
imap_on_select(struct imap_session *is, const struct imap_resp *resp,
    const struct imap_status *st, void *arg, char **cause)
{
	struct imap_selected	*sel = arg;
	const char		*v;
	size_t			 len;
	uint64_t		 m;

	if (st->cond != IMAP_C_OK)
		return (0);
	if (imap_parse_code_num(st, "UIDVALIDITY", &sel->uidvalidity) ||
	    imap_parse_code_num(st, "UIDNEXT", &sel->uidnext))
		return (0);
	if (imap_parse_code(st, "HIGHESTMODSEQ", &v, &len) &&
	    imap_parse_u64(v, len, &m) == 0)
		sel->highestmodseq = m;
	else if (imap_parse_code(st, "NOMODSEQ", NULL, NULL))
		sel->highestmodseq = 0;
	return (0);
}

/*
 * SELECT mailbox (read-write), with CONDSTORE when the server has it;
 * see imap.h.
 */
int
imap_select(struct imap_session *is, const char *mailbox,
    struct imap_selected *sel, char **cause)
{
	char		*q;
	int		 rv;

	memset(sel, 0, sizeof *sel);
	if ((q = imap_arg_mailbox(mailbox, cause)) == NULL)
		return (imap_fail(is, IMAP_FATAL, NULL, "-"));
	is->exists = 0;
	rv = imap_cmd(is, imap_on_select, sel, cause, "SELECT %s%s", q,
	    imap_has_capability(is, "CONDSTORE") ? " (CONDSTORE)" : "");
	free(q);
	if (rv == -1)
		return (-1);
	if (sel->uidvalidity == 0)
		return (imap_fail(is, IMAP_FATAL, cause,
		    "no UIDVALIDITY in the SELECT response"));
	is->uidvalidity = sel->uidvalidity;
	is->uidnext = sel->uidnext;
	sel->exists = is->exists;
	return (0);
}

static int
imap_on_search(struct imap_session *is, const struct imap_resp *resp,
    const struct imap_status *st, void *arg, char **cause)
{
	struct imap_search	*s = arg;

	if (st->cond != IMAP_C_NONE || strcmp(st->word, "SEARCH") != 0)
		return (0);
	return (imap_parse_search(resp, st, &s->uids, &s->n, &s->alloc,
	    IMAP_MAX_UIDS, cause));
}

/* UID SEARCH [UID n:*] [UNSEEN] UNDELETED [SINCE date] [MODSEQ m]; see
   imap.h. */
int
imap_search(struct imap_session *is, const struct imap_query *q,
    uint32_t **uids, size_t *n, char **cause)
{
	struct imap_search	 s;
	char			*criteria;
	uint32_t		 lo = q->uid_from > 0 ? q->uid_from : 1;
	int			 rv;

	if (q->kind != IMAP_SEARCH_UNSEEN && q->kind != IMAP_SEARCH_ALL)
		return (imap_fail(is, IMAP_FATAL, cause, "unknown search"));
	memset(&s, 0, sizeof s);
	/* Not for changes (MODSEQ): those are what one interval brings. */
	if (q->modseq_from == 0 && is->uidnext > lo &&
	    is->uidnext - lo > IMAP_SEARCH_WINDOW)
		rv = imap_search_windows(is, q, lo, &s, cause);
	else {
		criteria = imap_search_criteria(q->kind == IMAP_SEARCH_UNSEEN,
		    q->since, q->uid_from, q->modseq_from);
		rv = imap_cmd(is, imap_on_search, &s, cause, "UID SEARCH %s",
		    criteria);
		free(criteria);
	}
	if (rv == -1) {
		free(s.uids);
		return (-1);
	}
	s.n = imap_uids_sort(s.uids, s.n);
	if (s.uids == NULL)
		s.uids = xcalloc(1, sizeof *s.uids);
	*uids = s.uids;
	*n = s.n;
	return (0);
}

/*
 * The same search into *s, UID window by window from lo
 * (IMAP_SEARCH_WINDOW UIDs each, the last one lo:* so that what arrived
 * since SELECT is found too): a folder of any size answers in lines a
 * response may hold.
 */
static int
imap_search_windows(struct imap_session *is, const struct imap_query *q,
    uint32_t lo, struct imap_search *s, char **cause)
{
	char		*base, *criteria;
	uint32_t	 hi;
	int		 last, rv;

	base = imap_search_criteria(q->kind == IMAP_SEARCH_UNSEEN, q->since,
	    0, q->modseq_from);
	do {
		last = is->uidnext - lo <= IMAP_SEARCH_WINDOW;
		hi = lo + (IMAP_SEARCH_WINDOW - 1);
		if (last)
			xasprintf(&criteria, "UID %" PRIu32 ":* %s", lo, base);
		else
			xasprintf(&criteria, "UID %" PRIu32 ":%" PRIu32 " %s",
			    lo, hi, base);
		rv = imap_cmd(is, imap_on_search, s, cause, "UID SEARCH %s",
		    criteria);
		free(criteria);
		lo = hi + 1;
	} while (rv != -1 && !last);
	free(base);
	return (rv);
}

/* NOOP, to keep the session alive. */
int
imap_noop(struct imap_session *is, char **cause)
{
	return (imap_cmd(is, NULL, NULL, cause, "NOOP"));
}

static int
imap_on_namespace(struct imap_session *is, const struct imap_resp *resp,
    const struct imap_status *st, void *arg, char **cause)
{
	struct imap_ns	*ns = arg;
	char		*prefix;
	char		 delim;

	if (ns->seen || st->cond != IMAP_C_NONE)
		return (0);
	if (strcmp(st->word, "NAMESPACE") == 0) {
		if (imap_parse_namespace(resp, st, &prefix, &delim,
		    cause) == -1)
			return (-1);
		ns->prefix = prefix;
	} else if (strcmp(st->word, "LIST") == 0) {
		if (imap_parse_list_delim(resp, st, &delim, cause) == -1)
			return (-1);
	} else
		return (0);
	ns->seen = 1;
	ns->delim = delim;
	return (0);
}

/*
 * Learn the personal namespace and the hierarchy delimiter, once: from
 * NAMESPACE when the server has it, else the delimiter from LIST "" ""
 * (no prefix).
 */
static int
imap_namespace(struct imap_session *is, char **cause)
{
	struct imap_ns	 ns;
	int		 rv;

	if (is->ns_known)
		return (0);
	memset(&ns, 0, sizeof ns);
	if (imap_has_capability(is, "NAMESPACE"))
		rv = imap_cmd(is, imap_on_namespace, &ns, cause, "NAMESPACE");
	else
		rv = imap_cmd(is, imap_on_namespace, &ns, cause,
		    "LIST \"\" \"\"");
	if (rv == -1) {
		free(ns.prefix);
		return (-1);
	}
	if (!ns.seen) {
		free(ns.prefix);
		return (imap_fail(is, IMAP_FATAL, cause,
		    "the server did not say its hierarchy delimiter"));
	}
	is->ns_known = 1;
	is->ns_prefix = ns.prefix != NULL ? ns.prefix : xstrdup("");
	is->ns_delim = ns.delim;
	if (is->verbose)
		log_debug("imap: personal namespace \"%s\", delimiter %s%c%s",
		    is->ns_prefix, is->ns_delim ? "'" : "NIL",
		    is->ns_delim ? is->ns_delim : ' ', is->ns_delim ? "'" : "");
	return (0);
}

/* The server's name for a configured folder; see imap.h. */
int
imap_folder_path(struct imap_session *is, const char *configured,
    char **server_name, char **cause)
{
	if (imap_namespace(is, cause) == -1)
		return (-1);
	*server_name = imap_folder_map(configured, is->ns_prefix,
	    is->ns_delim, cause);
	if (*server_name == NULL)
		return (imap_fail(is, IMAP_FATAL, NULL, "-"));
	return (0);
}

/* Index of uid in the chunk, or -1. */
static int
imap_chunk_index(const struct imap_chunk *c, uint32_t uid)
{
	size_t	 lo = 0, hi = c->n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (c->uids[mid] == uid)
			return ((int)mid);
		if (c->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (-1);
}

static int
imap_on_size(struct imap_session *is, const struct imap_resp *resp,
    const struct imap_status *st, void *arg, char **cause)
{
	struct imap_chunk	*c = arg;
	struct imap_fetch	 f;
	int			 i;

	if (st->cond != IMAP_C_NONE || strcmp(st->word, "FETCH") != 0)
		return (0);
	if (imap_parse_fetch(resp, st, &f, cause) == -1)
		return (-1);
	if (!f.has_uid || !f.has_size ||
	    (i = imap_chunk_index(c, f.uid)) == -1)
		return (0);
	c->size[i] = f.size;
	c->have[i] = 1;
	return (0);
}

/* Report, as too large, the messages over the cap before index end that
   are not reported yet. */
static int
imap_chunk_flush(struct imap_chunk *c, size_t end, char **cause)
{
	size_t	 i;

	for (i = 0; i < end; i++) {
		if (!c->have[i] || c->done[i] || c->size[i] <= c->max)
			continue;
		c->done[i] = 1;
		if (c->fn(c->uids[i], NULL, 0, c->size[i], c->arg,
		    cause) == -1)
			return (-1);
	}
	return (0);
}

static int
imap_on_body(struct imap_session *is, const struct imap_resp *resp,
    const struct imap_status *st, void *arg, char **cause)
{
	struct imap_chunk	*c = arg;
	struct imap_fetch	 f;
	int			 i;

	if (st->cond != IMAP_C_NONE || strcmp(st->word, "FETCH") != 0)
		return (0);
	if (imap_parse_fetch(resp, st, &f, cause) == -1)
		return (-1);
	/* Flag updates and messages we did not ask for are not ours. */
	if (!f.has_uid || !f.has_body ||
	    (i = imap_chunk_index(c, f.uid)) == -1 || c->done[i])
		return (0);
	if (imap_chunk_flush(c, (size_t)i, cause) == -1)
		return (-1);
	c->done[i] = 1;
	if (f.body == NULL || f.body_len > is->max_message)
		return (c->fn(f.uid, NULL, 0, f.body_size, c->arg, cause));
	return (c->fn(f.uid, f.body, f.body_len, f.body_len, c->arg, cause));
}

/*
 * One chunk: sizes first, then the bodies of those within max_message in
 * one command; the others are reported too large, all in UID order.
 */
static int
imap_fetch_chunk(struct imap_session *is, struct imap_chunk *c, char **cause)
{
	uint32_t	 small[IMAP_FETCH_CHUNK];
	size_t		 i, ns = 0, used;
	char		*set;
	int		 rv;

	set = imap_uidset(c->uids, c->n, c->n, SIZE_MAX, &used);
	rv = imap_cmd(is, imap_on_size, c, cause,
	    "UID FETCH %s (UID RFC822.SIZE)", set);
	free(set);
	if (rv == -1)
		return (-1);
	for (i = 0; i < c->n; i++) {
		if (c->have[i] && c->size[i] <= is->max_message)
			small[ns++] = c->uids[i];
	}
	if (ns > 0 && imap_fetch_bodies(is, c, small, ns, cause) == -1)
		return (-1);
	/* A small one expunged between the two commands gets no call. */
	if (imap_chunk_flush(c, c->n, cause) == -1)
		return (imap_fail(is, IMAP_FATAL, NULL, "-"));
	return (0);
}

/*
 * Fetch the bodies of uids (sorted) in one command.  When the server
 * refuses it (NO or BAD: some refuse large FETCH sets), fetch those not
 * yet delivered one by one.
 */
static int
imap_fetch_bodies(struct imap_session *is, struct imap_chunk *c,
    const uint32_t *uids, size_t n, char **cause)
{
	size_t	 i, used;
	char	*set, *why = NULL, *esc;
	int	 rv, k;

	set = imap_uidset(uids, n, n, SIZE_MAX, &used);
	rv = imap_cmd(is, imap_on_body, c, n > 1 ? &why : cause,
	    "UID FETCH %s (UID RFC822.SIZE BODY.PEEK[])", set);
	free(set);
	if (rv == 0 || n == 1)
		return (rv);
	if (!is->refused || is->broken) {
		*cause = why;
		return (-1);
	}
	if (is->verbose) {
		esc = log_escape(why, strlen(why), 200);
		log_debug("imap: %s; fetching one by one", esc);
		free(esc);
	}
	free(why);
	for (i = 0; i < n; i++) {
		k = imap_chunk_index(c, uids[i]);
		if (k == -1 || c->done[k])
			continue;
		if (imap_cmd(is, imap_on_body, c, cause,
		    "UID FETCH %u (UID RFC822.SIZE BODY.PEEK[])",
		    uids[i]) == -1)
			return (-1);
	}
	return (0);
}

/* A sorted, duplicate-free copy of uids. */
static uint32_t *
imap_uids_copy(const uint32_t *uids, size_t n, size_t *np)
{
	uint32_t	*u;

	u = xreallocarray(NULL, n == 0 ? 1 : n, sizeof *u);
	if (n > 0)
		memcpy(u, uids, n * sizeof *u);
	*np = imap_uids_sort(u, n);
	return (u);
}

/* Fetch messages by UID, chunk by chunk; see imap.h. */
int
imap_fetch(struct imap_session *is, const uint32_t *uids, size_t n,
    imap_fetch_fn fn, void *arg, char **cause)
{
	struct imap_chunk	*c;
	uint32_t		*u;
	size_t			 i, nu;
	int			 rv = 0;

	u = imap_uids_copy(uids, n, &nu);
	c = xmalloc(sizeof *c);
	for (i = 0; i < nu && rv == 0; i += c->n) {
		memset(c, 0, sizeof *c);
		c->uids = u + i;
		c->n = nu - i < IMAP_FETCH_CHUNK ? nu - i : IMAP_FETCH_CHUNK;
		c->max = is->max_message;
		c->fn = fn;
		c->arg = arg;
		rv = imap_fetch_chunk(is, c, cause);
	}
	free(c);
	free(u);
	return (rv);
}

/* Run "UID verb set rest" over uids in as few commands as fit. */
static int
imap_uid_cmd(struct imap_session *is, const uint32_t *uids, size_t n,
    const char *verb, const char *rest, char **cause)
{
	uint32_t	*u;
	size_t		 i, nu, used;
	char		*set;
	int		 rv = 0;

	u = imap_uids_copy(uids, n, &nu);
	for (i = 0; i < nu && rv == 0; i += used) {
		set = imap_uidset(u + i, nu - i, nu - i, IMAP_SET_MAXLEN,
		    &used);
		rv = imap_cmd(is, NULL, NULL, cause, "UID %s %s%s%s", verb,
		    set, *rest != '\0' ? " " : "", rest);
		free(set);
	}
	free(u);
	return (rv);
}

/* UID STORE set +FLAGS.SILENT (flag). */
static int
imap_store(struct imap_session *is, const uint32_t *uids, size_t n,
    const char *flag, char **cause)
{
	char	*rest;
	int	 rv;

	xasprintf(&rest, "+FLAGS.SILENT (%s)", flag);
	rv = imap_uid_cmd(is, uids, n, "STORE", rest, cause);
	free(rest);
	return (rv);
}

/* Set \Seen on the messages. */
int
imap_flag_seen(struct imap_session *is, const uint32_t *uids, size_t n,
    char **cause)
{
	return (imap_store(is, uids, n, "\\Seen", cause));
}

/*
 * CREATE folder (quoted) unless done already in this session.  A refusal
 * is not an error here (it usually means the folder exists): the command
 * that uses the folder will say if it is missing.
 */
static int
imap_create(struct imap_session *is, const char *q, char **cause)
{
	char	*why = NULL, *esc;

	if (is->created != NULL && strcmp(is->created, q) == 0)
		return (0);
	if (imap_cmd(is, NULL, NULL, &why, "CREATE %s", q) == -1) {
		if (is->broken) {
			*cause = why;
			return (-1);
		}
		if (is->verbose) {
			esc = log_escape(why, strlen(why), 200);
			log_debug("imap: %s", esc);
			free(esc);
		}
		free(why);
	}
	free(is->created);
	is->created = xstrdup(q);
	is->cls = IMAP_OK;
	return (0);
}

/* Move the messages to folder; see imap.h. */
int
imap_move(struct imap_session *is, const uint32_t *uids, size_t n,
    const char *folder, char **cause)
{
	char	*q, *name;
	int	 rv;

	if (n == 0)
		return (0);
	if (imap_folder_path(is, folder, &name, cause) == -1)
		return (-1);
	q = imap_arg_mailbox(name, cause);
	free(name);
	if (q == NULL)
		return (imap_fail(is, IMAP_FATAL, NULL, "-"));
	if ((rv = imap_create(is, q, cause)) == 0) {
		if (imap_has_capability(is, "MOVE") &&
		    is->expunge != IMAP_EXPUNGE_NEVER)
			rv = imap_uid_cmd(is, uids, n, "MOVE", q, cause);
		else if ((rv = imap_uid_cmd(is, uids, n, "COPY", q,
		    cause)) == 0)
			rv = imap_delete(is, uids, n, cause);
	}
	free(q);
	return (rv);
}

/* \Deleted, then the expunge the session's mode asks for; see imap.h. */
int
imap_delete(struct imap_session *is, const uint32_t *uids, size_t n,
    char **cause)
{
	if (n == 0)
		return (0);
	if (imap_store(is, uids, n, "\\Deleted", cause) == -1)
		return (-1);
	switch (is->expunge) {
	case IMAP_EXPUNGE_ALL:
		return (imap_cmd(is, NULL, NULL, cause, "EXPUNGE"));
	case IMAP_EXPUNGE_NEVER:
		return (0);
	case IMAP_EXPUNGE_UID:
		break;
	}
	if (imap_has_capability(is, "UIDPLUS"))
		return (imap_uid_cmd(is, uids, n, "EXPUNGE", "", cause));
	/* A plain EXPUNGE would take what others flagged: leave ours. */
	is->unexpunged += n;
	return (0);
}

size_t
imap_unexpunged(struct imap_session *is)
{
	return (is->unexpunged);
}
