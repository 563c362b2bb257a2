/*
 * oauth-login.c: a user's first consent, for flow = "refresh_token".
 *
 *   device code (RFC 8628): the endpoint gives a user code; the person
 *   opens the verification URL anywhere and types it in, while this
 *   process polls the token endpoint, every interval seconds, five more
 *   after each slow_down (§3.5), until the token, a refusal or the code's
 *   expiry.  Microsoft's way for a machine without a browser.
 *
 *   loopback redirect (RFC 8252 §7.3, RFC 7636): a listener on 127.0.0.1
 *   is the redirect URI; the person opens the authorization URL in a
 *   browser on this machine (or through an SSH tunnel to the port), the
 *   provider sends the browser back with the code, which this process
 *   exchanges with its PKCE verifier.  Google's way for installed apps.
 *
 * The refresh token goes to refresh_token_file (oauth_file_replace).  The
 * codes, the verifier and the tokens are never printed.
 */
#include "config.h"

#include <sys/socket.h>

#include <netinet/in.h>

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"

#define BROWSER_WAIT	300	/* seconds for the person to sign in */
#define REQUEST_MAX	8192	/* bytes of the browser's request */
#define REQUEST_WAIT	10	/* seconds for it to arrive */
#define DEVICE_INTERVAL	5	/* RFC 8628 §3.2's default */

static int	 store(const struct oauth_opts *, const struct oauth_reply *,
		    FILE *, char **);
static int	 device_flow(const struct oauth_opts *,
		    const struct oauth_ends *, FILE *, int, char **);
static int	 device_poll(const struct oauth_opts *,
		    const struct oauth_ends *, const char *, long,
		    time_t, FILE *, char **);
static int	 listener(int, int *, char **);
static int	 browser_flow(const struct oauth_opts *,
		    const struct oauth_ends *, FILE *, int, int, char **);
static char	*auth_request(const struct oauth_opts *,
		    const struct oauth_ends *, const char *, const char *,
		    const char *);
static int	 await_code(int, const char *, time_t, char **, char **);
static char	*read_target(int);
static void	 reply_page(int, int, const char *);
static int	 exchange_code(const struct oauth_opts *,
		    const struct oauth_ends *, const char *, const char *,
		    const char *, FILE *, char **);
static char	*client_secret(const struct oauth_opts *, char **);

/* The refresh token of a successful answer into the file. */
static int
store(const struct oauth_opts *o, const struct oauth_reply *r, FILE *out,
    char **cause)
{
	if (r->refresh_token == NULL || *r->refresh_token == '\0') {
		xasprintf(cause, "the token endpoint gave no refresh token "
		    "(for Microsoft, scope needs offline_access; for Google, "
		    "access_type=offline)");
		return (-1);
	}
	if (oauth_file_replace(o->refresh_token_file, r->refresh_token, 0,
	    cause) != 0)
		return (-1);
	fprintf(out, "Signed in: refresh token stored in %s\n",
	    o->refresh_token_file);
	fflush(out);
	return (0);
}

/* client_secret_file's line, NULL when not set or (with *cause) bad. */
static char *
client_secret(const struct oauth_opts *o, char **cause)
{
	*cause = NULL;
	if (o->client_secret_file == NULL)
		return (NULL);
	return (oauth_file_line(o->client_secret_file, "client_secret_file",
	    cause));
}

static int
device_flow(const struct oauth_opts *o, const struct oauth_ends *e,
    FILE *out, int wait, char **cause)
{
	struct oauth_reply	 r;
	struct buf		 form;
	enum oauth_class	 cls;
	time_t			 deadline;
	long			 life, interval;
	char			*code;
	int			 rc;

	buf_init(&form, OAUTH_MAX_RESPONSE);
	oauth_form_add(&form, "client_id", o->client_id);
	oauth_form_add(&form, "scope", e->scope);
	rc = oauth_exchange(o, e->device_url, "device endpoint", &form, NULL,
	    0, &r, &cls, cause);
	buf_free(&form);
	if (rc != 0) {
		oauth_reply_free(&r);
		return (-1);
	}
	if (r.device_code == NULL || r.user_code == NULL ||
	    r.verification_uri == NULL) {
		xasprintf(cause, "device endpoint %s: no device_code, "
		    "user_code or verification_uri in its answer",
		    e->device_url);
		oauth_reply_free(&r);
		return (-1);
	}
	life = r.expires_in > 0 ? r.expires_in : 900;
	if (wait > 0 && wait < life)
		life = wait;
	interval = r.interval > 0 ? r.interval : DEVICE_INTERVAL;
	fprintf(out, "To sign in for mailbox %s, open\n  %s\nin a browser "
	    "and enter the code %s (valid for %ld s).\n", o->name,
	    r.verification_uri, r.user_code, life);
	fprintf(out, "Waiting for the sign-in...\n");
	fflush(out);
	deadline = time(NULL) + life;
	code = r.device_code;
	r.device_code = NULL;
	oauth_reply_free(&r);
	rc = device_poll(o, e, code, interval, deadline, out, cause);
	explicit_bzero(code, strlen(code));
	free(code);
	return (rc);
}

