/*
 * report.h: the DMARC aggregate report model, shared by the parsers
 * (report/) and the PostgreSQL sink (sink/).  It is the one header two
 * modules share; agent/ moves the structures between them.
 *
 * Normalisation rules (every parser and the sink rely on them):
 *  - every string is NUL-terminated UTF-8, owned by the structure that holds
 *    it, freed by report_head_free / report_record_free;
 *  - enumerated values: the typed field holds the canonical lower-case word
 *    or NULL; the matching *_raw field is NULL unless the original text was
 *    not canonical (then it holds the original, untrimmed text).  Example:
 *    "Pass " gives result = "pass", result_raw = "Pass "; "hardfail" gives
 *    result = NULL, result_raw = "hardfail";
 *  - absent elements are NULL, present-but-empty ones are "" (envelope_from
 *    may legitimately be empty);
 *  - org_name, report_id: trimmed, case kept; policy_domain: trimmed,
 *    lower-cased, one trailing dot removed (so are DKIM/SPF domains,
 *    header_from, envelope_from and envelope_to);
 *  - reporter_key = lower(org_name), or the domain of org_email when org_name
 *    is empty or absent, or "".
 *
 * The parser streams: it hands the header once (before the first batch of
 * records), then batches of records, then the header again with totals.
 * Nothing holds a whole report in memory, except in REPORT_RECOVER mode
 * (libxml2 2.9's streaming reader cannot recover, so that last-resort mode
 * builds the tree of the whole input, capped by max_recover).  The header passed
 * to end() may carry more warnings and ext elements than the one passed to
 * head() (errors or elements found after the first records): store them
 * at end().
 */
#ifndef REPORT_H
#define REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum report_format {
	REPORT_FMT_UNKNOWN = 0,
	REPORT_FMT_RFC7489,		/* no namespace or dmarc-xml/0.1 */
	REPORT_FMT_RFC9990,		/* urn:ietf:params:xml:ns:dmarc-2.0 */
	REPORT_FMT_DRAFT		/* no namespace but 9990-only fields */
};
const char	*report_format_name(enum report_format);	/* "rfc7489" ... */

/* A text with an optional lang attribute. */
struct report_text {
	char	*text;
	char	*lang;
};

/* An unknown or <extension> element, kept as XML text. */
struct report_ext {
	char	*ns_uri;		/* NULL when none */
	char	*local_name;
	char	*xml;			/* serialised element */
};

struct report_dkim {
	char	*domain;		/* lower-cased, trimmed */
	char	*selector;		/* trimmed, case kept */
	char	*result;		/* none pass fail policy neutral
					   temperror permerror, or NULL */
	char	*result_raw;
	char	*human_result;
	char	*human_result_lang;
};

struct report_spf {
	char	*domain;		/* lower-cased, trimmed */
	char	*scope;			/* mfrom helo, or NULL */
	char	*scope_raw;
	char	*result;		/* none neutral pass fail softfail policy
					   temperror permerror, or NULL */
	char	*result_raw;
	char	*human_result;
	char	*human_result_lang;
};

struct report_reason {
	char	*type;			/* forwarded sampled_out trusted_forwarder
					   mailing_list local_policy other
					   policy_test_mode, or NULL */
	char	*type_raw;
	char	*comment;
	char	*comment_lang;
};

struct report_record {
	uint32_t	 ord;		/* 1-based position among the report's
					   <record> elements; skipped ones
					   leave gaps */
	char		*source_ip;	/* canonical text for inet, or NULL */
	char		*source_ip_raw;	/* original when not canonical */
	int64_t		 message_count;	/* >= 0 */
	char		*count_raw;	/* original when not a plain integer */
	char		*disposition;	/* none quarantine reject pass */
	char		*disposition_raw;
	char		*dkim_aligned;	/* policy_evaluated/dkim: pass fail */
	char		*dkim_aligned_raw;
	char		*spf_aligned;	/* policy_evaluated/spf: pass fail */
	char		*spf_aligned_raw;
	char		*header_from;	/* lower-cased, trimmed */
	char		*envelope_from;	/* NULL absent, "" present but empty */
	char		*envelope_to;	/* lower-cased, trimmed */
	const char	*identifiers_tag; /* static: "identifiers", "identities"
					     or "missing" */
	struct report_reason	*reasons;
	size_t			 nreasons;
	struct report_dkim	*dkim;
	size_t			 ndkim;
	struct report_spf	*spf;
	size_t			 nspf;
	struct report_ext	*ext;	/* unknown children, as XML */
	size_t			 next;
	char		**warnings;	/* what was odd about this record */
	size_t		  nwarnings;
};

