/*
 * xml.c: the streaming DMARC aggregate report parser.
 *
 * libxml2's xmlTextReader pulls the document from the caller's read
 * function (xmlReaderForIO).  The reader walks the document until the first
 * element whose local name is "feedback" (in any case, anywhere: IKEA wraps
 * it in a stray <xs:schema>).  Each child of feedback is expanded on its own
 * (xmlTextReaderExpand), turned into report_head fields or one
 * report_record, and released by moving past it (xmlTextReaderNext), so
 * memory stays bounded by one batch of records.  Elements are matched by
 * local name, in any order; anything unknown is kept as serialised XML in
 * an ext list.
 *
 * Security (libxml2 2.9 options, as tested on Debian 12): no NOENT, DTDLOAD, DTDATTR, DTDVALID,
 * XINCLUDE or HUGE; any document with a DTD is refused; a global external
 * entity loader refuses everything; libxml2 errors go to a structured
 * handler that turns them into the cause or into warnings, never stderr.
 *
 * Limits: before libxml2 sees a byte, a small scanner (scan_feed) measures
 * text runs, attribute values, comments and tags against max_text and
 * stops the read when one is over, naming the open element; node_text and
 * node_xml check the decoded text and the serialised extension again.  In
 * recover mode io_read stops one byte past max_recover.
 *
 * The header goes to head() before the first records() batch.  Records met
 * before report_metadata and policy_published are held, up to one batch.
 */
#include "config.h"

#include <sys/types.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlreader.h>

#include "common/common.h"
#include "report/report.h"
#include "report/report_p.h"

#define NS_DMARC2	"urn:ietf:params:xml:ns:dmarc-2.0"
#define NS_DMARC01	"http://dmarc.org/dmarc-xml/0.1"

#define XML_OPTIONS	(XML_PARSE_NONET | XML_PARSE_NOCDATA | \
			    XML_PARSE_COMPACT)

/* Where unknown elements and warnings of the current element go. */
struct dest {
	struct report_ext	**ext;
	size_t			 *next;
	char			***warn;
	size_t			 *nwarn;
};

/* A leaf element copied into a string field of a structure. */
enum field_kind {
	F_TEXT,			/* trimmed, case kept */
	F_DOMAIN,		/* trimmed, lower-cased, no trailing dot */
	F_ENUM,			/* canonical word + raw (off2) */
	F_LANG			/* trimmed text + lang attribute (off2) */
};
struct field {
	const char		*name;
	enum field_kind		 kind;
	size_t			 off;
	size_t			 off2;
	const char *const	*words;
};

/*
 * The byte scanner (scan_feed) watches the raw input before libxml2 sees
 * it, so that an over-long text, attribute value, comment or tag stops the
 * read instead of growing a libxml2 buffer.  It is an approximate XML
 * tokenizer: good enough to measure runs and to name the open element.
 */
#define SCAN_DEPTH	32		/* open element names kept */
#define SCAN_NAME	48		/* bytes of each name kept */
enum scan_state {
	S_TEXT, S_LT, S_NAME, S_TAG, S_QUOTE, S_BANG, S_COMMENT, S_CDATA,
	S_PI, S_DECL
};
struct scan {
	int		 enc;		/* -1 unknown, 0 bytes, 1 LE, 2 BE */
	int		 half;		/* first byte of a UTF-16 unit */
	int		 have_half;
	enum scan_state	 state;
	int		 end_tag;	/* the tag is </...> */
	int		 quote;
	unsigned	 prev, prev2;	/* last two units */
	size_t		 text;		/* text units in the open element */
	size_t		 run;		/* attribute value, comment or PI */
	size_t		 tag;		/* units of the current tag */
	size_t		 bang;		/* units matched after "<!" */
	size_t		 depth;
	char		 name[SCAN_NAME];
	size_t		 namelen;
	char		 names[SCAN_DEPTH][SCAN_NAME];
};

struct parser {
	xmlTextReaderPtr	 reader;
	xmlDocPtr		 doc;		/* recover tree, or kept */
	report_read_fn		 read_fn;
	void			*stream;
	int			 read_state;	/* 0, 1 eof, -1 error */
	char			*read_cause;
	size_t			 nread;
	struct scan		 scan;
	size_t			 max_text;
	const struct report_limits *lim;
	size_t			 batch_size;
	const struct report_callbacks *cb;
	void			*arg;

	int			 in_feedback;	/* 1 inside, 2 after */
	int			 feedback_depth;
	char			*root_name;
	int			 seen_metadata;
	int			 seen_policy;
	int			 seen_begin, seen_end;
	int			 draft_fields;	/* 9990-only met */
	int			 head_sent;

	struct report_head	 head;
	struct report_record	*batch;
	size_t			 nbatch;
	uint32_t		 nrecord;	/* <record> elements met */
	int			 rec_have_count;
	int			 rec_bad_count;

	char			*xml_error;	/* first libxml2 error */
	int			 nxml_errors;

	int			 done;		/* status decided */
	enum report_status	 status;
	int			 retry;
	char			*cause;
};

static xmlParserInputPtr refuse_entity(const char *, const char *,
		    xmlParserCtxtPtr);
static void	init_libxml(void);
static void	init_once(void);
static int	io_read(void *, char *, int);
static int	io_fill(struct parser *, char *, size_t);
static const char *scan_open(struct scan *);
static void	scan_push(struct scan *);
static int	scan_unit(struct parser *, unsigned);
static int	scan_feed(struct parser *, const unsigned char *, size_t);
static int	scan_over(struct parser *, const char *, size_t);
static int	name_end(unsigned);
static void	on_error(void *, xmlErrorPtr);
static void	on_generic(void *, const char *, ...);
static void	fail(struct parser *, enum report_status, int, const char *,
		    ...) __attribute__((format(printf, 4, 5)));
static int	is_name(xmlNodePtr, const char *);
static char	*node_text(struct parser *, xmlNodePtr);
static int	is_text(xmlNodePtr);
static const char *node_peek(struct parser *, xmlNodePtr, char **);
static xmlNodePtr tree_next(xmlNodePtr, xmlNodePtr);
static char	*node_lang(xmlNodePtr);
static char	*node_xml(struct parser *, xmlNodePtr);
static int	dump_write(void *, const char *, int);
static int	dump_close(void *);
static struct dest dest_head(struct parser *);
static struct dest dest_record(struct report_record *);
static int	add_ext(struct parser *, struct dest *, xmlNodePtr, int);
static int	set_field(struct parser *, struct dest *, void *,
		    const struct field *, xmlNodePtr);
static int	set_fields(struct parser *, struct dest *, void *,
		    const struct field *, xmlNodePtr, int *);
static int	set_children(struct parser *, struct dest *, void *,
		    const struct field *, xmlNodePtr);
static int	parse_extension(struct parser *, struct dest *, xmlNodePtr);
static int	parse_range(struct parser *, xmlNodePtr);
static int	parse_epoch(struct parser *, xmlNodePtr, const char *,
		    int64_t *, char **, int *);
static int	parse_metadata(struct parser *, xmlNodePtr);
static int	parse_policy(struct parser *, xmlNodePtr);
static int	parse_top(struct parser *, xmlNodePtr);
static int	grow(struct parser *, void **, size_t *, size_t, const char *,
		    uint32_t);