/* Poll the token endpoint with the device code until an outcome. */
static int
device_poll(const struct oauth_opts *o, const struct oauth_ends *e,
    const char *code, long interval, time_t deadline, FILE *out,
    char **cause)
{
	struct oauth_reply	 r;
	struct buf		 form;
	enum oauth_class	 cls;
	const char		*secrets[2];
	char			*secret, *why = NULL;
	int			 rc;

	if ((secret = client_secret(o, cause)) == NULL && *cause != NULL)
		return (-1);
	secrets[0] = code;
	secrets[1] = secret;
	for (;;) {
		/* The endpoint has the last word (expired_token); this is
		   only in case it never says it. */
		if (time(NULL) > deadline + interval) {
			xasprintf(cause, "the code expired before the sign-in "
			    "(expired_token): run the command again");
			rc = -1;
			break;
		}
		sleep((unsigned)interval);
		buf_init(&form, OAUTH_MAX_RESPONSE);
		oauth_form_add(&form, "grant_type", OAUTH_GT_DEVICE);
		oauth_form_add(&form, "device_code", code);
		oauth_form_add(&form, "client_id", o->client_id);
		oauth_form_add(&form, "client_secret", secret);
		free(why);
		why = NULL;
		rc = oauth_exchange(o, e->token_url, "token endpoint", &form,
		    secrets, 2, &r, &cls, &why);
		explicit_bzero(form.data, form.len);
		buf_free(&form);
		if (rc == 0) {
			rc = store(o, &r, out, cause);
			oauth_reply_free(&r);
			break;
		}
		if (r.error != NULL &&
		    strcmp(r.error, "authorization_pending") == 0) {
			oauth_reply_free(&r);
			continue;
		}
		if (r.error != NULL && strcmp(r.error, "slow_down") == 0) {
			interval += 5;	/* RFC 8628 §3.5 */
			log_debug("%s: slow_down: polling every %ld s",
			    o->name, interval);
			oauth_reply_free(&r);
			continue;
		}
		if (r.error == NULL && cls == OAUTH_RETRY) {
			log_warnx("%s: %s; trying again", o->name, why);
			oauth_reply_free(&r);
			continue;
		}
		if (r.error != NULL && strcmp(r.error, "expired_token") == 0)
			xasprintf(cause, "the code expired before the sign-in "
			    "(%s): run the command again", why);
		else if (r.error != NULL && strcmp(r.error, "access_denied")
		    == 0)
			xasprintf(cause, "the sign-in was declined (%s)", why);
		else
			*cause = xstrdup(why);
		oauth_reply_free(&r);
		break;
	}
	free(why);
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return (rc);
}

/* Listen on 127.0.0.1:port (0: any); the port in *bound.  fd or -1. */
static int
listener(int port, int *bound, char **cause)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof sin;
	int			 fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		fatal("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    listen(fd, 4) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1) {
		xasprintf(cause, "cannot listen on 127.0.0.1:%d: %s", port,
		    strerror(errno));
		close(fd);
		return (-1);
	}
	*bound = ntohs(sin.sin_port);
	return (fd);
}