struct report_head {
	enum report_format format;
	char	*xml_namespace;		/* NULL when none */
	char	*xml_version;		/* <version> text */
	char	*org_name;
	char	*reporter_key;		/* never NULL once handed out */
	char	*org_email;
	char	*extra_contact_info;
	char	*extra_contact_info_lang;
	char	*report_id;		/* never NULL once handed out */
	int64_t	 date_begin;		/* epoch seconds */
	int64_t	 date_end;
	char	*begin_raw;		/* original when not a plain integer */
	char	*end_raw;		/* ... or when end < begin was clamped */
	char	*generator;
	char	*policy_domain;		/* never NULL once handed out */
	char	*policy_p, *policy_p_raw;
	char	*policy_sp, *policy_sp_raw;
	char	*policy_np, *policy_np_raw;
	char	*policy_adkim, *policy_adkim_raw;
	char	*policy_aspf, *policy_aspf_raw;
	int	 policy_pct;		/* 0..100, or -1 when absent/invalid */
	char	*policy_pct_raw;
	char	*policy_fo;
	char	*policy_testing, *policy_testing_raw;	/* y n */
	char	*discovery_method, *discovery_method_raw; /* psl treewalk */
	int	 policy_published_count;
	struct report_text	*errors;	/* <error> elements */
	size_t			 nerrors;
	struct report_ext	*ext;		/* <extension> children and
						   unknown elements */
	size_t			 next;
	char	**warnings;		/* parse warnings, incl. "recovered: ..." */
	size_t	  nwarnings;
	/* Totals, valid in the end callback only. */
	uint32_t record_count;		/* records handed out */
	int64_t	 message_total;		/* sum of their message_count */
	uint32_t records_skipped;	/* records dropped (no usable data) */
};

void	report_head_free(struct report_head *);		/* frees contents */
void	report_record_free(struct report_record *);	/* frees contents */

/*
 * Parser input: a pull stream.  Returns the number of bytes put in buf
 * (0 at end of stream) or -1 with *cause set (malloc'd) on a read error,
 * for example a decompression error or a size cap.
 */
typedef ssize_t (*report_read_fn)(void *stream, char *buf, size_t len,
    char **cause);

/*
 * Parser output.  Each callback returns 0 to go on, 1 to stop parsing
 * without error (the report is a duplicate, skip it; head, records or
 * end returning 1 gives REPORT_DUPLICATE), or -1 with *cause set to
 * abort (a database error: the caller retries later).  Pointers are
 * borrowed for the duration of the call.
 */
struct report_callbacks {
	int	(*head)(const struct report_head *, void *, char **);
	int	(*records)(const struct report_record *, size_t, void *,
		    char **);
	int	(*end)(const struct report_head *, void *, char **);
};

enum report_mode {
	REPORT_STRICT = 0,	/* well-formed XML as declared */
	REPORT_WIN1252,		/* retry: bytes that are not UTF-8 (a
				   windows-1252 quote in a document declared
				   UTF-8) read as windows-1252 */
	REPORT_RECOVER		/* retry: libxml2 recovery (unescaped < in a
				   value, a stray unclosed wrapper element,
				   C0 controls XML 1.0 forbids); the report
				   gets a "recovered: ..." warning */
};

