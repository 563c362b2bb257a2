/*
 * mime.h: turn one raw message (or one raw file) into report payload
 * streams.
 *
 * mime_scan walks the whole MIME tree (nested message/rfc822 included),
 * sniffs every candidate leaf by its bytes (never trusting the declared type
 * or file name), opens containers (gzip, zlib, zip, nested) and calls back
 * once per payload with a pull stream that decompresses on demand, within
 * byte caps.  The message itself is held in memory by the caller (its size is
 * capped before it gets here); decompressed data never is as a whole.
 * mime_scan_all also reports the parts that looked like a report but could
 * not be decoded, so that the caller can record them.
 *
 * Ownership: everything handed to the callback is borrowed for the duration
 * of the call.  Module internals are in mime_p.h.
 */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

void	mime_init(void);		/* once at start-up (g_mime_init) */
void	mime_shutdown(void);

enum mime_kind {
	MIME_KIND_UNKNOWN = 0,		/* bad part: content never reached */
	MIME_KIND_XML = 1,		/* DMARC aggregate report (XML) */
	MIME_KIND_JSON,			/* SMTP TLS report (JSON) */
	MIME_KIND_ARF			/* failure report (message/feedback-report) */
};
/* "xml" "json" "arf", "unknown" */
const char	*mime_kind_name(enum mime_kind);

struct mime_limits {
	size_t	 max_decoded;		/* one part after base64; 64 MiB */
	uint64_t max_payload;		/* decompressed bytes per payload;
					   1 GiB */
	unsigned max_ratio;		/* decompressed:compressed once past
					   8 MiB; 200 */
	unsigned max_zip_entries;	/* entries per zip; 64 */
	unsigned max_depth;		/* container nesting (zip>gzip); 4 */
	unsigned max_payloads;		/* per message; 16 */
	unsigned max_mime_depth;	/* multipart/rfc822 nesting; 32 */
	unsigned max_parts;		/* MIME parts per message; 1000 */
	size_t	 max_header_line;	/* one header field, folded lines
					   included; 1 MiB */
	unsigned max_headers;		/* header fields per message (all
					   parts); 20000 */
};
void	mime_limits_default(struct mime_limits *);

/*
 * Facts about the message itself, for the ledger (all may be NULL).  The
 * date is seconds since 1970 (negative before), MIME_NO_DATE when the
 * field is absent or unreadable: -1 is a date, 1969-12-31 23:59:59.
 */
#define MIME_NO_DATE	INT64_MIN
struct mime_info {
	char	*message_id;		/* without <> */
	char	*from;			/* decoded From: */
	char	*subject;		/* RFC 2047-decoded, unfolded */
	int64_t	 date;			/* MIME_NO_DATE: none */
	char	*auth_results;		/* first Authentication-Results */
};
void	mime_info_free(struct mime_info *);	/* frees contents */

/*
 * The RFC 7489 conventions (mime-names.c): a report file named
 * "receiver!policy-domain!begin!end[!unique-id].ext", and a Subject
 * "Report Domain: D Submitter: S Report-ID: <I>".  mime_name_parse
 * returns 1 for such a name (begin, end: -1 past 18 digits), else 0 with
 * everything NULL and -1.  Strings are the caller's: free with
 * mime_name_free and mime_subject_free.
 */
struct mime_name {
	char	*receiver;
	char	*policy_domain;
	int64_t	 begin;
	int64_t	 end;
	char	*unique_id;
};
int	mime_name_parse(const char *, struct mime_name *);
void	mime_name_free(struct mime_name *);
struct mime_subject {
	char	*domain;
	char	*submitter;
	char	*report_id;
};
void	mime_subject_parse(const char *, struct mime_subject *);
void	mime_subject_free(struct mime_subject *);

/* One payload, with its provenance.  Borrowed during the callback. */
struct mime_payload {
	enum mime_kind	 kind;
	const char	*mime_path;	/* "1", "2.1", "" for a single part */
	const char	*content_type;	/* as declared, NULL if none */
	const char	*filename;	/* as declared (sanitised), or NULL */
	const char	*transfer_encoding;	/* as declared, or NULL */
	const char	*container;	/* "gzip>xml", "zip>gzip>xml", "inline" */
	const char	*zip_member;	/* zip entry name (sanitised), or NULL */
	uint64_t	 encoded_bytes;	/* part size before transfer decoding */
	struct mime_stream *stream;	/* read with mime_stream_read; NULL
					   for a bad part (mime_bad_fn) */
	/*
	 * Failure reports (kind MIME_KIND_ARF) only, else NULL and 0: the
	 * parts next to the message/feedback-report part (in its
	 * multipart/report, or any multipart that holds one: NetEase),
	 * decoded.  arf_original is the returned message (message/rfc822,
	 * as GMime writes it back) or, with arf_headers_only, a
	 * text/rfc822-headers part; arf_text the first text/plain part.  A
	 * multipart/report with no feedback part and no other payload (Exim's
	 * plain-text failure report) is handed out too, with arf_plain set:
	 * then the stream holds its first text/plain part (unless its
	 * report-type is tlsrpt, delivery-status or
	 * disposition-notification).
	 */
	const char	*arf_report_type;	/* report-type parameter */
	const char	*arf_text;
	size_t		 arf_text_len;
	const char	*arf_original;
	size_t		 arf_original_len;
	int		 arf_headers_only;
	int		 arf_plain;
};