/* The authorization request URL (RFC 6749 §4.1.1, RFC 7636 §4.3). */
static char *
auth_request(const struct oauth_opts *o, const struct oauth_ends *e,
    const char *redirect, const char *challenge, const char *state)
{
	struct buf	 q;
	char		*url;

	buf_init(&q, OAUTH_MAX_RESPONSE);
	oauth_form_add(&q, "response_type", "code");
	oauth_form_add(&q, "client_id", o->client_id);
	oauth_form_add(&q, "redirect_uri", redirect);
	oauth_form_add(&q, "scope", e->scope);
	oauth_form_add(&q, "code_challenge", challenge);
	oauth_form_add(&q, "code_challenge_method", "S256");
	oauth_form_add(&q, "state", state);
	if (o->provider == OAUTH_GOOGLE) {
		/* A refresh token, and again when consent was given before. */
		oauth_form_add(&q, "access_type", "offline");
		oauth_form_add(&q, "prompt", "consent");
	}
	if (o->username != NULL)
		oauth_form_add(&q, "login_hint", o->username);
	xasprintf(&url, "%s%c%s", e->auth_url, strchr(e->auth_url, '?') ?
	    '&' : '?', q.data);
	buf_free(&q);
	return (url);
}

/* The request target of the browser's request line; NULL if none. */
static char *
read_target(int fd)
{
	struct timeval	 tv = { REQUEST_WAIT, 0 };
	char		 req[REQUEST_MAX + 1], *sp, *end;
	size_t		 got = 0;
	ssize_t		 n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	while (got < REQUEST_MAX) {
		if ((n = read(fd, req + got, REQUEST_MAX - got)) <= 0)
			break;
		got += (size_t)n;
		req[got] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL ||
		    strstr(req, "\n\n") != NULL)
			break;
	}
	req[got] = '\0';
	if (strncmp(req, "GET ", 4) != 0 ||
	    (sp = strchr(req + 4, ' ')) == NULL)
		return (NULL);
	end = sp;
	return (xstrndup(req + 4, (size_t)(end - req - 4)));
}

static void
reply_page(int fd, int status, const char *text)
{
	char	*page;
	int	 n;

	n = xasprintf(&page, "HTTP/1.1 %d %s\r\nContent-Type: text/html; "
	    "charset=utf-8\r\nCache-Control: no-store\r\nConnection: close\r\n"
	    "Content-Length: %zu\r\n\r\n%s", status, status == 200 ? "OK" :
	    status == 404 ? "Not Found" : "Bad Request",
	    strlen(text), text);
	if (write(fd, page, (size_t)n) != n)
		log_debug("oauth2 login: the browser went away");
	free(page);
}

/*
 * Accept browser requests until one brings the code with our state (in
 * *code) or an error (-1, *cause).  A request with another state is
 * answered 400 and ignored: only the browser we sent carries ours.
 */
