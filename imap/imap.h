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
#include <time.h>

struct imap_session;

/*
 * Transport security.  DEFAULT follows the URL's scheme: imaps:// is
 * IMPLICIT, imap:// is STARTTLS.  Any other mode overrides the scheme
 * (and with it the default port: 993 for IMPLICIT, else 143).  STARTTLS
 * is required when asked for: a server that does not offer it is refused
 * (IMAP_FATAL) before any credential is sent.  NONE sends everything,
 * password included, in clear text: each imap_open logs a warning.  The
 * certificate is always verified (there is no switch).
 */
enum imap_tls {
	IMAP_TLS_DEFAULT = 0,
	IMAP_TLS_IMPLICIT,
	IMAP_TLS_STARTTLS,
	IMAP_TLS_NONE
};

/*
 * SASL mechanism.  ANY: the best the server offers that libcurl knows
 * (libcurl 7.88's order: ... CRAM-MD5, then OAUTHBEARER and XOAUTH2 when
 * a bearer token is set, then PLAIN, LOGIN; the LOGIN command when the
 * server offers no mechanism).  The others use that mechanism only
 * (AUTHENTICATE PLAIN, LOGIN, XOAUTH2 or OAUTHBEARER) and fail (IMAP_AUTH)
 * when the server does not offer it.  XOAUTH2 and OAUTHBEARER need
 * bearer_token (else imap_open fails, IMAP_FATAL, without connecting);
 * PLAIN and LOGIN need password.
 */
enum imap_mech {
	IMAP_MECH_ANY = 0,
	IMAP_MECH_PLAIN,
	IMAP_MECH_LOGIN,
	IMAP_MECH_XOAUTH2,
	IMAP_MECH_OAUTHBEARER
};

/*
 * How the messages imap_delete and imap_move flag \Deleted leave the
 * folder.  UID: UID EXPUNGE of exactly those when the server has UIDPLUS;
 * without it they stay flagged (imap_unexpunged counts them), since a
 * plain EXPUNGE would also remove what other clients flagged.  ALL: a
 * plain EXPUNGE, which does remove what others flagged \Deleted in the
 * folder.  NEVER: they stay flagged for another client to expunge, and
 * imap_move copies even when the server has MOVE (a UID MOVE expunges).
 */
enum imap_expunge {
	IMAP_EXPUNGE_UID = 0,
	IMAP_EXPUNGE_ALL,
	IMAP_EXPUNGE_NEVER
};

struct imap_opts {
	const char	*url;		/* imaps://host[:port]/MAILBOX or imap:// */
	const char	*username;
	const char	*password;	/* never logged */
	const char	*bearer_token;	/* OAuth 2.0 access token, never
					   logged; NULL: none */
	enum imap_tls	 tls;
	enum imap_mech	 mech;
	const char	*ca_file;	/* NULL: the system's CA store */
	long		 timeout;	/* seconds per network wait; 60 */
	uint64_t	 max_message;	/* bytes; larger messages are reported
					   too large, not fetched; 64 MiB */
	uint64_t	 max_line;	/* response line cap; 1 MiB */
	enum imap_expunge expunge;	/* see above; default UID */
	int		 verbose;	/* log the dialogue (credentials redacted) */
};

enum imap_search_kind {
	IMAP_SEARCH_UNSEEN = 0,	/* messages without \Seen (the default) */
	IMAP_SEARCH_ALL
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
 * timeout, busy server, connection closed; IMAP_FATAL: bad URL,
 * certificate not trusted, STARTTLS not offered).  When the login was
 * refused after AUTHENTICATE XOAUTH2 or OAUTHBEARER, *cls is IMAP_AUTH and
 * *cause starts with "token refused": the caller may get a new token and
 * try once more.  The URL must not hold credentials.  The program calls
 * curl_global_init once before the first imap_open.
 */
struct imap_session *imap_open(const struct imap_opts *, enum imap_class *,
		    char **);
void	imap_close(struct imap_session *);	/* LOGOUT, frees */
enum imap_class	imap_error_class(struct imap_session *); /* of the last -1 */

/* The mailbox named by the URL's path (decoded), e.g. "INBOX".  Borrowed. */
const char *imap_url_mailbox(struct imap_session *);
/*
 * What a mailbox is, whatever it is called: "imap://USER@HOST:PORT/FOLDER"
 * from o's url, username and tls, without connecting.  USER is o->username
 * with %, @, /, :, ; and bytes outside printable ASCII percent-encoded;
 * HOST is the URL's host lower-cased; PORT the URL's, else the default of
 * the TLS mode in force (993 implicit, 143 otherwise); FOLDER the URL's
 * mailbox as the server names it (modified UTF-7, as imap_select sends
 * it; INBOX in capitals, RFC 3501 5.1).  The scheme is always imap://:
 * two URLs that reach one folder of one account on one host and port are
 * one mailbox.  NULL and *cause when the URL is refused (as imap_open
 * would).  The caller frees the key.
 */
char	*imap_url_identity(const struct imap_opts *, char **);
int	imap_has_capability(struct imap_session *, const char *);

/* What SELECT said about the mailbox. */
struct imap_selected {
	uint32_t	 uidvalidity;
	uint32_t	 uidnext;	/* 0: the server did not say */
	uint32_t	 exists;	/* messages in it */
	uint64_t	 highestmodseq;	/* 0: no CONDSTORE, or NOMODSEQ */
};

