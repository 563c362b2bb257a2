/*
 * report.h: the DMARC aggregate report model, shared by the parsers
 * (report/) and the PostgreSQL sink (sink/).  It is the one header two
 * modules share; agent/ moves the structures between them.
 *
 * Normalisation rules (binding, see issue 2 and standards.md §3.3):
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
 * without error (head: the report is a duplicate, skip it; head or
 * records returning 1 gives REPORT_DUPLICATE), or -1 with *cause set to
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
	REPORT_WIN1252,		/* retry: bytes that are not UTF-8 read as
				   windows-1252 (Q27) */
	REPORT_RECOVER		/* retry: libxml2 recovery (Q26, Q28); the
				   report gets a "recovered: ..." warning */
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
struct report_limits {
	uint32_t max_records;		/* per report; 10,000,000 */
	uint32_t max_results;		/* DKIM/SPF/reason/ext per place; 100 */
	size_t	 batch;			/* records per records() call; 1000 */
	enum report_mode mode;		/* default REPORT_STRICT */
	size_t	 max_text;		/* one element's text; 64 KiB */
	size_t	 max_recover;		/* input in REPORT_RECOVER; 32 MiB */
};
void	report_limits_default(struct report_limits *);

enum report_status {
	REPORT_OK = 0,		/* parsed; head, records and end were called */
	REPORT_DUPLICATE = 1,	/* head returned 1 */
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

#endif