static int	parse_reason(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_evaluated(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_ip(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_count(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_row(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_identifiers(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_dkim(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_spf(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_auth(struct parser *, struct report_record *,
		    xmlNodePtr);
static int	parse_record(struct parser *, xmlNodePtr);
static int	check_record(struct parser *, struct report_record *);
static void	set_format(struct parser *);
static int	check_head(struct parser *);
static int	send_head(struct parser *);
static int	flush(struct parser *);
static int	step(struct parser *);
static void	finish(struct parser *, int);
static int	open_reader(struct parser *, const char *, int);
static int	has_dtd(struct parser *);
static void	parser_free(struct parser *);

#define OFF(type, f)	offsetof(struct type, f)

static const struct field metadata_fields[] = {
	{ "org_name", F_TEXT, OFF(report_head, org_name), 0, NULL },
	{ "email", F_TEXT, OFF(report_head, org_email), 0, NULL },
	{ "extra_contact_info", F_LANG, OFF(report_head, extra_contact_info),
	  OFF(report_head, extra_contact_info_lang), NULL },
	{ "report_id", F_TEXT, OFF(report_head, report_id), 0, NULL },
	{ "generator", F_TEXT, OFF(report_head, generator), 0, NULL },
	{ NULL, F_TEXT, 0, 0, NULL }
};

static const struct field policy_fields[] = {
	{ "domain", F_DOMAIN, OFF(report_head, policy_domain), 0, NULL },
	{ "adkim", F_ENUM, OFF(report_head, policy_adkim),
	  OFF(report_head, policy_adkim_raw), report_words_alignment },
	{ "aspf", F_ENUM, OFF(report_head, policy_aspf),
	  OFF(report_head, policy_aspf_raw), report_words_alignment },
	{ "p", F_ENUM, OFF(report_head, policy_p),
	  OFF(report_head, policy_p_raw), report_words_policy },
	{ "sp", F_ENUM, OFF(report_head, policy_sp),
	  OFF(report_head, policy_sp_raw), report_words_policy },
	{ "np", F_ENUM, OFF(report_head, policy_np),
	  OFF(report_head, policy_np_raw), report_words_policy },
	{ "fo", F_TEXT, OFF(report_head, policy_fo), 0, NULL },
	{ "testing", F_ENUM, OFF(report_head, policy_testing),
	  OFF(report_head, policy_testing_raw), report_words_testing },
	{ "discovery_method", F_ENUM, OFF(report_head, discovery_method),
	  OFF(report_head, discovery_method_raw), report_words_discovery },
	{ NULL, F_TEXT, 0, 0, NULL }
};

static const struct field evaluated_fields[] = {
	{ "disposition", F_ENUM, OFF(report_record, disposition),
	  OFF(report_record, disposition_raw), report_words_disposition },
	{ "dkim", F_ENUM, OFF(report_record, dkim_aligned),
	  OFF(report_record, dkim_aligned_raw), report_words_aligned },
	{ "spf", F_ENUM, OFF(report_record, spf_aligned),
	  OFF(report_record, spf_aligned_raw), report_words_aligned },
	{ NULL, F_TEXT, 0, 0, NULL }
};

static const struct field identifier_fields[] = {
	{ "header_from", F_DOMAIN, OFF(report_record, header_from), 0, NULL },
	{ "envelope_from", F_DOMAIN, OFF(report_record, envelope_from), 0,
	  NULL },
	{ "envelope_to", F_DOMAIN, OFF(report_record, envelope_to), 0, NULL },
	{ NULL, F_TEXT, 0, 0, NULL }
};

static const struct field reason_fields[] = {
	{ "type", F_ENUM, OFF(report_reason, type),
	  OFF(report_reason, type_raw), report_words_reason },
	{ "comment", F_LANG, OFF(report_reason, comment),
	  OFF(report_reason, comment_lang), NULL },
	{ NULL, F_TEXT, 0, 0, NULL }
};

static const struct field dkim_fields[] = {
	{ "domain", F_DOMAIN, OFF(report_dkim, domain), 0, NULL },
	{ "selector", F_TEXT, OFF(report_dkim, selector), 0, NULL },
	{ "result", F_ENUM, OFF(report_dkim, result),
	  OFF(report_dkim, result_raw), report_words_dkim_result },
	{ "human_result", F_LANG, OFF(report_dkim, human_result),
	  OFF(report_dkim, human_result_lang), NULL },
	{ NULL, F_TEXT, 0, 0, NULL }
};

static const struct field spf_fields[] = {
	{ "domain", F_DOMAIN, OFF(report_spf, domain), 0, NULL },
	{ "scope", F_ENUM, OFF(report_spf, scope), OFF(report_spf, scope_raw),
	  report_words_spf_scope },
	{ "result", F_ENUM, OFF(report_spf, result),
	  OFF(report_spf, result_raw), report_words_spf_result },
	{ "human_result", F_LANG, OFF(report_spf, human_result),
	  OFF(report_spf, human_result_lang), NULL },
	{ NULL, F_TEXT, 0, 0, NULL }
};

/* Elements that exist only in RFC 9990 (and its drafts). */
static const char *const draft_only[] = {
	"np", "testing", "discovery_method", "generator", NULL
};

static xmlParserInputPtr
refuse_entity(const char *url, const char *id, xmlParserCtxtPtr ctxt)
{
	(void)url;
	(void)id;
	(void)ctxt;
	return (NULL);
}

/* Process-wide libxml2 setup, once, whichever thread parses first. */
static void
init_libxml(void)
{
	xmlInitParser();
	xmlSetExternalEntityLoader(refuse_entity);
}

static void
init_once(void)
{
	static pthread_once_t	once = PTHREAD_ONCE_INIT;

	if (pthread_once(&once, init_libxml) != 0)
		fatalx("%s: pthread_once failed", __func__);
}

/*
 * libxml2 input callback over the caller's pull stream.  In recover mode it
 * reads at most one byte past max_recover, then fails.  Every byte goes
 * through the scanner before libxml2 sees it.
 */
static int
io_read(void *ctx, char *buf, int len)
{
	struct parser	*p = ctx;
	size_t		 want = (size_t)len, room, cap;
	int		 got;

	if (p->read_state == -1)
		return (-1);
	cap = p->lim->max_recover > 0 ? p->lim->max_recover :
	    REPORT_MAX_RECOVER;
	if (p->lim->mode == REPORT_RECOVER) {
		room = cap + 1 - p->nread;
		if (want > room)
			want = room;
	}
	if ((got = io_fill(p, buf, want)) < 0)
		return (-1);
	p->nread += (size_t)got;
	if (p->lim->mode == REPORT_RECOVER && p->nread > cap) {
		p->read_state = -1;
		xasprintf(&p->read_cause, "too large to recover (over %zu "
		    "bytes, max_recover)", cap);
		return (-1);
	}
	if (scan_feed(p, (unsigned char *)buf, (size_t)got) != 0)
		return (-1);
	return (got);
}

/*
 * Fill the buffer as far as the stream allows: libxml2 2.9's pull parser
 * takes a short read for a lack of data and misparses the declaration.
 */
static int
io_fill(struct parser *p, char *buf, size_t len)
{
	char	*cause = NULL;
	size_t	 got = 0;
	ssize_t	 n;

	while (p->read_state == 0 && got < len) {
		n = p->read_fn(p->stream, buf + got, len - got, &cause);
		if (n < 0 || (size_t)n > len - got) {
			p->read_state = -1;
			p->read_cause = cause != NULL ? cause :
			    xstrdup("read error");
			return (-1);
		}
		free(cause);
		cause = NULL;
		if (n == 0)
			p->read_state = 1;
		got += (size_t)n;
	}
	return ((int)got);
}

/* The innermost open element's name, or NULL outside the root. */
static const char *
scan_open(struct scan *s)
{
	if (s->depth == 0)
		return (NULL);
	if (s->depth > SCAN_DEPTH)
		return ("(deeply nested element)");
	return (s->names[s->depth - 1]);
}

static void
scan_push(struct scan *s)
{
	if (s->depth < SCAN_DEPTH)
		memcpy(s->names[s->depth], s->name, sizeof s->name);
	s->depth++;
}

/* Stop reading: what (inside the open element) is over max_text. */
static int
scan_over(struct parser *p, const char *what, size_t max)
{
	const char	*name;

	name = p->scan.state == S_NAME || p->scan.state == S_TAG ||
	    p->scan.state == S_QUOTE ? p->scan.name : scan_open(&p->scan);
	p->read_state = -1;
	if (name != NULL)
		xasprintf(&p->read_cause, "%s <%s> longer than %zu bytes "
		    "(max_text)", what, name, max);
	else
		xasprintf(&p->read_cause, "%s outside any element longer "
		    "than %zu bytes (max_text)", what, max);
	return (-1);
}

/* Whether c ends a tag name. */
static int
name_end(unsigned c)
{
	return (c == '>' || c == '/' || c == ' ' || c == '\t' || c == '\n' ||
	    c == '\r');
}

/* One input unit (a byte, or a UTF-16 code unit). */
static int
scan_unit(struct parser *p, unsigned c)
{
	static const char	 cdata[] = "[CDATA[";
	struct scan		*s = &p->scan;
	size_t			 max = p->max_text;

	switch (s->state) {
	case S_TEXT:
		if (c == '<')
			s->state = S_LT;
		else if (++s->text > max)
			return (scan_over(p, "text of", max));
		break;
	case S_LT:
		s->tag = 2;
		s->namelen = 0;
		s->name[0] = '\0';
		s->end_tag = 0;
		if (c == '/') {
			s->end_tag = 1;
			s->state = S_NAME;
		} else if (c == '!') {
			s->bang = 0;
			s->state = S_BANG;
		} else if (c == '?') {
			s->run = 0;
			s->state = S_PI;
		} else {
			s->state = S_NAME;
			return (scan_unit(p, c));
		}
		break;
	case S_NAME:
		if (!name_end(c)) {
			if (++s->tag > max)
				return (scan_over(p, "tag", max));
			if (s->namelen < SCAN_NAME - 1) {
				s->name[s->namelen++] = c > 0x20 && c < 0x7f ?
				    (char)c : '?';
				s->name[s->namelen] = '\0';
			}
			break;
		}
		s->state = S_TAG;
		/* FALLTHROUGH */
	case S_TAG:
		if (++s->tag > max)
			return (scan_over(p, "tag", max));
		if (c == '"' || c == '\'') {
			s->quote = (int)c;
			s->run = 0;
			s->state = S_QUOTE;
		} else if (c == '>') {
			if (s->end_tag) {
				if (s->depth > 0)
					s->depth--;
			} else if (s->prev != '/')
				scan_push(s);
			s->text = 0;
			s->state = S_TEXT;
		}
		break;
	case S_QUOTE:
		if (c == (unsigned)s->quote)
			s->state = S_TAG;
		else if (++s->run > max)
			return (scan_over(p, "attribute value in", max));
		break;
	case S_BANG:
		if (s->bang < sizeof cdata - 1 && c == (unsigned)cdata[s->bang]) {
			if (++s->bang == sizeof cdata - 1) {
				s->state = S_CDATA;
				s->prev = s->prev2 = 0;
				return (0);
			}
		} else if (s->bang == 0 && c == '-')
			s->bang = 100;
		else if (s->bang == 100 && c == '-') {
			s->run = 0;
			s->state = S_COMMENT;
			s->prev = s->prev2 = 0;
			return (0);
		} else {
			s->run = s->bang;
			s->state = S_DECL;
		}
		break;
	case S_COMMENT:
		if (c == '>' && s->prev == '-' && s->prev2 == '-')
			s->state = S_TEXT;
		else if (++s->run > max)
			return (scan_over(p, "comment in", max));
		break;
	case S_CDATA:
		if (c == '>' && s->prev == ']' && s->prev2 == ']')
			s->state = S_TEXT;
		else if (++s->text > max)
			return (scan_over(p, "text of", max));
		break;
	case S_PI:
		if (c == '>' && s->prev == '?')
			s->state = S_TEXT;
		else if (++s->run > max)
			return (scan_over(p, "processing instruction in", max));
		break;
	case S_DECL:
		if (c == '>')
			s->state = S_TEXT;
		else if (++s->run > max)
			return (scan_over(p, "declaration in", max));
		break;
	}
	s->prev2 = s->prev;
	s->prev = c;
	return (0);
}

/*
 * Scan a piece of input.  UTF-16 (by BOM or a leading "<" with a NUL) is
 * scanned by code units; anything else by bytes, text runs with memchr.
 */
static int
scan_feed(struct parser *p, const unsigned char *b, size_t n)
{
	struct scan		*s = &p->scan;
	const unsigned char	*lt;
	size_t			 i = 0, k;
	unsigned		 u;

	if (s->enc == -1 && n > 0) {
		s->enc = 0;
		if (n >= 2 && p->lim->mode != REPORT_WIN1252) {
			if ((b[0] == 0xff && b[1] == 0xfe) ||
			    (b[0] == '<' && b[1] == 0))
				s->enc = 1;
			else if ((b[0] == 0xfe && b[1] == 0xff) ||
			    (b[0] == 0 && b[1] == '<'))
				s->enc = 2;
		}
	}
	if (s->enc > 0) {
		for (; i < n; i++) {
			if (!s->have_half) {
				s->half = b[i];
				s->have_half = 1;
				continue;
			}
			s->have_half = 0;
			u = s->enc == 1 ? (unsigned)s->half | b[i] << 8 :
			    (unsigned)s->half << 8 | b[i];
			if (scan_unit(p, u) != 0)
				return (-1);
		}
		return (0);
	}
	while (i < n) {
		if (s->state == S_NAME) {
			for (k = i; i < n && !name_end(b[i]); i++) {
				if (s->namelen < SCAN_NAME - 1)
					s->name[s->namelen++] = b[i] > 0x20 &&
					    b[i] < 0x7f ? (char)b[i] : '?';
			}
			s->name[s->namelen] = '\0';
			s->tag += i - k;
			if (s->tag > p->max_text)
				return (scan_over(p, "tag", p->max_text));
			if (i > k)
				s->prev = b[i - 1];
			if (i < n && scan_unit(p, b[i++]) != 0)
				return (-1);
			continue;
		}
		if (s->state != S_TEXT) {
			if (scan_unit(p, b[i++]) != 0)
				return (-1);
			continue;
		}
		lt = memchr(b + i, '<', n - i);
		k = lt != NULL ? (size_t)(lt - (b + i)) : n - i;
		s->text += k;
		if (s->text > p->max_text)
			return (scan_over(p, "text of", p->max_text));
		i += k;
		if (lt != NULL && scan_unit(p, b[i++]) != 0)
			return (-1);
	}
	return (0);
}

/* Structured libxml2 error: the first error, or a warning on the head. */
static void
on_error(void *ctx, xmlErrorPtr e)
{
	struct parser	*p = ctx;
	char		*msg, *s;

	if (e == NULL)
		return;
	msg = report_trim(e->message != NULL ? e->message : "unknown error");
	for (s = msg; *s != '\0'; s++) {
		if (*s == '\n' || *s == '\r' || *s == '\t')
			*s = ' ';
	}
	if (e->level == XML_ERR_WARNING || e->domain == XML_FROM_NAMESPACE)
		report_warn(&p->head.warnings, &p->head.nwarnings,
		    "xml: line %d: %s", e->line, msg);
	else {
		if (p->lim->mode == REPORT_RECOVER)
			report_warn(&p->head.warnings, &p->head.nwarnings,
			    "recovered: line %d: %s", e->line, msg);
		if (p->xml_error == NULL)
			xasprintf(&p->xml_error, "line %d: %s", e->line, msg);
		p->nxml_errors++;
	}
	free(msg);
}

/* Unstructured libxml2 messages are dropped: never write to stderr. */
static void
on_generic(void *ctx, const char *fmt, ...)
{
	(void)ctx;
	(void)fmt;
}

/* Record the outcome; the first one wins. */
static void
fail(struct parser *p, enum report_status status, int retry,
    const char *fmt, ...)
{
	va_list	ap;

	if (p->done)
		return;
	p->done = 1;
	p->status = status;
	p->retry = retry;
	if (fmt != NULL) {
		va_start(ap, fmt);
		xvasprintf(&p->cause, fmt, ap);
		va_end(ap);
	}
}

static int
is_name(xmlNodePtr n, const char *name)
{
	return (n->type == XML_ELEMENT_NODE &&
	    strcasecmp((const char *)n->name, name) == 0);
}

/*
 * The text content of an element (its text and CDATA descendants),
 * untrimmed; "" when empty.  NULL (and the outcome decided) when it is
 * longer than max_text.
 */
static char *
node_text(struct parser *p, xmlNodePtr n)
{
	xmlNodePtr	 c;
	size_t		 len = 0, off = 0, l;
	char		*s;

	c = n->children;
	if (c == NULL)
		return (xstrdup(""));
	if (c->next == NULL && c->type == XML_TEXT_NODE && c->content != NULL) {
		len = strlen((const char *)c->content);
		if (len > p->max_text)
			goto over;
		return (xstrndup((const char *)c->content, len));
	}
	for (; c != NULL; c = tree_next(n, c)) {
		if (is_text(c))
			len += strlen((const char *)c->content);
		if (len > p->max_text)
			goto over;
	}
	s = xmalloc(len + 1);
	for (c = n->children; c != NULL; c = tree_next(n, c)) {
		if (!is_text(c))
			continue;
		l = strlen((const char *)c->content);
		memcpy(s + off, c->content, l);
		off += l;
	}
	s[off] = '\0';
	return (s);
over:
	fail(p, REPORT_INVALID, 0, "text of <%s> longer than %zu bytes "
	    "(max_text)", (const char *)n->name, p->max_text);
	return (NULL);
}

/*
 * The text of an element without a copy when it is one text node (*tmp
 * NULL), else node_text's copy in *tmp.  NULL when over max_text.
 */
static const char *
node_peek(struct parser *p, xmlNodePtr n, char **tmp)
{
	xmlNodePtr	c = n->children;

	*tmp = NULL;
	if (c == NULL)
		return ("");
	if (c->next == NULL && c->type == XML_TEXT_NODE &&
	    c->content != NULL &&
	    strnlen((const char *)c->content, p->max_text + 1) <= p->max_text)
		return ((const char *)c->content);
	return (*tmp = node_text(p, n));
}

static int
is_text(xmlNodePtr c)
{
	return ((c->type == XML_TEXT_NODE ||
	    c->type == XML_CDATA_SECTION_NODE) && c->content != NULL);
}

/* The node after c in document order, below top (elements only). */
static xmlNodePtr
tree_next(xmlNodePtr top, xmlNodePtr c)
{
	if (c->type == XML_ELEMENT_NODE && c->children != NULL)
		return (c->children);
	while (c->next == NULL) {
		c = c->parent;
		if (c == NULL || c == top)
			return (NULL);
	}
	return (c->next);
}

/* The lang attribute (unqualified, else xml:lang), trimmed, or NULL. */
static char *
node_lang(xmlNodePtr n)
{
	xmlChar	*c;
	char	*s;

	if ((c = xmlGetNoNsProp(n, (const xmlChar *)"lang")) == NULL &&
	    (c = xmlGetNsProp(n, (const xmlChar *)"lang",
	    XML_XML_NAMESPACE)) == NULL)
		return (NULL);
	s = report_trim((const char *)c);
	xmlFree(c);
	return (s);
}

/* Where node_xml serialises to: a buffer capped at max_text. */
struct dump {
	struct buf	b;
	int		over;
};

/*
 * Serialise an element, declaring the namespaces it uses from above.  NULL
 * (and the outcome decided) when the XML text is longer than max_text.
 */
static char *
node_xml(struct parser *p, xmlNodePtr n)
{
	xmlOutputBufferPtr	 out;
	xmlNodePtr		 copy;
	struct dump		 d;

	if ((copy = xmlDocCopyNode(n, n->doc, 1)) == NULL)
		fatalx("xmlDocCopyNode: out of memory");
	buf_init(&d.b, p->max_text);
	d.over = 0;
	if ((out = xmlOutputBufferCreateIO(dump_write, dump_close, &d,
	    NULL)) == NULL)
		fatalx("xmlOutputBufferCreateIO: out of memory");
	xmlNodeDumpOutput(out, n->doc, copy, 0, 0, NULL);
	xmlOutputBufferClose(out);
	xmlFreeNode(copy);
	if (d.over) {
		buf_free(&d.b);
		fail(p, REPORT_INVALID, 0, "element <%s> kept as extension is "
		    "longer than %zu bytes as XML (max_text)",
		    (const char *)n->name, p->max_text);
		return (NULL);
	}
	return (buf_steal(&d.b, NULL));
}

static int
dump_write(void *ctx, const char *data, int len)
{
	struct dump	*d = ctx;

	if (d->over || buf_add(&d->b, data, (size_t)len) != 0) {
		d->over = 1;
		return (-1);
	}
	return (len);
}

static int
dump_close(void *ctx)
{
	(void)ctx;
	return (0);
}

static struct dest
dest_head(struct parser *p)
{
	struct dest	d;

	d.ext = &p->head.ext;
	d.next = &p->head.next;
	d.warn = &p->head.warnings;
	d.nwarn = &p->head.nwarnings;
	return (d);
}

static struct dest
dest_record(struct report_record *r)
{
	struct dest	d;

	d.ext = &r->ext;
	d.next = &r->next;
	d.warn = &r->warnings;
	d.nwarn = &r->nwarnings;
	return (d);
}

/*
 * Keep an element as XML in the ext list; why says what to warn about (0
 * nothing, 1 unknown, 2 duplicate).
 */
static int
add_ext(struct parser *p, struct dest *d, xmlNodePtr n, int why)
{
	struct report_ext	*e;
	char			*xml;

	if (*d->next >= p->lim->max_results) {
		fail(p, REPORT_INVALID, 0, "more than %" PRIu32 " extension "
		    "or unknown elements in one place (max_results)",
		    p->lim->max_results);
		return (-1);
	}
	if ((xml = node_xml(p, n)) == NULL)
		return (-1);
	*d->ext = xreallocarray(*d->ext, *d->next + 1, sizeof **d->ext);
	e = &(*d->ext)[(*d->next)++];
	e->ns_uri = n->ns != NULL && n->ns->href != NULL ?
	    xstrdup((const char *)n->ns->href) : NULL;
	e->local_name = xstrdup((const char *)n->name);
	e->xml = xml;
	if (why == 1)
		report_warn(d->warn, d->nwarn, "unknown element <%s> kept "
		    "as extension", e->local_name);
	else if (why == 2)
		report_warn(d->warn, d->nwarn, "repeated element <%s> kept "
		    "as extension", e->local_name);
	return (0);
}

/* Copy one leaf element into its field; a repeat goes to ext. */
static int
set_field(struct parser *p, struct dest *d, void *base,
    const struct field *f, xmlNodePtr n)
{
	char		**fp, **fp2, *tmp;
	const char	 *text;

	fp = (char **)(void *)((char *)base + f->off);
	fp2 = f->kind == F_ENUM || f->kind == F_LANG ?
	    (char **)(void *)((char *)base + f->off2) : NULL;
	if (*fp != NULL || (f->kind == F_ENUM && *fp2 != NULL))
		return (add_ext(p, d, n, 2));
	if ((text = node_peek(p, n, &tmp)) == NULL)
		return (-1);
	switch (f->kind) {
	case F_TEXT:
		*fp = report_trim(text);
		break;
	case F_DOMAIN:
		*fp = report_domain(text);
		break;
	case F_ENUM:
		report_enum(text, f->words, fp, fp2);
		break;
	case F_LANG:
		*fp = report_trim(text);
		*fp2 = node_lang(n);
		break;
	}
	free(tmp);
	return (0);
}

/*
 * Handle an element that is in the field table; *found is set to 0 when it
 * is not.
 */
static int
set_fields(struct parser *p, struct dest *d, void *base,
    const struct field *tab, xmlNodePtr n, int *found)
{
	size_t	i;

	*found = 0;
	for (i = 0; tab[i].name != NULL; i++) {
		if (is_name(n, tab[i].name)) {
			*found = 1;
			return (set_field(p, d, base, &tab[i], n));
		}
	}
	return (0);
}

/*
 * Every element child of n into base by the field table; children the
 * table does not know are kept as extensions.
 */
static int
set_children(struct parser *p, struct dest *d, void *base,
    const struct field *tab, xmlNodePtr n)
{
	xmlNodePtr	c;
	int		rc = 0, found;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((rc = set_fields(p, d, base, tab, c, &found)) == 0 &&
		    !found)
			rc = add_ext(p, d, c, 1);
	}
	return (rc);
}


/* An <extension>: each child element is kept, or the whole element. */
static int
parse_extension(struct parser *p, struct dest *d, xmlNodePtr n)
{
	xmlNodePtr	c;
	int		any = 0;

	for (c = n->children; c != NULL; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		any = 1;
		if (add_ext(p, d, c, 0) != 0)
			return (-1);
	}
	if (!any)
		return (add_ext(p, d, n, 0));
	return (0);
}

/* One epoch (begin or end); a repeat goes to ext. */
static int
parse_epoch(struct parser *p, xmlNodePtr n, const char *what, int64_t *v,
    char **raw, int *seen)
{
	struct dest	 d = dest_head(p);
	char		*text, *t, canon[32];
	int		 rc;

	if (*seen)
		return (add_ext(p, &d, n, 2));
	*seen = 1;
	if ((text = node_text(p, n)) == NULL)
		return (-1);
	if ((rc = report_epoch(text, v)) < 0) {
		fail(p, REPORT_INVALID, 0, "report_metadata/date_range/%s is "
		    "not a number: \"%s\"", what, text);
		free(text);
		return (-1);
	}
	snprintf(canon, sizeof canon, "%" PRId64, *v);
	t = report_trim(text);
	if (rc == 1 || strcmp(t, canon) != 0)
		*raw = text;
	else
		free(text);
	free(t);
	return (0);
}

static int
parse_range(struct parser *p, xmlNodePtr n)
{
	struct dest	d = dest_head(p);
	xmlNodePtr	c;
	int		rc = 0;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_name(c, "begin"))
			rc = parse_epoch(p, c, "begin", &p->head.date_begin,
			    &p->head.begin_raw, &p->seen_begin);
		else if (is_name(c, "end"))
			rc = parse_epoch(p, c, "end", &p->head.date_end,
			    &p->head.end_raw, &p->seen_end);
		else
			rc = add_ext(p, &d, c, 1);
	}
	return (rc);
}

static int
parse_metadata(struct parser *p, xmlNodePtr n)
{
	struct dest		 d = dest_head(p);
	struct report_text	*t;
	xmlNodePtr		 c;
	char			*text;
	int			 rc = 0, found;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_name(c, "generator"))
			p->draft_fields = 1;
		if ((rc = set_fields(p, &d, &p->head, metadata_fields, c,
		    &found)) != 0 || found)
			continue;
		if (is_name(c, "date_range"))
			rc = parse_range(p, c);
		else if (is_name(c, "error")) {
			if (grow(p, (void **)&p->head.errors, &p->head.nerrors,
			    sizeof *p->head.errors, "error", 0) != 0)
				return (-1);
			if ((text = node_text(p, c)) == NULL)
				return (-1);
			t = &p->head.errors[p->head.nerrors - 1];
			t->text = report_trim(text);
			t->lang = node_lang(c);
			free(text);
		} else
			rc = add_ext(p, &d, c, 1);
	}
	return (rc);
}

static int
parse_policy(struct parser *p, xmlNodePtr n)
{
	struct dest	 d = dest_head(p);
	xmlNodePtr	 c;
	size_t		 i;
	char		*text;
	int		 rc = 0, found;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		for (i = 0; draft_only[i] != NULL; i++) {
			if (is_name(c, draft_only[i]))
				p->draft_fields = 1;
		}
		if ((rc = set_fields(p, &d, &p->head, policy_fields, c,
		    &found)) != 0 || found)
			continue;
		if (!is_name(c, "pct")) {
			rc = add_ext(p, &d, c, 1);
			continue;
		}
		if (p->head.policy_pct != -1 ||
		    p->head.policy_pct_raw != NULL) {
			rc = add_ext(p, &d, c, 2);
			continue;
		}
		if ((text = node_text(p, c)) == NULL)
			return (-1);
		p->head.policy_pct = report_pct(text);
		if (p->head.policy_pct == -1)
			p->head.policy_pct_raw = text;
		else
			free(text);
	}
	return (rc);
}

/* A child of feedback other than a record. */
static int
parse_top(struct parser *p, xmlNodePtr n)
{
	struct dest	 d = dest_head(p);
	char		*text;

	if (is_name(n, "report_metadata")) {
		if (p->seen_metadata)
			return (add_ext(p, &d, n, 2));
		p->seen_metadata = 1;
		return (parse_metadata(p, n));
	}
	if (is_name(n, "policy_published")) {
		p->head.policy_published_count++;
		if (p->seen_policy)
			return (add_ext(p, &d, n, 2));
		p->seen_policy = 1;
		return (parse_policy(p, n));
	}
	if (is_name(n, "version")) {
		if (p->head.xml_version != NULL)
			return (add_ext(p, &d, n, 2));
		if ((text = node_text(p, n)) == NULL)
			return (-1);
		p->head.xml_version = report_trim(text);
		free(text);
		return (0);
	}
	if (is_name(n, "extension"))
		return (parse_extension(p, &d, n));
	return (add_ext(p, &d, n, 1));
}

/* Grow an array by one zeroed element, within max_results. */
static int
grow(struct parser *p, void **v, size_t *n, size_t size, const char *what,
    uint32_t ord)
{
	if (*n >= p->lim->max_results) {
		if (ord != 0)
			fail(p, REPORT_INVALID, 0, "record %" PRIu32 ": more "
			    "than %" PRIu32 " %s elements (max_results)", ord,
			    p->lim->max_results, what);
		else
			fail(p, REPORT_INVALID, 0, "more than %" PRIu32
			    " %s elements (max_results)", p->lim->max_results,
			    what);
		return (-1);
	}
	*v = xreallocarray(*v, *n + 1, size);
	memset((char *)*v + *n * size, 0, size);
	(*n)++;
	return (0);
}

static int
parse_reason(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest		 d = dest_record(r);
	struct report_reason	*x;

	if (grow(p, (void **)&r->reasons, &r->nreasons, sizeof *r->reasons,
	    "reason", r->ord) != 0)
		return (-1);
	x = &r->reasons[r->nreasons - 1];
	return (set_children(p, &d, x, reason_fields, n));
}

static int
parse_evaluated(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest	d = dest_record(r);
	xmlNodePtr	c;
	int		rc = 0, found;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if ((rc = set_fields(p, &d, r, evaluated_fields, c,
		    &found)) != 0 || found)
			continue;
		if (is_name(c, "reason"))
			rc = parse_reason(p, r, c);
		else
			rc = add_ext(p, &d, c, 1);
	}
	return (rc);
}

/* row/source_ip: canonical text, the original when it differs. */
static int
parse_ip(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	const char	*text;
	char		*tmp;

	if ((text = node_peek(p, n, &tmp)) == NULL)
		return (-1);
	r->source_ip = report_ip(text);
	if (r->source_ip == NULL)
		report_warn(&r->warnings, &r->nwarnings,
		    "row/source_ip is not an IP address");
	if (r->source_ip == NULL || strcmp(r->source_ip, text) != 0)
		r->source_ip_raw = tmp != NULL ? tmp : xstrdup(text);
	else
		free(tmp);
	return (0);
}

/*
 * row/count: a plain non-negative integer, else the record is skipped.
 * count_raw keeps the text unless, trimmed, it is the canonical form
 * (digits without a leading zero).
 */
static int
parse_count(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	const char	*text, *t, *c;
	char		*tmp;

	p->rec_have_count = 1;
	if ((text = node_peek(p, n, &tmp)) == NULL)
		return (-1);
	if (report_count(text, &r->message_count) != 0) {
		r->message_count = 0;
		p->rec_bad_count = 1;
	}
	for (t = text; *t == ' ' || (*t >= '\t' && *t <= '\r'); t++)
		;
	for (c = t; *c >= '0' && *c <= '9'; c++)
		;
	if (c > t + 1 && t[0] == '0')
		c = t;
	while (*c == ' ' || (*c >= '\t' && *c <= '\r'))
		c++;
	if (p->rec_bad_count || *c != '\0' || c == t)
		r->count_raw = tmp != NULL ? tmp : xstrdup(text);
	else
		free(tmp);
	return (0);
}

static int
parse_row(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest	d = dest_record(r);
	xmlNodePtr	c;
	int		rc = 0;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_name(c, "source_ip")) {
			if (r->source_ip != NULL || r->source_ip_raw != NULL)
				rc = add_ext(p, &d, c, 2);
			else
				rc = parse_ip(p, r, c);
		} else if (is_name(c, "count")) {
			if (p->rec_have_count)
				rc = add_ext(p, &d, c, 2);
			else
				rc = parse_count(p, r, c);
		} else if (is_name(c, "policy_evaluated"))
			rc = parse_evaluated(p, r, c);
		else
			rc = add_ext(p, &d, c, 1);
	}
	return (rc);
}