/*
 * Limits; report_limits_default fills in the defaults, and a zero max_text,
 * max_recover or batch also means the default.  Going over any of them is
 * REPORT_INVALID (with *retry 0) and a cause that names the limit.
 *  - max_text caps the text of any one element (its text and CDATA
 *    descendants), any attribute value, comment, tag, and the XML text of
 *    an element kept as an extension.  It is checked on the raw input
 *    before libxml2 buffers it, so an oversized value is never allocated;
 *    the cause names the element: "text of <org_name> longer than 65536
 *    bytes (max_text)".
 *  - max_recover caps the input that REPORT_RECOVER accepts: that mode
 *    builds the tree of the whole document (about 9 times the input in
 *    memory), so it reads at most max_recover + 1 bytes and then fails
 *    with "too large to recover (over N bytes, max_recover)".  Strict and
 *    windows-1252 modes stream and are not affected.
 */
#define REPORT_MAX_RECORDS	10000000
#define REPORT_MAX_RESULTS	100
#define REPORT_MAX_TEXT		(64 * 1024)
#define REPORT_MAX_RECOVER	(32 * 1024 * 1024)
#define REPORT_BATCH		1000
#define REPORT_MAX_JSON		(16 * 1024 * 1024)
#define REPORT_MAX_JSON_DEPTH	64
struct report_limits {
	uint32_t max_records;		/* per report; 10,000,000 */
	uint32_t max_results;		/* DKIM/SPF/reason/ext per place; 100 */
	size_t	 batch;			/* records per records() call; 1000 */
	enum report_mode mode;		/* default REPORT_STRICT */
	size_t	 max_text;		/* one element's text; 64 KiB */
	size_t	 max_recover;		/* input in REPORT_RECOVER; 32 MiB */
	size_t	 max_json;		/* a TLS report's JSON text, or a
					   failure report's feedback part;
					   16 MiB (tlsrpt.c, arf.c) */
	unsigned max_json_depth;	/* JSON nesting; 64 */
};
void	report_limits_default(struct report_limits *);

enum report_status {
	REPORT_OK = 0,		/* parsed; head, records and end were called */
	REPORT_DUPLICATE = 1,	/* a callback returned 1 */
	REPORT_NOT_DMARC = 2,	/* well-formed data, but not a DMARC aggregate
				   report: *cause says what it is */
	REPORT_INVALID = -1,	/* malformed or over a limit: *cause */
	REPORT_ABORTED = -2	/* a callback returned -1: its *cause */
};

/*
 * Parse one XML aggregate report from the stream, handing the header and
 * record batches to the callbacks.  Safe against XXE, entity expansion and
 * DTDs; memory stays bounded by one batch of records.  A report whose
 * header comes after its records is buffered up to one batch; past that it
 * is REPORT_INVALID.  *cause is malloc'd on every status but REPORT_OK and
 * REPORT_DUPLICATE.  When REPORT_INVALID comes after head(), the caller
 * must discard what the callbacks stored (roll back).  The caller may then
 * rewind the stream and try again with mode REPORT_WIN1252 and then
 * REPORT_RECOVER; *retry (may be NULL) is set to 1 when such a retry can
 * help (an encoding or well-formedness error, not a limit or a non-report).
 */
enum report_status report_parse_xml(report_read_fn, void *,
		    const struct report_limits *,
		    const struct report_callbacks *, void *, int *retry,
		    char **);

/*
 * SMTP TLS reports (RFC 8460).  The same normalisation
 * rules as above: strings are NUL-terminated UTF-8 owned by the structure
 * (tlsrpt_report_free frees them all); an enumerated value is the
 * canonical lower-case word or NULL, with the original text in *_raw when
 * it was not canonical; a count given as a string or out of range keeps
 * the original JSON text in *_raw; domains are trimmed, lower-cased and
 * lose one trailing dot (punycode stays as sent).  JSON members the RFC
 * does not define are kept as a JSON object text in extra (NULL when
 * none).  A report is small (its JSON is capped by max_json), so it is
 * handed out whole, once.
 */