/*
 * SELECT the mailbox (read-write); gives UIDVALIDITY, UIDNEXT, EXISTS and,
 * on a server with CONDSTORE (RFC 7162: SELECT ... (CONDSTORE) is sent
 * then, which also makes FETCH responses carry MODSEQ), HIGHESTMODSEQ.
 * Mailbox and folder names (here and in imap_move) are UTF-8: a name with
 * 8-bit characters is sent in modified UTF-7, a printable ASCII name is
 * sent as it is (so an already encoded name works too); control
 * characters are refused.
 */
int	imap_select(struct imap_session *, const char *,
	    struct imap_selected *, char **);

/*
 * What imap_search asks for.  since (0: none) is a time; the server
 * compares its UTC date with each message's internal date, so since =
 * now - N days gives a bounded backfill.  uid_from (0: none) asks for UIDs
 * uid_from:* only; note that RFC 3501 makes n:* hold the highest UID of
 * the mailbox even when it is below n.  modseq_from (0: none) asks for the
 * messages changed (or added) at or after that mod-sequence (CONDSTORE:
 * only after imap_select gave a highestmodseq).
 */
struct imap_query {
	enum imap_search_kind	 kind;
	time_t			 since;
	uint32_t		 uid_from;
	uint64_t		 modseq_from;
};

/*
 * UID SEARCH [UID n:*] [UNSEEN] UNDELETED [SINCE d-Mon-yyyy] [MODSEQ m]:
 * the UIDs of the selected mailbox, ascending (the caller frees *uids and
 * takes the first batch_size of them for a bounded poll).  Messages
 * flagged \Deleted are left out: they are on their way out (imap_delete
 * and imap_move leave ours so without UIDPLUS or with expunge mode NEVER).
 */
int	imap_search(struct imap_session *, const struct imap_query *,
	    uint32_t **uids, size_t *n, char **);

/* NOOP: keeps an idle session alive (call it between long steps, e.g.
   when a batch took minutes) and picks up EXISTS updates. */
int	imap_noop(struct imap_session *, char **);

/*
 * The server's name (UTF-8, before modified UTF-7) for a configured folder
 * name written with '/' between levels: '/' becomes the server's hierarchy
 * delimiter and the personal namespace prefix is put in front (unless the
 * name is INBOX, below INBOX or has the prefix already).  E.g. "Archive"
 * on a server with personal namespace "INBOX." and delimiter '.' is
 * "INBOX.Archive"; "Reports/Archive" on a server with "" and '.' is
 * "Reports.Archive".  The namespace is asked once per session (NAMESPACE
 * when the server has it, else LIST "" "").  *server_name is malloc'd.
 * imap_move maps its folder argument this way; imap_select does not (the
 * URL names the mailbox as the server knows it).
 */
int	imap_folder_path(struct imap_session *, const char *configured,
	    char **server_name, char **);

/*
 * Fetch messages with one UID FETCH (RFC822.SIZE BODY.PEEK[]) per chunk of
 * UIDs (ascending).  For each message the callback gets the bytes (borrowed)
 * or, when it is over max_message, data = NULL and size = the announced
 * size (RFC822.SIZE is not trusted: a literal over the cap is read and
 * discarded, and its size is reported).  A UID the server does not return
 * (expunged meanwhile) gets no call.  When the server refuses (NO) a FETCH
 * of several messages, they are fetched one by one.  The callback returns
 * 0 to go on or -1 with *cause to stop: the current command is still read
 * to its end (the session stays usable), and imap_fetch returns -1 with
 * the callback's cause (class IMAP_FATAL).  The callback runs while the
 * server's answer is pending: it should not block for minutes (servers
 * drop a client that does not read); do long work after imap_fetch.
 */
typedef int (*imap_fetch_fn)(uint32_t uid, const char *data, size_t len,
    uint64_t size, void *arg, char **cause);
int	imap_fetch(struct imap_session *, const uint32_t *, size_t,
	    imap_fetch_fn, void *, char **);

/* UID STORE set +FLAGS.SILENT (\Seen), in as few commands as possible. */
int	imap_flag_seen(struct imap_session *, const uint32_t *, size_t, char **);

/*
 * Move the messages to folder, a configured name (imap_folder_path maps
 * it; the folder is created when missing): UID MOVE when the server has
 * MOVE (unless the expunge mode is NEVER), else UID COPY, then the
 * originals are deleted as imap_delete does.  Originals left flagged
 * \Deleted stay until a client expunges the folder; imap_search skips
 * them.
 */
int	imap_move(struct imap_session *, const uint32_t *, size_t,
	    const char *folder, char **);

/*
 * Delete: UID STORE +FLAGS.SILENT (\Deleted), then as the session's
 * expunge mode says: UID EXPUNGE of those (UIDPLUS), EXPUNGE, or nothing.
 */
int	imap_delete(struct imap_session *, const uint32_t *, size_t, char **);

/*
 * How many messages this session flagged \Deleted and left in the folder
 * although its expunge mode (UID) asked to remove them: the server lacks
 * UIDPLUS.  0 with the other modes.
 */
size_t	imap_unexpunged(struct imap_session *);

#endif