static int
parse_identifiers(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest	d = dest_record(r);

	if (strcmp(r->identifiers_tag, "missing") == 0)
		r->identifiers_tag = is_name(n, "identities") ?
		    "identities" : "identifiers";
	return (set_children(p, &d, r, identifier_fields, n));
}

static int
parse_dkim(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest		 d = dest_record(r);
	struct report_dkim	*x;

	if (grow(p, (void **)&r->dkim, &r->ndkim, sizeof *r->dkim, "dkim",
	    r->ord) != 0)
		return (-1);
	x = &r->dkim[r->ndkim - 1];
	return (set_children(p, &d, x, dkim_fields, n));
}

static int
parse_spf(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest		 d = dest_record(r);
	struct report_spf	*x;

	if (grow(p, (void **)&r->spf, &r->nspf, sizeof *r->spf, "spf",
	    r->ord) != 0)
		return (-1);
	x = &r->spf[r->nspf - 1];
	return (set_children(p, &d, x, spf_fields, n));
}

static int
parse_auth(struct parser *p, struct report_record *r, xmlNodePtr n)
{
	struct dest	d = dest_record(r);
	xmlNodePtr	c;
	int		rc = 0;

	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_name(c, "dkim"))
			rc = parse_dkim(p, r, c);
		else if (is_name(c, "spf"))
			rc = parse_spf(p, r, c);
		else
			rc = add_ext(p, &d, c, 1);
	}
	return (rc);
}

