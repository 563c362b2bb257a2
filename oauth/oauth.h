/*
 * oauth.h: OAuth 2.0 access tokens for IMAP (XOAUTH2, OAUTHBEARER), got,
 * cached, renewed and rotated by the agent itself.
 *
 * Three ways to a token (RFC 6749 §4.4, §6; RFC 7523 §2.1, §2.2):
 *   client_credentials  an application's own right to a mailbox
 *                       (Microsoft Entra app-only): a client secret, or a
 *                       certificate's key signing a client_assertion JWT;
 *   service_account     a Google service account with domain-wide
 *                       delegation: a JWT signed with its key, naming the
 *                       mailbox's user as sub, exchanged as jwt-bearer;
 *   refresh_token       a user's delegated consent, given once with
 *                       oauth_login (RFC 8628 device code, or the browser
 *                       on a loopback redirect with PKCE, RFC 8252 and
 *                       RFC 7636), kept in a file and rotated in place.
 * HTTP goes through libcurl with the certificate always verified and only
 * https:// allowed; responses are capped at OAUTH_MAX_RESPONSE bytes.
 *
 * Secrets (client secret, private keys, assertions, access and refresh
 * tokens, authorization codes) never reach a cause, a log line or
 * libcurl's trace (never enabled here); what an endpoint says back is
 * scrubbed of them before it becomes part of a cause.
 *
 * Errors: -1 or NULL with *cause (malloc'd, one line, naming the file or
 * the setting to fix and the provider's error code and description) and
 * an enum oauth_class saying what the scheduler should do.
 *
 * A struct oauth is used by one thread at a time.  The program calls
 * curl_global_init before the first oauth_new.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include <stdio.h>

struct oauth;

/* The identity provider: its default endpoints and scopes. */
enum oauth_provider {
	OAUTH_MICROSOFT = 1,	/* Microsoft Entra ID, v2.0 endpoints */
	OAUTH_GOOGLE,		/* Google Workspace */
	OAUTH_GENERIC		/* every URL from the options */
};

enum oauth_flow {
	OAUTH_CLIENT_CREDENTIALS = 1,
	OAUTH_SERVICE_ACCOUNT,
	OAUTH_REFRESH_TOKEN
};

/* What a failure means for the scheduler. */
enum oauth_class {
	OAUTH_OK = 0,
	OAUTH_RETRY,		/* endpoint unreachable, timeout, 5xx, 429,
				   temporarily_unavailable: try again soon */
	OAUTH_AUTH,		/* the credential was refused or cannot be
				   used (invalid_client, invalid_grant, a
				   key that does not load): fix the
				   configuration or log in again */
	OAUTH_FATAL		/* the endpoint's certificate not trusted,
				   a response that is not OAuth 2.0 */
};

/*
 * Everything is borrowed for oauth_new and oauth_check (oauth_new copies
 * what it keeps).  NULL: not set, the provider's default where it has
 * one.
 */
struct oauth_opts {
	const char		*name;		/* the mailbox, for messages */
	enum oauth_provider	 provider;
	enum oauth_flow		 flow;
	const char		*tenant;	/* Microsoft: the directory */
	const char		*client_id;
	const char		*client_secret_file;
	const char		*client_certificate_file;  /* PEM */
	const char		*client_key_file;	/* PEM, RSA */
	const char		*service_account_file;	/* Google's JSON */
	const char		*refresh_token_file;
	const char		*token_url;
	const char		*device_url;	/* RFC 8628 §3.1 */
	const char		*auth_url;	/* RFC 6749 §3.1 */
	const char		*scope;
	const char		*ca_file;	/* NULL: the system's store */
	const char		*username;	/* the mailbox's login: the sub
						   of a service account JWT */
	long			 timeout;	/* seconds per request; 60 */
	/*
	 * Tests only: SIGKILL the process while a rotated refresh token is
	 * written: 1 halfway through the temporary file, 2 after the rename
	 * and before the directory's fsync.  0: never.
	 */
	int			 fault_rotate;
};

/*
 * A token source for one mailbox.  Reads nothing yet: files are read when
 * a token is needed, so that a fixed file or a new login is picked up
 * without a restart.  Never fails.
 */
struct oauth	*oauth_new(const struct oauth_opts *);
void		 oauth_free(struct oauth *);	/* wipes the cached token */

/*
 * An access token valid for a while yet: the cached one, or a new one
 * when less than OAUTH_RENEW_MAX seconds or a tenth of its lifetime is
 * left (or renew is set: the server refused it).  A refresh token the
 * endpoint rotated replaces refresh_token_file atomically before the old
 * one is dropped.  The caller frees the token (explicit_bzero first).
 * NULL with *cause and *cls.
 */
char	*oauth_token(struct oauth *, int renew, enum oauth_class *, char **);

/*
 * The lifetime left (seconds) of the cached token, and the endpoint that
 * issued it (borrowed); -1 when there is none.
 */
long		 oauth_token_left(struct oauth *);
const char	*oauth_token_url(struct oauth *);

/*
 * Check what can be checked without the network: the files can be read,
 * the key loads and is an RSA key, the certificate matches it, the
 * service account file is one, the endpoints are https:// URLs.  0, or -1
 * with *cause.  A refresh token file that does not exist yet is not an
 * error here (oauth_login makes it).
 */
int	oauth_check(const struct oauth_opts *, char **);

/*
 * Get the first refresh token (flow refresh_token) and write it to
 * refresh_token_file: Microsoft (or device_url set) the device code flow
 * (RFC 8628: the verification URL and user code are written to out, then
 * the token endpoint is polled), Google (or auth_url set) the browser on a
 * loopback redirect (RFC 8252 §7.3: a listener on 127.0.0.1, on port or
 * one the system picks when 0; the authorization URL is written to out;
 * PKCE S256 and state checked).  Waits at most wait seconds (0: as long as
 * the device code lives, or 300 s for the browser).  0, or -1 with *cause.
 */
int	oauth_login(const struct oauth_opts *, FILE *out, int port, int wait,
	    char **);

/* The words of the configuration: "microsoft", "client_credentials" ... */
const char *oauth_provider_name(enum oauth_provider);
const char *oauth_flow_name(enum oauth_flow);

#endif
