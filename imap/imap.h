/*
 * imap.h: one IMAP session.
 *
 * libcurl opens, secures and authenticates the connection
 * (CURLOPT_CONNECT_ONLY on the imaps:// or imap:// URL: greeting, STARTTLS,
 * CAPABILITY, AUTHENTICATE), then this module speaks IMAP itself over it
 * with curl_easy_send/curl_easy_recv: tagged commands, a response parser
 * with literal framing and size caps (imap-parse.c, no curl in it).
 *
 * This module never sets \Seen by reading: it fetches with BODY.PEEK[].
 * Flags and moves happen only when the caller asks, after its commit.
 *
 * Errors: functions return 0, or -1 with *cause (malloc'd, without the
 * caller's context); imap_error_class then says what the scheduler should
 * do.  After -1 the session may be unusable: free it.
 */
#ifndef IMAP_H
#define IMAP_H

#include <stddef.h>
#include <stdint.h>

struct imap_session;

struct imap_opts {
	const char	*url;		/* imaps://host[:port]/MAILBOX or imap:// */
	const char	*username;
	const char	*password;	/* never logged */
	const char	*ca_file;	/* NULL: the system's CA store */
	long		 timeout;	/* seconds per network wait; 60 */
	uint64_t	 max_message;	/* bytes; larger messages are reported
					   too large, not fetched; 64 MiB */
	uint64_t	 max_line;	/* response line cap; 1 MiB */
	int		 verbose;	/* log the dialogue (credentials redacted) */
};

enum imap_class {
	IMAP_OK = 0,
	IMAP_RETRY,		/* network trouble, timeout, BYE: try again */
	IMAP_AUTH,		/* login refused: wait for a config change */
	IMAP_FATAL		/* protocol error, mailbox missing, bad URL */
};

/*
 * Connect, authenticate, then ask for CAPABILITY.  NULL with *cause on
 * failure; *cls says why (IMAP_AUTH: login refused; IMAP_RETRY: network,
 * timeout, busy server; IMAP_FATAL: bad URL, certificate not trusted,
 * STARTTLS not offered).  The URL must not hold credentials.  The program
 * calls curl_global_init once before the first imap_open.
 */
struct imap_session *imap_open(const struct imap_opts *, enum imap_class *,
		    char **);
void	imap_close(struct imap_session *);	/* LOGOUT, frees */
enum imap_class	imap_error_class(struct imap_session *); /* of the last -1 */

/* The mailbox named by the URL's path (decoded), e.g. "INBOX".  Borrowed. */
const char *imap_url_mailbox(struct imap_session *);
int	imap_has_capability(struct imap_session *, const char *);

/*
 * SELECT the mailbox (read-write); gives UIDVALIDITY.  Mailbox and folder
 * names (here and in imap_move) are UTF-8: a name with 8-bit characters is
 * sent in modified UTF-7, a printable ASCII name is sent as it is (so an
 * already encoded name works too); control characters are refused.
 */
int	imap_select(struct imap_session *, const char *, uint32_t *uidvalidity,
	    char **);

/* UID SEARCH ALL: every UID in the selected mailbox, ascending; caller
   frees *uids. */
int	imap_search_all(struct imap_session *, uint32_t **uids, size_t *n,
	    char **);

/*
 * Fetch messages with one UID FETCH (RFC822.SIZE BODY.PEEK[]) per chunk of
 * UIDs (ascending).  For each message the callback gets the bytes (borrowed)
 * or, when it is over max_message, data = NULL and size = the announced
 * size.  A UID the server does not return (expunged meanwhile) gets no call.
 * The callback returns 0 to go on or -1 with *cause to stop: the current
 * command is still read to its end (the session stays usable), and
 * imap_fetch returns -1 with the callback's cause (class IMAP_FATAL).
 */
typedef int (*imap_fetch_fn)(uint32_t uid, const char *data, size_t len,
    uint64_t size, void *arg, char **cause);
int	imap_fetch(struct imap_session *, const uint32_t *, size_t,
	    imap_fetch_fn, void *, char **);

/* UID STORE set +FLAGS.SILENT (\Seen) (or \Deleted), in as few commands as
   possible. */
int	imap_flag_seen(struct imap_session *, const uint32_t *, size_t, char **);

/*
 * Move the messages to folder (created when missing): UID MOVE when the
 * server has MOVE, else UID COPY + \Deleted + UID EXPUNGE (UIDPLUS), else
 * COPY + \Deleted and no expunge (never expunges mail we did not handle).
 */
int	imap_move(struct imap_session *, const uint32_t *, size_t,
	    const char *folder, char **);

/* Delete: \Deleted + UID EXPUNGE (or nothing more without UIDPLUS). */
int	imap_delete(struct imap_session *, const uint32_t *, size_t, char **);

#endif