/* One <record>: into the batch, or skipped with a warning. */
static int
parse_record(struct parser *p, xmlNodePtr n)
{
	struct report_record	*r;
	struct dest		 d;
	xmlNodePtr		 c;
	int			 rc = 0;

	if (p->nrecord >= p->lim->max_records) {
		fail(p, REPORT_INVALID, 0, "more than %" PRIu32 " records "
		    "(max_records)", p->lim->max_records);
		return (-1);
	}
	r = &p->batch[p->nbatch];
	memset(r, 0, sizeof *r);
	r->ord = ++p->nrecord;
	r->identifiers_tag = "missing";
	p->rec_have_count = p->rec_bad_count = 0;
	d = dest_record(r);
	for (c = n->children; c != NULL && rc == 0; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_name(c, "row"))
			rc = parse_row(p, r, c);
		else if (is_name(c, "identifiers") || is_name(c, "identities"))
			rc = parse_identifiers(p, r, c);
		else if (is_name(c, "auth_results"))
			rc = parse_auth(p, r, c);
		else if (is_name(c, "extension"))
			rc = parse_extension(p, &d, c);
		else
			rc = add_ext(p, &d, c, 1);
	}
	if (rc != 0 || check_record(p, r) != 0) {
		report_record_free(r);
		return (rc);
	}
	if (++p->nbatch == p->batch_size)
		return (flush(p));
	return (0);
}