struct tlsrpt_failure {
	char	*result_type;		/* starttls-not-supported
					   certificate-host-mismatch
					   certificate-expired
					   certificate-not-trusted
					   validation-failure tlsa-invalid
					   dnssec-invalid dane-required
					   sts-policy-fetch-error
					   sts-policy-invalid
					   sts-webpki-invalid, or NULL */
	char	*result_type_raw;	/* original when not canonical */
	char	*sending_mta_ip;	/* canonical inet text, or NULL */
	char	*sending_mta_ip_raw;	/* original when not canonical */
	char	*receiving_mx_hostname;	/* domain rules */
	char	*receiving_mx_helo;	/* trimmed, case kept */
	char	*receiving_ip;		/* canonical inet text, or NULL */
	char	*receiving_ip_raw;
	int64_t	 failed_session_count;	/* >= 0 (0 when absent) */
	char	*failed_session_count_raw;
	char	*additional_information;
	char	*failure_reason_code;
	char	*extra;			/* unknown members (JSON object) */
};

struct tlsrpt_policy {
	char	*policy_type;		/* sts tlsa no-policy-found, or NULL */
	char	*policy_type_raw;
	char	**policy_string;	/* each string as sent */
	size_t	  npolicy_string;
	char	*policy_domain;		/* never NULL ("" when absent) */
	char	**mx_host;		/* each host as sent, trimmed */
	size_t	  nmx_host;
	int	 mx_host_string;	/* mx-host was a string, not a list */
	int64_t	 successful_sessions;	/* >= 0 */
	char	*successful_raw;	/* original when not a JSON integer */
	int64_t	 failed_sessions;	/* >= 0 */
	char	*failed_raw;
	struct tlsrpt_failure	*failures;	/* failure-details, in order */
	size_t			 nfailures;
	char	*extra;			/* unknown members of the policy
					   item and its policy/summary */
};

struct tlsrpt_report {
	char	*organization_name;	/* trimmed; never NULL ("" absent) */
	char	*contact_info;
	char	*report_id;		/* trimmed; never NULL, never "" */
	int64_t	 date_begin;		/* epoch seconds (UTC) */
	int64_t	 date_end;
	char	*begin_raw;		/* original unless the text was exactly
					   YYYY-MM-DDTHH:MM:SSZ */
	char	*end_raw;
	struct tlsrpt_policy	*policies;
	size_t			 npolicies;
	int64_t	 successful_total;	/* sums over the policies */
	int64_t	 failed_total;
	char	*extra;			/* unknown top-level members */
	char	**warnings;		/* what was odd: a time without a zone
					   read as UTC, counts as strings ... */
	size_t	  nwarnings;
};
void	tlsrpt_report_free(struct tlsrpt_report *);	/* frees contents */

/*
 * The parser's output: report is called once with the whole report and
 * returns 0 (stored), 1 (a duplicate: REPORT_DUPLICATE) or -1 with *cause
 * (REPORT_ABORTED).  The report is borrowed for the call.
 */
struct tlsrpt_callbacks {
	int	(*report)(const struct tlsrpt_report *, void *, char **);
};

/*
 * Parse one SMTP TLS report (JSON) from the stream.  At most max_json
 * bytes are read (one more byte is REPORT_INVALID: "over N bytes
 * (max_json)"), and json-c's nesting is capped at max_json_depth, so
 * memory stays within a small multiple of max_json; every string is
 * capped by max_text and the policies and failure details together by
 * max_records.  JSON that is not an object with policies or an
 * organization-name is REPORT_NOT_DMARC (not a TLS report); a report
 * without report-id or with a date-range that cannot be read is
 * REPORT_INVALID.  *cause is malloc'd on every status but REPORT_OK and
 * REPORT_DUPLICATE.
 */
enum report_status report_parse_tlsrpt(report_read_fn, void *,
		    const struct report_limits *,
		    const struct tlsrpt_callbacks *, void *, char **);

