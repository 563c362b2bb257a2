/*
 * deliver.h: what the agent has to tell someone, sent out: a mail over
 * SMTP with TLS, and a JSON document POSTed over HTTPS with an HMAC-SHA256
 * signature of its body (libcurl, libcrypto).
 *
 * A mail goes to a submission server: smtps:// (TLS from the start) or
 * smtp:// with STARTTLS required (a server that does not offer it is a
 * failure, never a clear-text fallback), the certificate verified against
 * the system's store or ca_file.  The message is built here
 * (deliver_message_build): Date, Message-ID, MIME with a text and an HTML
 * part in quoted-printable UTF-8, and a Subject from which control
 * characters are removed and that is RFC 2047-encoded when not plain
 * ASCII, so nothing a report said can add a header.
 *
 * Errors: -1 and *cause, one line saying what failed (the server's answer
 * included, escaped), never a password or the secret.  Every structure the
 * caller fills is borrowed for the call.
 */
#ifndef DELIVER_H
#define DELIVER_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Where a mail goes, and how. */
struct deliver_mail {
	const char		*url;		/* smtps://HOST[:PORT] or
						   smtp://HOST[:PORT] */
	const char		*username;	/* NULL: no AUTH */
	const char		*password;
	const char		*ca_file;	/* NULL: the system's store */
	const char		*from;		/* bare addresses */
	const char *const	*to;
	size_t			 nto;
	long			 timeout;	/* seconds per step */
	int			(*cancel)(void);/* non-zero: give up now */
};

/* What a mail says. */
struct deliver_message {
	const char	*subject;	/* UTF-8, any bytes */
	const char	*text;		/* text/plain, UTF-8, LF line ends */
	const char	*html;		/* text/html, or NULL */
};

/* Where a webhook goes. */
struct deliver_hook {
	const char	*url;		/* https:// only */
	const void	*secret;	/* the HMAC-SHA256 key */
	size_t		 secret_len;
	const char	*ca_file;	/* NULL: the system's store */
	long		 timeout;
	int		(*cancel)(void);
};

/* The request header that carries the signature: "sha256=" and hex. */
#define DELIVER_SIG_HEADER	"X-DMARC-Agent-Signature"
#define DELIVER_SIG_LEN		71	/* "sha256=" and 64 digits */

/*
 * The whole message as it goes to the server, CRLF line ends: headers
 * (Date from now, Message-ID from now, rnd and the domain of from) and the
 * MIME body.  *len is its length; the caller frees it.  Pure: the same
 * arguments give the same bytes.
 */
char	*deliver_message_build(const struct deliver_mail *,
	    const struct deliver_message *, time_t, uint32_t, size_t *);

/*
 * A header's value (the Subject), folded and encoded; used: the columns
 * its name and colon take.  The caller frees it.
 */
char	*deliver_header_encode(const char *, size_t);

/* s (LF or CRLF line ends) as quoted-printable, CRLF (caller frees). */
char	*deliver_qp(const char *);

/* Send the message to every address of to. */
int	deliver_mail_send(const struct deliver_mail *,
	    const struct deliver_message *, char **);

/* "sha256=" and the lower-case hex HMAC-SHA256 of body under key. */
void	deliver_signature(const void *, size_t, const void *, size_t,
	    char [DELIVER_SIG_LEN + 1]);

/*
 * POST body (application/json) with its signature; any 2xx answer is a
 * delivery, anything else a failure (redirects are not followed).
 */
int	deliver_webhook(const struct deliver_hook *, const char *, size_t,
	    char **);

#endif