/* Returns 1 when the record must be skipped (it has been warned about). */
static int
check_record(struct parser *p, struct report_record *r)
{
	if (!p->rec_have_count || p->rec_bad_count) {
		if (p->rec_have_count)
			report_warn(&p->head.warnings, &p->head.nwarnings,
			    "record %" PRIu32 ": row/count \"%s\" is not a "
			    "non-negative integer; record skipped", r->ord,
			    r->count_raw);
		else
			report_warn(&p->head.warnings, &p->head.nwarnings,
			    "record %" PRIu32 ": no row/count; record skipped",
			    r->ord);
		p->head.records_skipped++;
		return (1);
	}
	if (r->source_ip == NULL && r->source_ip_raw == NULL)
		report_warn(&r->warnings, &r->nwarnings,
		    "no row/source_ip");
	if (strcmp(r->identifiers_tag, "missing") == 0)
		report_warn(&r->warnings, &r->nwarnings, "no identifiers");
	return (0);
}

static void
set_format(struct parser *p)
{
	const char	*ns = p->head.xml_namespace;

	if (ns != NULL && strcmp(ns, NS_DMARC2) == 0)
		p->head.format = REPORT_FMT_RFC9990;
	else if (p->draft_fields)
		p->head.format = REPORT_FMT_DRAFT;
	else if (ns == NULL || strcmp(ns, NS_DMARC01) == 0)
		p->head.format = REPORT_FMT_RFC7489;
	else
		p->head.format = REPORT_FMT_UNKNOWN;
}