/*
 * Failure reports (RFC 6591 ARF, updated by RFC 9991).
 * One report describes one failed message.  The typed fields come from
 * the message/feedback-report part (fields in header syntax, unfolded);
 * raw_fields keeps every field verbatim, in order, repeats included, as a
 * JSON array of [name, value] pairs.  Enumerated fields follow the rules
 * above; list fields (Auth-Failure, Identity-Alignment) keep canonical
 * words, with the original field in *_raw when any word was not
 * canonical.  A report without a feedback part (a plain-text report
 * from Exim) is read by pattern: format "plain" and a reason.
 */
struct failure_report {
	const char *format;		/* static: "arf" or "plain" */
	char	*reason;		/* why it is not a complete ARF
					   report, or NULL */
	char	*feedback;		/* the feedback part (or, for "plain",
					   the text part) as stored: UTF-8,
					   LF line ends; its SHA-256 is the
					   report's identity */
	char	*raw_fields;		/* JSON array of [name, value] */
	char	*feedback_type;		/* auth-failure abuse fraud virus
					   not-spam other, or NULL */
	char	*feedback_type_raw;
	char	*version;
	char	*user_agent;
	char	*original_mail_from;
	char	**original_rcpt_to;
	size_t	  noriginal_rcpt_to;
	char	*original_envelope_id;
	int64_t	 arrival_date;		/* epoch seconds, or INT64_MIN */
	char	*arrival_date_raw;	/* the field as sent */
	char	*source_ip;		/* canonical inet text, or NULL */
	char	*source_ip_raw;		/* original when not canonical */
	int	 source_port;		/* 0..65535, or -1 */
	char	**reported_domain;	/* domain rules; usually one */
	size_t	  nreported_domain;
	char	**reported_uri;
	size_t	  nreported_uri;
	char	*authentication_results;
	char	**auth_failure;		/* adsp bodyhash revoked signature spf
					   dmarc */
	size_t	  nauth_failure;
	char	*auth_failure_raw;
	char	*delivery_result;	/* delivered spam policy reject other */
	char	*delivery_result_raw;
	char	*dkim_domain;		/* domain rules */
	char	*dkim_identity;
	char	*dkim_selector;
	char	*dkim_canonicalized_header;
	char	*dkim_canonicalized_body;
	char	*spf_dns;
	char	**identity_alignment;	/* dkim spf none */
	size_t	  nidentity_alignment;
	char	*identity_alignment_raw;
	char	*incidents;
	char	*sample_headers;	/* header block of the original
					   message, or NULL */
	int	 sample_headers_only;	/* the report returned only headers
					   (text/rfc822-headers) */
	char	*sample_body;		/* its body: only when asked for */
	char	*original_from;		/* From, Subject, Message-ID of the
					   sample, unfolded, or NULL */
	char	*original_subject;
	char	*original_message_id;
	char	**warnings;
	size_t	  nwarnings;
};
void	failure_report_free(struct failure_report *);	/* frees contents */

/*
 * What the parser reads besides the feedback part (mime/ finds these in
 * the report mail; all borrowed, any may be NULL).  original is the
 * returned message (headers and body) or, with headers_only, a
 * text/rfc822-headers part.  text is the human-readable part; for a
 * report without a feedback part (plain set) the stream holds that text.
 */
struct arf_input {
	const char	*report_type;	/* multipart/report report-type */
	const char	*text;
	size_t		 text_len;
	const char	*original;
	size_t		 original_len;
	int		 headers_only;
	int		 plain;		/* no feedback part: stream = text */
	int		 store_body;	/* keep the original's body (config:
					   failure_reports.store_body) */
};

struct arf_callbacks {
	int	(*report)(const struct failure_report *, void *, char **);
};

/*
 * Parse one failure report: the feedback part (or, for a plain report,
 * its text) from the stream, at most max_json bytes, at most
 * REPORT_MAX_RESULTS * 10 fields, each field within max_text.  The
 * callback works as for report_parse_tlsrpt.  A plain text that does not
 * read as a DMARC failure report, or a feedback part with no field, is
 * REPORT_NOT_DMARC.
 */
enum report_status report_parse_arf(report_read_fn, void *,
		    const struct arf_input *, const struct report_limits *,
		    const struct arf_callbacks *, void *, char **);

#endif