/*
 * Read decompressed payload bytes: returns the count, 0 at the end, or -1
 * with *cause (malloc'd) on a decompression error or a cap.  After the end,
 * mime_stream_stats gives the byte count and the SHA-256 of everything read.
 * Its signature matches report_read_fn.
 */
ssize_t	mime_stream_read(void *stream, char *buf, size_t len, char **cause);
void	mime_stream_stats(struct mime_stream *, uint64_t *bytes,
	    unsigned char sha256[32]);
/* Start the payload again from its first byte (for a parser retry). */
int	mime_stream_rewind(struct mime_stream *, char **cause);

/*
 * Callback per payload: 0 to go on, -1 with *cause to stop the scan (then
 * mime_scan returns MIME_ABORTED and passes the cause through).
 */
typedef int (*mime_payload_fn)(struct mime_payload *, void *, char **);

enum mime_status {
	MIME_OK = 0,		/* at least one payload was handed out */
	MIME_NONE = 1,		/* no report payload: *cause says why */
	MIME_INVALID = -1,	/* malformed, undecodable, or over a cap:
				   *cause; payloads before it were handed out */
	MIME_ABORTED = -2	/* the callback returned -1: its *cause */
};

/*
 * Callback per bad part: a part that looked like a report (a container, a
 * report-like type or file name, or a member of a container) but could not
 * be decoded: corrupt gzip or zip, encrypted member, over a cap, content
 * that is neither XML nor JSON (Yahoo's 38-byte gzip of "unused"), too
 * deeply nested.
 * The payload carries the provenance known so far: stream is NULL, kind is
 * MIME_KIND_UNKNOWN, container is the chain opened so far ("gzip",
 * "zip>gzip") or NULL, zip_member is set for a member.
 * cause says what failed.  Everything is borrowed for the call.  A payload
 * whose stream fails only after the first 512 decompressed bytes is handed
 * to mime_payload_fn and fails in mime_stream_read instead.
 */
typedef void (*mime_bad_fn)(const struct mime_payload *, const char *cause,
    void *);

/*
 * Scan a message or a raw file held in buf.  The input may be an RFC 5322
 * message, or a bare payload (XML, JSON, gzip, zlib or zip bytes), which is
 * recognised by its content: then mime_path is "" and info is all NULL.
 * info may be NULL; otherwise it is filled (caller frees with
 * mime_info_free) whatever the status.  *cause is malloc'd for MIME_NONE,
 * MIME_INVALID and MIME_ABORTED.
 */
enum mime_status mime_scan(const char *buf, size_t len,
		    const struct mime_limits *, struct mime_info *info,
		    mime_payload_fn, void *, char **cause);

/*
 * mime_scan, also reporting every bad part to bad (which may be NULL; then
 * this is mime_scan).  Status: MIME_OK when at least one payload was
 * handed out, whatever the bad parts; otherwise MIME_INVALID with the cause
 * of the first bad part when there was one; otherwise MIME_NONE.  MIME
 * nesting beyond max_mime_depth is a bad part.  More than max_payloads
 * payloads stop the scan with MIME_INVALID after the first max_payloads
 * were handed out.  The shape of a mail is checked before it is parsed:
 * more than max_parts parts, a header field over max_header_line bytes or
 * more than max_headers header fields stop the scan with MIME_INVALID at
 * that point (what came before is still scanned and handed out), and a
 * part nested deeper than max_mime_depth is a bad part that also ends the
 * scan there.  The returned parts of a multipart/report (the
 * original message of a bounce or a failure report) are not searched.
 */
enum mime_status mime_scan_all(const char *buf, size_t len,
		    const struct mime_limits *, struct mime_info *info,
		    mime_payload_fn, mime_bad_fn, void *, char **cause);

/*
 * mime_scan_all, telling facts the message's facts (mime_info) first, from
 * the parse the scan makes anyway: the ledger row needs them before the
 * first payload, and the header is parsed once.  facts is called exactly
 * once, before the first payload or bad part, or at the end when there is
 * none.  Its mime_info is all NULL (date MIME_NO_DATE) for a bare payload
 * or a message that does not parse, and is borrowed for the call.  It
 * returns 0 to go on, or -1 to stop: then nothing is handed out and the
 * status is MIME_ABORTED (unless the scan had already stopped over a
 * cap), with a *cause.  The facts are what mime_scan_all fills in, except
 * for a mail read a second time with its lines of blanks emptied (when
 * the first reading found nothing): then they are the first reading's.
 */
typedef int (*mime_facts_fn)(const struct mime_info *, void *);
enum mime_status mime_scan_facts(const char *buf, size_t len,
		    const struct mime_limits *, mime_facts_fn,
		    mime_payload_fn, mime_bad_fn, void *, char **cause);

/*
 * SHA-256 (mime-sha.c, libcrypto's), for ledger and payload identities:
 * of a buffer, or in steps.  mime_sha_end writes the digest and frees the
 * state; mime_sha_free drops one unfinished.
 */
void	mime_sha256(const void *, size_t, unsigned char out[32]);
struct mime_sha	*mime_sha_new(void);
void	mime_sha_add(struct mime_sha *, const void *, size_t);
void	mime_sha_end(struct mime_sha *, unsigned char out[32]);
void	mime_sha_free(struct mime_sha *);

#endif