/* Check that the header is complete; normalise what depends on it. */
static int
check_head(struct parser *p)
{
	struct report_head	*h = &p->head;
	const char		*miss = NULL;

	if (!p->seen_metadata)
		miss = "missing report_metadata";
	else if (h->report_id == NULL || *h->report_id == '\0')
		miss = "missing report_metadata/report_id";
	else if (!p->seen_begin && !p->seen_end)
		miss = "missing report_metadata/date_range";
	else if (!p->seen_begin)
		miss = "missing report_metadata/date_range/begin";
	else if (!p->seen_end)
		miss = "missing report_metadata/date_range/end";
	else if (!p->seen_policy)
		miss = "missing policy_published";
	else if (h->policy_domain == NULL || *h->policy_domain == '\0')
		miss = "missing policy_published/domain";
	if (miss != NULL) {
		fail(p, REPORT_INVALID, 0, "%s", miss);
		return (-1);
	}
	if (h->date_end < h->date_begin) {
		report_warn(&h->warnings, &h->nwarnings, "date_range end %"
		    PRId64 " is before begin %" PRId64 "; end set to begin",
		    h->date_end, h->date_begin);
		if (h->end_raw == NULL)
			xasprintf(&h->end_raw, "%" PRId64, h->date_end);
		h->date_end = h->date_begin;
	}
	free(h->reporter_key);
	h->reporter_key = report_reporter_key(h->org_name, h->org_email);
	set_format(p);
	return (0);
}