static int
await_code(int lfd, const char *state, time_t deadline, char **code,
    char **cause)
{
	struct pollfd	 pfd;
	char		*target, *q, *got, *err;
	int		 fd, left;

	pfd.fd = lfd;
	pfd.events = POLLIN;
	for (;;) {
		left = (int)(deadline - time(NULL));
		if (left <= 0 || poll(&pfd, 1, left * 1000) <= 0) {
			xasprintf(cause, "no answer from the browser in time");
			return (-1);
		}
		if ((fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		target = read_target(fd);
		q = target != NULL ? strchr(target, '?') : NULL;
		got = q != NULL ? oauth_query_get(q + 1, "state") : NULL;
		*code = q != NULL ? oauth_query_get(q + 1, "code") : NULL;
		err = q != NULL ? oauth_query_get(q + 1, "error") : NULL;
		free(target);
		if (*code == NULL && err == NULL) {
			reply_page(fd, 404, "Not found.\n");
		} else if (got == NULL || strcmp(got, state) != 0) {
			reply_page(fd, 400, "dmarc-agent: this answer is not "
			    "for the sign-in under way (state differs).\n");
			log_warnx("oauth2 login: an answer with another state "
			    "was ignored");
		} else if (err != NULL) {
			reply_page(fd, 200, "dmarc-agent: the sign-in did not "
			    "succeed; see the terminal.\n");
			close(fd);
			q = log_escape(err, strlen(err), 64);
			xasprintf(cause, "the authorization endpoint answered "
			    "%s", q);
			free(q);
			free(err);
			free(got);
			free(*code);
			*code = NULL;
			return (-1);
		} else {
			reply_page(fd, 200, "dmarc-agent: signed in. You may "
			    "close this page.\n");
			close(fd);
			free(got);
			return (0);
		}
		close(fd);
		free(err);
		free(got);
		if (*code != NULL)
			explicit_bzero(*code, strlen(*code));
		free(*code);
		*code = NULL;
	}
}

/* The authorization code for tokens (RFC 6749 §4.1.3, RFC 7636 §4.5). */
static int
exchange_code(const struct oauth_opts *o, const struct oauth_ends *e,
    const char *code, const char *redirect, const char *verifier, FILE *out,
    char **cause)
{
	struct oauth_reply	 r;
	struct buf		 form;
	enum oauth_class	 cls;
	const char		*secrets[3];
	char			*secret;
	int			 rc;

	if ((secret = client_secret(o, cause)) == NULL && *cause != NULL)
		return (-1);
	secrets[0] = code;
	secrets[1] = verifier;
	secrets[2] = secret;
	buf_init(&form, OAUTH_MAX_RESPONSE);
	oauth_form_add(&form, "grant_type", "authorization_code");
	oauth_form_add(&form, "code", code);
	oauth_form_add(&form, "redirect_uri", redirect);
	oauth_form_add(&form, "client_id", o->client_id);
	oauth_form_add(&form, "client_secret", secret);
	oauth_form_add(&form, "code_verifier", verifier);
	rc = oauth_exchange(o, e->token_url, "token endpoint", &form, secrets,
	    3, &r, &cls, cause);
	explicit_bzero(form.data, form.len);
	buf_free(&form);
	if (rc == 0)
		rc = store(o, &r, out, cause);
	oauth_reply_free(&r);
	if (secret != NULL) {
		explicit_bzero(secret, strlen(secret));
		free(secret);
	}
	return (rc);
}

static int
browser_flow(const struct oauth_opts *o, const struct oauth_ends *e,
    FILE *out, int port, int wait, char **cause)
{
	char	*verifier, *challenge, *state, *redirect, *url, *code = NULL;
	int	 lfd, bound, rc;

	if ((lfd = listener(port, &bound, cause)) == -1)
		return (-1);
	verifier = oauth_random(48);	/* 64 characters, RFC 7636 §4.1 */
	challenge = oauth_pkce_challenge(verifier);
	state = oauth_random(16);
	xasprintf(&redirect, "http://127.0.0.1:%d/", bound);
	url = auth_request(o, e, redirect, challenge, state);
	fprintf(out, "To sign in for mailbox %s, open this URL in a browser "
	    "on this machine\n(or tunnel port %d here: ssh -L %d:127.0.0.1:%d "
	    "...):\n\n%s\n\nWaiting for the browser on %s ...\n", o->name,
	    bound, bound, bound, url, redirect);
	fflush(out);
	rc = await_code(lfd, state, time(NULL) + (wait > 0 ? wait :
	    BROWSER_WAIT), &code, cause);
	close(lfd);
	if (rc == 0)
		rc = exchange_code(o, e, code, redirect, verifier, out, cause);
	if (code != NULL)
		explicit_bzero(code, strlen(code));
	explicit_bzero(verifier, strlen(verifier));
	free(code);
	free(verifier);
	free(challenge);
	free(state);
	free(redirect);
	free(url);
	return (rc);
}

int
oauth_login(const struct oauth_opts *o, FILE *out, int port, int wait,
    char **cause)
{
	struct oauth_ends	e;
	int			rc;

	if (o->flow != OAUTH_REFRESH_TOKEN) {
		xasprintf(cause, "flow \"%s\" needs no login: the agent gets "
		    "its tokens itself", oauth_flow_name(o->flow));
		return (-1);
	}
	if (oauth_ends(o, &e, cause) != 0)
		return (-1);
	if (o->provider == OAUTH_MICROSOFT ||
	    (o->provider == OAUTH_GENERIC && e.device_url != NULL))
		rc = device_flow(o, &e, out, wait, cause);
	else if (e.auth_url != NULL)
		rc = browser_flow(o, &e, out, port, wait, cause);
	else {
		xasprintf(cause, "oauth2 login needs \"device_url\" or "
		    "\"auth_url\"");
		rc = -1;
	}
	oauth_ends_free(&e);
	return (rc);
}