static int
send_head(struct parser *p)
{
	char	*cause = NULL;
	int	 rc;

	if (check_head(p) != 0)
		return (-1);
	p->head_sent = 1;
	rc = p->cb->head(&p->head, p->arg, &cause);
	if (rc == 1) {
		free(cause);
		fail(p, REPORT_DUPLICATE, 0, NULL);
		return (-1);
	}
	if (rc != 0) {
		fail(p, REPORT_ABORTED, 0, "%s", cause != NULL ? cause :
		    "head callback failed");
		free(cause);
		return (-1);
	}
	return (0);
}

/* Hand the batch out (the header first, once). */
static int
flush(struct parser *p)
{
	char	*cause = NULL;
	size_t	 i;
	int	 rc;

	if (!p->head_sent) {
		if (p->nbatch == p->batch_size &&
		    (!p->seen_metadata || !p->seen_policy)) {
			fail(p, REPORT_INVALID, 0, "report_metadata or "
			    "policy_published not found before record %zu",
			    p->batch_size + 1);
			return (-1);
		}
		if (send_head(p) != 0)
			return (-1);
	}
	if (p->nbatch == 0)
		return (0);
	for (i = 0; i < p->nbatch; i++) {
		if (p->head.message_total > INT64_MAX -
		    p->batch[i].message_count) {
			fail(p, REPORT_INVALID, 0, "message total overflows");
			return (-1);
		}
		p->head.message_total += p->batch[i].message_count;
	}
	p->head.record_count += (uint32_t)p->nbatch;
	rc = p->cb->records(p->batch, p->nbatch, p->arg, &cause);
	for (i = 0; i < p->nbatch; i++)
		report_record_free(&p->batch[i]);
	p->nbatch = 0;
	if (rc == 1) {
		free(cause);
		fail(p, REPORT_DUPLICATE, 0, NULL);
		return (-1);
	}
	if (rc != 0) {
		fail(p, REPORT_ABORTED, 0, "%s", cause != NULL ? cause :
		    "records callback failed");
		free(cause);
		return (-1);
	}
	return (0);
}

/*
 * Handle the reader's current node and move on.  Returns what the reader
 * returned (1 more, 0 end, -1 error) or -2 when the outcome is decided.
 */
static int
step(struct parser *p)
{
	xmlTextReaderPtr	 r = p->reader;
	xmlNodePtr		 n;
	const xmlChar		*ns;
	int			 type, depth;

	type = xmlTextReaderNodeType(r);
	if (type == XML_READER_TYPE_DOCUMENT_TYPE) {
		fail(p, REPORT_INVALID, 0, "document has a DTD (refused)");
		return (-2);
	}
	depth = xmlTextReaderDepth(r);
	if (p->in_feedback == 1 && depth <= p->feedback_depth) {
		p->in_feedback = 2;
		return (xmlTextReaderRead(r));
	}
	if (type != XML_READER_TYPE_ELEMENT || p->in_feedback == 2)
		return (xmlTextReaderRead(r));
	if (p->in_feedback == 0) {
		if (p->root_name == NULL)
			p->root_name = xstrdup((const char *)
			    xmlTextReaderConstName(r));
		if (strcasecmp((const char *)xmlTextReaderConstLocalName(r),
		    "feedback") != 0)
			return (xmlTextReaderRead(r));
		p->in_feedback = xmlTextReaderIsEmptyElement(r) ? 2 : 1;
		p->feedback_depth = depth;
		if ((ns = xmlTextReaderConstNamespaceUri(r)) != NULL)
			p->head.xml_namespace = xstrdup((const char *)ns);
		return (xmlTextReaderRead(r));
	}
	if ((n = xmlTextReaderExpand(r)) == NULL)
		return (-1);
	if (is_name(n, "record")) {
		if (parse_record(p, n) != 0)
			return (-2);
	} else if (parse_top(p, n) != 0)
		return (-2);
	return (xmlTextReaderNext(r));
}

/* Decide the outcome once the reader stopped with rc. */
static void
finish(struct parser *p, int rc)
{
	char	*cause = NULL;
	int	 again;

	again = p->lim->mode != REPORT_RECOVER;
	if (p->done)
		return;
	if (p->read_cause != NULL) {
		fail(p, REPORT_INVALID, 0, "%s", p->read_cause);
		return;
	}
	if (has_dtd(p)) {
		fail(p, REPORT_INVALID, 0, "document has a DTD (refused)");
		return;
	}
	if (p->nread == 0) {
		fail(p, REPORT_INVALID, 0, "empty document");
		return;
	}
	if (p->xml_error != NULL && (rc != 0 || again)) {
		fail(p, REPORT_INVALID, again, "XML not well-formed at %s",
		    p->xml_error);
		return;
	}
	if (rc != 0) {
		fail(p, REPORT_INVALID, again, "XML parse error");
		return;
	}
	if (p->in_feedback == 0 && p->xml_error != NULL) {
		/* Even recovery found no document: malformed, not foreign. */
		fail(p, REPORT_INVALID, 0, "XML not well-formed at %s",
		    p->xml_error);
		return;
	}
	if (p->in_feedback == 0) {
		fail(p, REPORT_NOT_DMARC, 0, "not a DMARC aggregate report: "
		    "root element <%s>", p->root_name != NULL ?
		    p->root_name : "(none)");
		return;
	}
	if (!p->seen_metadata && !p->seen_policy && p->nrecord == 0) {
		fail(p, REPORT_NOT_DMARC, 0, "not a DMARC aggregate report: "
		    "<feedback> without report_metadata, policy_published "
		    "or record");
		return;
	}
	if (flush(p) != 0)
		return;
	rc = p->cb->end(&p->head, p->arg, &cause);
	if (rc == 1) {
		free(cause);
		fail(p, REPORT_DUPLICATE, 0, NULL);
		return;
	}
	if (rc == -1) {
		fail(p, REPORT_ABORTED, 0, "%s", cause != NULL ? cause :
		    "end callback failed");
		free(cause);
		return;
	}
	free(cause);
	fail(p, REPORT_OK, 0, NULL);
}

/*
 * Open the reader.  Strict and windows-1252 modes stream from the input;
 * recover mode cannot (the 2.9 reader stops at the first error even with
 * XML_PARSE_RECOVER), so it builds the tree of the whole (already capped)
 * input and walks it with the same reader interface.
 */
static int
open_reader(struct parser *p, const char *encoding, int options)
{
	xmlParserCtxtPtr	ctxt;

	if (!(options & XML_PARSE_RECOVER)) {
		p->reader = xmlReaderForIO(io_read, NULL, p, NULL, encoding,
		    options);
		if (p->reader == NULL)
			return (-1);
		xmlTextReaderSetStructuredErrorHandler(p->reader, on_error, p);
		return (0);
	}
	if ((ctxt = xmlNewParserCtxt()) == NULL)
		fatalx("xmlNewParserCtxt: out of memory");
	p->doc = xmlCtxtReadIO(ctxt, io_read, NULL, p, NULL, encoding,
	    options);
	xmlFreeParserCtxt(ctxt);
	if (p->doc == NULL || p->doc->intSubset != NULL)
		return (-1);
	if ((p->reader = xmlReaderWalker(p->doc)) == NULL)
		fatalx("xmlReaderWalker: out of memory");
	return (0);
}

/* Whether the document met so far declares a DTD. */
static int
has_dtd(struct parser *p)
{
	if (p->doc == NULL && p->reader != NULL)
		p->doc = xmlTextReaderCurrentDoc(p->reader);
	return (p->doc != NULL && p->doc->intSubset != NULL);
}

static void
parser_free(struct parser *p)
{
	size_t	i;

	if (p->reader != NULL)
		xmlFreeTextReader(p->reader);
	if (p->doc != NULL)
		xmlFreeDoc(p->doc);
	for (i = 0; i < p->nbatch; i++)
		report_record_free(&p->batch[i]);
	free(p->batch);
	report_head_free(&p->head);
	free(p->root_name);
	free(p->read_cause);
	free(p->xml_error);
	free(p->cause);
}

/* Parse one XML aggregate report from the stream. */
enum report_status
report_parse_xml(report_read_fn read_fn, void *stream,
    const struct report_limits *lim, const struct report_callbacks *cb,
    void *arg, int *retry, char **cause)
{
	struct parser		 p;
	enum report_status	 status;
	xmlStructuredErrorFunc	 old_serror;
	xmlGenericErrorFunc	 old_generic;
	void			*old_sctx, *old_gctx;
	const char		*encoding = NULL;
	int			 options = XML_OPTIONS, rc;

	init_once();
	memset(&p, 0, sizeof p);
	p.read_fn = read_fn;
	p.stream = stream;
	p.lim = lim;
	p.batch_size = lim->batch > 0 ? lim->batch : 1;
	p.max_text = lim->max_text > 0 ? lim->max_text : REPORT_MAX_TEXT;
	p.scan.enc = -1;
	p.cb = cb;
	p.arg = arg;
	p.head.policy_pct = -1;
	p.batch = xcalloc(p.batch_size, sizeof *p.batch);
	if (lim->mode == REPORT_WIN1252) {
		encoding = "windows-1252";
		options |= XML_PARSE_IGNORE_ENC;
		report_warn(&p.head.warnings, &p.head.nwarnings,
		    "decoded as windows-1252");
	} else if (lim->mode == REPORT_RECOVER)
		options |= XML_PARSE_RECOVER;

	old_serror = xmlStructuredError;
	old_sctx = xmlStructuredErrorContext;
	old_generic = xmlGenericError;
	old_gctx = xmlGenericErrorContext;
	xmlSetStructuredErrorFunc(&p, on_error);
	xmlSetGenericErrorFunc(&p, on_generic);

	if (open_reader(&p, encoding, options) != 0 || p.read_cause != NULL)
		rc = -1;
	else {
		rc = xmlTextReaderRead(p.reader);
		while (rc == 1) {
			rc = step(&p);
			if (p.xml_error != NULL && lim->mode != REPORT_RECOVER)
				break;
		}
	}
	finish(&p, rc == -2 ? 0 : rc);

	xmlSetStructuredErrorFunc(old_sctx, old_serror);
	xmlSetGenericErrorFunc(old_gctx, old_generic);

	status = p.status;
	if (retry != NULL)
		*retry = p.retry;
	if (status != REPORT_OK && status != REPORT_DUPLICATE) {
		*cause = p.cause != NULL ? p.cause : xstrdup("parse failed");
		p.cause = NULL;
	}
	parser_free(&p);
	return (status);
}
