/*
 * mime.c: find the report payloads in one message (or one raw file).
 *
 * The input is either a bare payload, recognised by its first bytes (XML,
 * JSON, gzip, zlib or zip), or a mail, which GMime parses over the caller's
 * buffer.  The walk visits every part, numbering them as IMAP does ("1",
 * "2.1"), descends into multipart and message/rfc822 (a report forwarded
 * as an attachment) but not into the returned message of a
 * multipart/report, and looks at every leaf except text/html and
 * label-less text/plain (which must look like an XML document to count).
 * A leaf is decoded into memory (capped), then sniffed by its bytes only,
 * since senders label them every way (octet-stream, x-gzip,
 * x-zip-compressed, zip around gzip, plain text/xml): gzip and zlib are
 * inflated, zip members are listed and opened one by one
 * (directories and extra members included), nested containers are followed up to
 * max_depth, and what is inside must start like XML or JSON.  A
 * message/feedback-report part is a failure report (ARF), handed out as is,
 * with the parts next to it (the returned message or its headers, the
 * text part: struct arf_ctx); a multipart/report without one that gives
 * no other payload is handed out as a plain-text failure report.
 *
 * Each payload goes to the callback as a stream (mime-stream.c) that
 * decompresses on demand; a part that looked like a report but failed goes
 * to the bad-part callback with its cause.
 *
 * Before GMime sees a mail, a shape scan follows its structure line by line
 * (header blocks, boundaries, nested messages) and cuts it at the first
 * place over a limit (parts, header fields, field length, nesting): GMime's
 * memory and recursion grow with each of these, so only what comes before
 * is parsed.  The same scan finds header blocks ended by a line of blanks.
 * XML must have feedback as its root element (or somewhere in its first
 * bytes, for wrappers); other XML is a bad part.  A zip whose central
 * directory has too many entries is turned away before libarchive reads it.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <gmime/gmime.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/common.h"
#include "mime/mime_p.h"

#define MIME_MAX_LAYERS	8		/* hard ceiling on max_depth */
#define MIME_NAME_MAX	255		/* sanitised names */
#define MIME_PARTS_MAX	512		/* the part list in a NONE cause */
#define MIME_NEST_MAX	256		/* hard ceiling on max_mime_depth */

enum sniff {
	SNIFF_NONE,
	SNIFF_XML,
	SNIFF_OTHER_XML,		/* XML whose root is not feedback */
	SNIFF_JSON,
	SNIFF_GZIP,
	SNIFF_ZLIB,
	SNIFF_ZIP
};

/*
 * The parts around a failure report, collected when a multipart holds a
 * message/feedback-report part or is a multipart/report (decoded, owned).
 */
struct arf_ctx {
	char		*report_type;
	struct buf	 text;
	char		*text_path;
	struct buf	 original;
	int		 have_text, have_original, headers_only;
	int		 has_feedback;
};

/* The state of one scan. */
struct scan {
	const struct mime_limits *lim;
	mime_payload_fn		 fn;
	mime_bad_fn		 badfn;
	void			*arg;
	unsigned		 npayloads;
	char			*first_bad;	/* cause of the first bad part */
	char			*stop;		/* cause that ends the scan */
	enum mime_status	 stop_status;
	struct buf		 parts;		/* types seen, for MIME_NONE */
	struct arf_ctx		*arf;		/* around the current part */
	mime_facts_fn		 factsfn;	/* NULL: no one to tell */
	struct mime_info	 facts;		/* what factsfn is told */
	int			 told;		/* factsfn was called */
	int			 refused;	/* and said stop */
};

/* The part being looked at. */
struct leaf {
	const char	*path;
	const char	*content_type;	/* declared, lower case */
	char		*filename;	/* sanitised */
	const char	*transfer_encoding;
	uint64_t	 encoded_bytes;
	int		 strict;	/* text/plain without a name */
	int		 hinted;	/* type or name says report */
};

/* One level of a mail's shape: a multipart (its boundary) or a message. */
struct shape_frame {
	char		*boundary;	/* without "--"; NULL for a message */
	size_t		 blen;
	char		*path;		/* of the multipart or message */
	unsigned	 nchild;
	int		 digest;	/* multipart/digest */
};

/*
 * What the shape scan found: where GMime must stop reading and why.
 */
struct shape {
	const struct mime_limits *lim;
	struct shape_frame	*fr;
	unsigned		 nfr, frcap;
	unsigned		 parts;
	unsigned		 headers;
	size_t			 cut;		/* GMime reads buf[0, cut) */
	char			*cause;		/* why it was cut, or NULL */
	int			 stop;		/* the cause ends the scan */
	char			*path;		/* the part at the cut */
	size_t			 fstart;	/* header field, or SIZE_MAX */
	size_t			 flen;
	char			*ctype;		/* first Content-Type (type) */
	char			*cparams;	/* last one (boundary) */
	size_t			 len;		/* of the mail */
	size_t			*blank;		/* blank lines that end a */
	unsigned		 nblank;	/* header block: offset, */
	unsigned		 blankcap;	/* length pairs */
};

/* The containers opened so far on the way to some content. */
struct chain {
	char			 prefix[128];	/* "zip>gzip>" */
	struct mime_layer	 layers[MIME_MAX_LAYERS];
	unsigned		 nlayers;	/* over the current buffer */
	unsigned		 depth;		/* containers, all buffers */
	const char		*member;	/* zip member, sanitised */
};

static enum sniff sniff(const unsigned char *, size_t, int);
static enum sniff sniff_root(const unsigned char *, size_t, size_t);
static const unsigned char *skip_to(const unsigned char *,
		    const unsigned char *, const char *);
static int	 is_bare(const unsigned char *, size_t);
static size_t	 blank_lines(const char *, size_t);
static char	*sanitise(const char *);
static char	*unfold(const char *);
static unsigned	 max_depth(const struct mime_limits *);
static void	 scan_content(struct scan *, struct leaf *,
		    const unsigned char *, size_t, struct chain *);
static void	 scan_zip(struct scan *, struct leaf *, const unsigned char *,
		    size_t, struct chain *);
static int	 zip_skip(struct archive_entry *);
static void	 scan_nested_zip(struct scan *, struct leaf *,
		    struct mime_stream *, struct chain *);
static void	 hand_out(struct scan *, struct leaf *, struct chain *,
		    enum mime_kind, struct mime_stream *);
static void	 bad_part(struct scan *, struct leaf *, struct chain *,
		    enum mime_kind, char *);
static void	 fill_payload(struct mime_payload *, struct leaf *,
		    struct chain *, char *, size_t);
static void	 walk_message(struct scan *, GMimeMessage *, const char *,
		    unsigned);
static void	 walk_multipart(struct scan *, GMimeMultipart *, const char *,
		    unsigned);
static void	 walk_object(struct scan *, GMimeObject *, const char *,
		    unsigned, int);
static void	 walk_leaf(struct scan *, GMimePart *, const char *);
static int	 arf_ctx_fill(struct scan *, GMimeMultipart *, const char *,
		    int, struct arf_ctx *);
static void	 arf_ctx_plain(struct scan *, struct arf_ctx *);
static void	 arf_ctx_free(struct arf_ctx *);
static void	 arf_fields_from_headers(GMimeObject *, struct buf *);
static void	 note_part(struct scan *, const char *);
static int	 part_decode(GMimePart *, size_t, struct buf *, uint64_t *,
		    char **);
static int	 type_hints_report(const char *, const char *);
static void	 info_fill(struct mime_info *, GMimeMessage *);
static int	 scan_tell(struct scan *, GMimeMessage *);
static enum mime_status scan_run(const char *, size_t,
		    const struct mime_limits *, struct mime_info *,
		    mime_facts_fn, mime_payload_fn, mime_bad_fn, void *,
		    char **);
static void	 scan_message(struct scan *, const char *, size_t,
		    struct mime_info *, char **);
static int	 parse_walk(struct scan *, const char *, size_t,
		    struct mime_info *);
static char	*empty_blank_lines(const char *, size_t);
static void	 scan_mail(struct scan *, const char *, size_t,
		    struct mime_info *, int *);
static void	 shape_scan(struct shape *, const char *, size_t);
static void	 shape_free(struct shape *);
static int	 shape_line(struct shape *, const char *, size_t, size_t,
		    size_t, int);
static int	 shape_header(struct shape *, const char *, size_t, size_t);
static void	 shape_field_end(struct shape *, const char *);
static int	 shape_headers_end(struct shape *, size_t);
static int	 shape_match(struct shape *, const char *, size_t, int *);
static int	 shape_boundary(struct shape *, unsigned, int, size_t);
static void	 shape_push(struct shape *, const char *, int);
static void	 shape_pop(struct shape *, unsigned);
static void	 shape_cut(struct shape *, size_t, int, char *);
static unsigned	 nest_max(const struct mime_limits *);
static int	 blanks(const char *, size_t);
static int	 is_field(const char *, size_t);
static void	 shape_blank(struct shape *, size_t, size_t);
static int	 zip_count_entries(const unsigned char *, size_t, unsigned);

void
mime_init(void)
{
	g_mime_init();
}

void
mime_shutdown(void)
{
	g_mime_shutdown();
}

const char *
mime_kind_name(enum mime_kind kind)
{
	switch (kind) {
	case MIME_KIND_XML:
		return ("xml");
	case MIME_KIND_JSON:
		return ("json");
	case MIME_KIND_ARF:
		return ("arf");
	default:
		return ("unknown");
	}
}

void
mime_limits_default(struct mime_limits *lim)
{
	lim->max_decoded = 64 * 1024 * 1024;
	lim->max_payload = 1024ULL * 1024 * 1024;
	lim->max_ratio = 200;
	lim->max_zip_entries = 64;
	lim->max_depth = 4;
	lim->max_payloads = 16;
	lim->max_mime_depth = 32;
	lim->max_parts = 1000;
	lim->max_header_line = 1024 * 1024;
	lim->max_headers = 20000;
}

void
mime_info_free(struct mime_info *info)
{
	free(info->message_id);
	free(info->from);
	free(info->subject);
	free(info->auth_results);
	info->message_id = info->from = info->subject = NULL;
	info->auth_results = NULL;
}

/* Scan without reporting bad parts. */
enum mime_status
mime_scan(const char *buf, size_t len, const struct mime_limits *lim,
    struct mime_info *info, mime_payload_fn fn, void *arg, char **cause)
{
	return (mime_scan_all(buf, len, lim, info, fn, NULL, arg, cause));
}

/* Scan a message or a raw file (see mime.h). */
enum mime_status
mime_scan_all(const char *buf, size_t len, const struct mime_limits *lim,
    struct mime_info *info, mime_payload_fn fn, mime_bad_fn badfn, void *arg,
    char **cause)
{
	return (scan_run(buf, len, lim, info, NULL, fn, badfn, arg, cause));
}

/* Scan, telling factsfn the message's facts first (see mime.h). */
enum mime_status
mime_scan_facts(const char *buf, size_t len, const struct mime_limits *lim,
    mime_facts_fn factsfn, mime_payload_fn fn, mime_bad_fn badfn, void *arg,
    char **cause)
{
	if (factsfn == NULL)
		fatalx("%s: no facts callback", __func__);
	return (scan_run(buf, len, lim, NULL, factsfn, fn, badfn, arg, cause));
}

static enum mime_status
scan_run(const char *buf, size_t len, const struct mime_limits *lim,
    struct mime_info *info, mime_facts_fn factsfn, mime_payload_fn fn,
    mime_bad_fn badfn, void *arg, char **cause)
{
	struct scan		 sc;
	struct leaf		 lf;
	struct chain		 ch;
	enum mime_status	 st;

	memset(&sc, 0, sizeof sc);
	sc.lim = lim;
	sc.fn = fn;
	sc.badfn = badfn;
	sc.arg = arg;
	sc.factsfn = factsfn;
	sc.facts.date = MIME_NO_DATE;
	buf_init(&sc.parts, MIME_PARTS_MAX);
	if (info != NULL) {
		memset(info, 0, sizeof *info);
		info->date = MIME_NO_DATE;
	}
	*cause = NULL;

	if (is_bare((const unsigned char *)buf, len)) {
		memset(&lf, 0, sizeof lf);
		memset(&ch, 0, sizeof ch);
		lf.path = "";
		lf.hinted = 1;
		lf.encoded_bytes = len;
		/* A bare payload has no facts: told empty, first. */
		if (scan_tell(&sc, NULL) == 0)
			scan_content(&sc, &lf, (const unsigned char *)buf,
			    len, &ch);
	} else
		scan_message(&sc, buf, len, info, cause);
	/* Nothing handed out and nothing parsed: told now. */
	(void)scan_tell(&sc, NULL);
	mime_info_free(&sc.facts);

	if (sc.stop != NULL) {
		free(*cause);	/* "not a MIME message": the stop says more */
		*cause = sc.stop;
		free(sc.first_bad);
		st = sc.stop_status;
	} else if (sc.npayloads > 0) {
		free(sc.first_bad);
		st = MIME_OK;
	} else if (sc.first_bad != NULL) {
		*cause = sc.first_bad;
		st = MIME_INVALID;
	} else {
		st = MIME_NONE;
		/* scan_message sets the cause for something not a mail. */
		if (*cause == NULL && sc.parts.len == 0)
			*cause = xstrdup("no report attachment (no parts)");
		else if (*cause == NULL)
			xasprintf(cause, "no report attachment (parts: %s)",
			    sc.parts.data);
	}
	buf_free(&sc.parts);
	return (st);
}

/*
 * Scan a mail held in buf.  When that finds nothing and the mail holds
 * lines of only blanks (a header block ended by " " instead of an empty
 * line), scan a copy with those lines emptied.
 */
static void
scan_message(struct scan *sc, const char *buf, size_t len,
    struct mime_info *info, char **none)
{
	size_t	 skip;
	char	*fixed;
	int	 parsed = 0;

	skip = blank_lines(buf, len);
	buf += skip;
	len -= skip;
	if (len > G_MAXUINT) {
		xasprintf(&sc->stop, "message over %u bytes", G_MAXUINT);
		sc->stop_status = MIME_INVALID;
		return;
	}
	scan_mail(sc, buf, len, info, &parsed);
	if (sc->npayloads > 0 || sc->first_bad != NULL || sc->stop != NULL)
		return;
	if ((fixed = empty_blank_lines(buf, len)) != NULL) {
		buf_reset(&sc->parts);
		if (info != NULL) {
			mime_info_free(info);
			info->date = MIME_NO_DATE;
		}
		scan_mail(sc, fixed, len, info, &parsed);
		free(fixed);
	}
	if (!parsed)
		*none = xstrdup("not a MIME message");
}

/*
 * Check the shape of a mail first, let GMime parse what comes before the
 * first place over a limit and walk it, then say why the rest was cut off:
 * a stop (too many parts or header fields, a field too long) or a bad part
 * (nested too deeply).  A header block that ends with a line of blanks
 * (GMime would read it as folding) is parsed from a copy with that line
 * emptied.
 */
static void
scan_mail(struct scan *sc, const char *buf, size_t len,
    struct mime_info *info, int *parsed)
{
	struct shape	 sh;
	struct leaf	 lf;
	struct chain	 ch;
	char		*fixed = NULL;
	unsigned	 i;

	memset(&sh, 0, sizeof sh);
	sh.lim = sc->lim;
	shape_scan(&sh, buf, len);
	if (sh.nblank > 0) {
		/* Empty the lines of blanks that end a header block. */
		fixed = xmalloc(len);
		memcpy(fixed, buf, len);
		for (i = 0; i < sh.nblank; i += 2)
			memset(fixed + sh.blank[i], '\n', sh.blank[i + 1]);
		buf = fixed;
	}
	if (sh.cut > 0 && parse_walk(sc, buf, sh.cut, info) == 0)
		*parsed = 1;
	free(fixed);
	if (sh.cause != NULL && sc->stop == NULL && sh.stop) {
		sc->stop = sh.cause;
		sc->stop_status = MIME_INVALID;
		sh.cause = NULL;
	} else if (sh.cause != NULL && sc->stop == NULL) {
		memset(&lf, 0, sizeof lf);
		memset(&ch, 0, sizeof ch);
		lf.path = sh.path;
		bad_part(sc, &lf, &ch, MIME_KIND_UNKNOWN, sh.cause);
		sh.cause = NULL;
	}
	shape_free(&sh);
}

static unsigned
nest_max(const struct mime_limits *lim)
{
	return (lim->max_mime_depth > MIME_NEST_MAX ? MIME_NEST_MAX :
	    lim->max_mime_depth);
}

/*
 * Follow the structure of a mail as GMime will (header blocks, multipart
 * boundaries matched whole, nested messages) without building anything,
 * and find the first place over a limit.  GMime's own cost grows with what
 * is checked here: it copies a header field whole, makes an object of each
 * field and each part (about 500 bytes a field), and recurses once per
 * level of nesting.  GMime then parses only buf[0, cut).
 */
static void
shape_scan(struct shape *sh, const char *buf, size_t len)
{
	const char	*nl;
	size_t		 i, eol, next;
	int		 headers = 1;

	sh->cut = len;
	sh->len = len;
	sh->fstart = SIZE_MAX;
	sh->path = xstrdup("");
	for (i = 0; i < len && sh->cause == NULL; i = next) {
		nl = memchr(buf + i, '\n', len - i);
		eol = nl != NULL ? (size_t)(nl - buf) : len;
		next = nl != NULL ? eol + 1 : len;
		if (eol > i && buf[eol - 1] == '\r')
			eol--;
		headers = shape_line(sh, buf, i, eol, next, headers);
	}
}

static void
shape_free(struct shape *sh)
{
	shape_pop(sh, 0);
	free(sh->fr);
	free(sh->cause);
	free(sh->path);
	free(sh->ctype);
	free(sh->cparams);
	free(sh->blank);
}

/* One line, from i to eol; returns whether the next line is a header. */
static int
shape_line(struct shape *sh, const char *buf, size_t i, size_t eol,
    size_t next, int headers)
{
	int	 k, end;

	if (headers && eol == i) {
		shape_field_end(sh, buf);
		return (shape_headers_end(sh, next));
	}
	/* A line of blanks before something not a field ends the block. */
	if (headers && blanks(buf + i, eol - i) &&
	    !is_field(buf + next, sh->len - next)) {
		shape_field_end(sh, buf);
		shape_blank(sh, i, eol - i);
		return (shape_headers_end(sh, next));
	}
	if (headers)
		return (shape_header(sh, buf, i, next));
	if (eol - i < 2 || buf[i] != '-' || buf[i + 1] != '-')
		return (0);
	if ((k = shape_match(sh, buf + i + 2, eol - i - 2, &end)) == -1)
		return (0);
	return (shape_boundary(sh, (unsigned)k, end, i));
}

/* A header line: a new field or the continuation of one. */
static int
shape_header(struct shape *sh, const char *buf, size_t i, size_t next)
{
	char	*cause;

	if ((buf[i] == ' ' || buf[i] == '\t') && sh->fstart != SIZE_MAX)
		sh->flen = next - sh->fstart;
	else {
		shape_field_end(sh, buf);
		if (++sh->headers > sh->lim->max_headers) {
			xasprintf(&cause, "more than %u header fields",
			    sh->lim->max_headers);
			shape_cut(sh, i, 1, cause);
			return (1);
		}
		sh->fstart = i;
		sh->flen = next - i;
	}
	if (sh->flen > sh->lim->max_header_line) {
		xasprintf(&cause, "header field over %zu bytes",
		    sh->lim->max_header_line);
		shape_cut(sh, sh->fstart, 1, cause);
	}
	return (1);
}

/* At the end of a field, keep a Content-Type value (unfolded). */
static void
shape_field_end(struct shape *sh, const char *buf)
{
	const char	*f;
	char		*v;
	size_t		 n, i, o;

	if (sh->fstart == SIZE_MAX)
		return;
	f = buf + sh->fstart;
	n = sh->flen;
	sh->fstart = SIZE_MAX;
	if (n < 13 || strncasecmp(f, "Content-Type:", 13) != 0)
		return;
	v = xmalloc(n - 12);
	for (i = 13, o = 0; i < n && f[i] != '\0'; i++)
		if (f[i] != '\r' && f[i] != '\n')
			v[o++] = f[i];
	v[o] = '\0';
	if (sh->ctype == NULL)
		sh->ctype = xstrdup(v);
	free(sh->cparams);
	sh->cparams = v;
}

/*
 * At the empty line after a header block: a multipart opens a level whose
 * boundaries are looked for, a message opens a level and its header block
 * follows at once.  Returns whether the next line is a header.
 */
static int
shape_headers_end(struct shape *sh, size_t next)
{
	GMimeContentType	*ct = NULL, *cp = NULL;
	const char		*b = NULL;
	char			*cause;
	int			 multi = 0, message = 0, headers = 0;

	if (sh->ctype != NULL)
		ct = g_mime_content_type_parse(NULL, sh->ctype);
	if (sh->cparams != NULL)
		cp = g_mime_content_type_parse(NULL, sh->cparams);
	if (ct != NULL) {
		multi = g_mime_content_type_is_type(ct, "multipart", "*");
		message = g_mime_content_type_is_type(ct, "message",
		    "rfc822") || g_mime_content_type_is_type(ct, "message",
		    "news") || g_mime_content_type_is_type(ct, "message",
		    "global");
	} else if (sh->nfr > 0 && sh->fr[sh->nfr - 1].digest)
		message = 1;
	if (multi && cp != NULL)
		b = g_mime_content_type_get_parameter(cp, "boundary");
	if (multi && b != NULL && *b != '\0') {
		shape_push(sh, b, g_mime_content_type_is_type(ct,
		    "multipart", "digest"));
	} else if (message) {
		shape_push(sh, NULL, 0);
		if (sh->nfr > nest_max(sh->lim)) {
			xasprintf(&cause, "MIME nesting over %u levels",
			    nest_max(sh->lim));
			shape_cut(sh, next, 0, cause);
		}
		headers = 1;
	}
	if (ct != NULL)
		g_object_unref(ct);
	if (cp != NULL)
		g_object_unref(cp);
	free(sh->ctype);
	free(sh->cparams);
	sh->ctype = sh->cparams = NULL;
	return (headers);
}
/*
 * Does a line (after its "--") close or open a part of some open level,
 * innermost first?  Returns the level or -1; *end for a closing one.  As
 * in GMime, the boundary must be the whole line but for blanks.
 */
static int
shape_match(struct shape *sh, const char *p, size_t n, int *end)
{
	struct shape_frame	*f;
	size_t			 i;
	unsigned		 k;

	for (k = sh->nfr; k-- > 0; ) {
		f = &sh->fr[k];
		if (f->boundary == NULL || n < f->blen ||
		    memcmp(p, f->boundary, f->blen) != 0)
			continue;
		i = f->blen;
		if (n - i >= 2 && p[i] == '-' && p[i + 1] == '-' &&
		    blanks(p + i + 2, n - i - 2)) {
			*end = 1;
			return ((int)k);
		}
		if (blanks(p + i, n - i)) {
			*end = 0;
			return ((int)k);
		}
	}
	return (-1);
}

/*
 * A boundary line at offset at of level k: a closing one ends the level,
 * an opening one starts a part whose header block follows.
 */
static int
shape_boundary(struct shape *sh, unsigned k, int end, size_t at)
{
	struct shape_frame	*f;
	char			*cause;

	shape_pop(sh, end ? k : k + 1);
	if (end)
		return (0);
	f = &sh->fr[k];
	f->nchild++;
	if (++sh->parts > sh->lim->max_parts) {
		xasprintf(&cause, "more than %u MIME parts",
		    sh->lim->max_parts);
		shape_cut(sh, at, 1, cause);
		return (0);
	}
	free(sh->path);
	xasprintf(&sh->path, "%s%s%u", f->path, *f->path != '\0' ? "." : "",
	    f->nchild);
	if (sh->nfr > nest_max(sh->lim)) {
		xasprintf(&cause, "MIME nesting over %u levels",
		    nest_max(sh->lim));
		shape_cut(sh, at, 0, cause);
		return (0);
	}
	free(sh->ctype);
	free(sh->cparams);
	sh->ctype = sh->cparams = NULL;
	sh->fstart = SIZE_MAX;
	return (1);
}

/* Does a header field ("Name:") start at p? */
static int
is_field(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && p[i] > ' ' && p[i] < 0x7f && p[i] != ':'; i++)
		;
	return (i > 0 && i < n && p[i] == ':');
}

/* Remember a line of blanks that ends a header block. */
static void
shape_blank(struct shape *sh, size_t at, size_t n)
{
	if (sh->nblank + 2 > sh->blankcap) {
		sh->blankcap = sh->blankcap == 0 ? 8 : sh->blankcap * 2;
		sh->blank = xreallocarray(sh->blank, sh->blankcap,
		    sizeof *sh->blank);
	}
	sh->blank[sh->nblank++] = at;
	sh->blank[sh->nblank++] = n;
}

/* Only spaces, tabs and line ends? */
static int
blanks(const char *p, size_t n)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' &&
		    p[i] != '\n')
			return (0);
	return (1);
}

/* Open a level: a multipart with boundary b, or a message (b NULL). */
static void
shape_push(struct shape *sh, const char *b, int digest)
{
	struct shape_frame	*f;

	if (sh->nfr == sh->frcap) {
		sh->frcap = sh->frcap == 0 ? 8 : sh->frcap * 2;
		sh->fr = xreallocarray(sh->fr, sh->frcap, sizeof *sh->fr);
	}
	f = &sh->fr[sh->nfr++];
	memset(f, 0, sizeof *f);
	if (b != NULL) {
		f->boundary = xstrdup(b);
		f->blen = strlen(b);
	}
	f->path = xstrdup(sh->path);
	f->digest = digest;
}

/* Close the levels above the first n. */
static void
shape_pop(struct shape *sh, unsigned n)
{
	while (sh->nfr > n) {
		sh->nfr--;
		free(sh->fr[sh->nfr].boundary);
		free(sh->fr[sh->nfr].path);
	}
}

/* GMime reads up to at; takes cause. */
static void
shape_cut(struct shape *sh, size_t at, int stop, char *cause)
{
	sh->cut = at;
	sh->stop = stop;
	sh->cause = cause;
}

/* Parse and walk; -1 when GMime finds no message. */
static int
parse_walk(struct scan *sc, const char *buf, size_t len,
    struct mime_info *info)
{
	GByteArray	*ba;
	GMimeStream	*stream;
	GMimeParser	*parser;
	GMimeMessage	*msg;

	ba = g_byte_array_new();
	ba->data = (guint8 *)(uintptr_t)buf;
	ba->len = (guint)len;
	stream = g_mime_stream_mem_new_with_byte_array(ba);
	g_mime_stream_mem_set_owner(GMIME_STREAM_MEM(stream), FALSE);
	parser = g_mime_parser_new_with_stream(stream);
	msg = g_mime_parser_construct_message(parser, NULL);
	g_object_unref(parser);
	if (msg != NULL) {
		if (info != NULL)
			info_fill(info, msg);
		if (scan_tell(sc, msg) == 0)
			walk_message(sc, msg, "", 0);
		g_object_unref(msg);
	}
	g_object_unref(stream);
	ba->data = NULL;
	ba->len = 0;
	g_byte_array_free(ba, TRUE);
	return (msg != NULL ? 0 : -1);
}

/*
 * A copy of buf (same length) where lines of only spaces and tabs become
 * empty (the blanks turn into CR or LF as the line ends), or NULL when
 * there is no such line.
 */
static char *
empty_blank_lines(const char *buf, size_t len)
{
	char	*out = NULL;
	size_t	 i, j;

	for (i = 0; i < len; i = j + 1) {
		for (j = i; j < len && (buf[j] == ' ' || buf[j] == '\t'); j++)
			;
		if (j > i && j < len && (buf[j] == '\n' ||
		    (buf[j] == '\r' && j + 1 < len && buf[j + 1] == '\n'))) {
			if (out == NULL) {
				out = xmalloc(len);
				memcpy(out, buf, len);
			}
			memset(out + i, buf[j] == '\r' ? '\r' : '\n', j - i);
		}
		while (j < len && buf[j] != '\n')
			j++;
	}
	return (out);
}

/*
 * Tell the caller the message's facts (from msg, or none), once, before
 * the first payload or bad part.  -1 when the caller said stop: then the
 * scan stops (MIME_ABORTED) and hands nothing out.
 */
static int
scan_tell(struct scan *sc, GMimeMessage *msg)
{
	if (sc->factsfn == NULL)
		return (0);
	if (sc->told)
		return (sc->refused ? -1 : 0);
	sc->told = 1;
	if (msg != NULL)
		info_fill(&sc->facts, msg);
	if (sc->factsfn(&sc->facts, sc->arg) == 0)
		return (0);
	sc->refused = 1;
	if (sc->stop == NULL) {
		sc->stop = xstrdup("stopped after the message's facts");
		sc->stop_status = MIME_ABORTED;
	}
	return (-1);
}

/* Facts about the message for the ledger. */
static void
info_fill(struct mime_info *info, GMimeMessage *msg)
{
	InternetAddressList	*from;
	GDateTime		*date;
	const char		*s;
	char			*a;

	if ((s = g_mime_message_get_message_id(msg)) != NULL && *s != '\0')
		info->message_id = sanitise(s);
	from = g_mime_message_get_from(msg);
	if (from != NULL && internet_address_list_length(from) > 0) {
		a = internet_address_list_to_string(from, NULL, FALSE);
		if (a != NULL && *a != '\0')
			info->from = unfold(a);
		g_free(a);
	}
	if ((s = g_mime_message_get_subject(msg)) != NULL)
		info->subject = unfold(s);
	/* Ours first: GMime refuses years before 1969 (mime-date.c). */
	s = g_mime_object_get_header(GMIME_OBJECT(msg), "Date");
	if ((s == NULL || mime_date_parse(s, &info->date) != 0) &&
	    (date = g_mime_message_get_date(msg)) != NULL)
		info->date = (int64_t)g_date_time_to_unix(date);
	s = g_mime_object_get_header(GMIME_OBJECT(msg),
	    "Authentication-Results");
	if (s != NULL)
		info->auth_results = unfold(s);
}

/* The body of a message: a multipart's children, or part "1". */
static void
walk_message(struct scan *sc, GMimeMessage *msg, const char *prefix,
    unsigned mdepth)
{
	GMimeObject	*body;
	char		*path;

	if ((body = g_mime_message_get_mime_part(msg)) == NULL)
		return;
	if (GMIME_IS_MULTIPART(body)) {
		walk_multipart(sc, GMIME_MULTIPART(body), prefix, mdepth);
		return;
	}
	xasprintf(&path, "%s1", prefix);
	walk_object(sc, body, path, mdepth + 1, 0);
	free(path);
}

static void
walk_multipart(struct scan *sc, GMimeMultipart *mp, const char *prefix,
    unsigned mdepth)
{
	GMimeContentType	*ct;
	GMimeObject		*child;
	struct arf_ctx		 ctx, *saved = sc->arf;
	char			*path;
	int			 i, n, report, arf;
	unsigned		 before = sc->npayloads;

	ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	report = ct != NULL && g_mime_content_type_is_type(ct, "multipart",
	    "report");
	if ((arf = arf_ctx_fill(sc, mp, prefix, report, &ctx)))
		sc->arf = &ctx;
	n = g_mime_multipart_get_count(mp);
	for (i = 0; i < n && sc->stop == NULL; i++) {
		child = g_mime_multipart_get_part(mp, i);
		xasprintf(&path, "%s%d", prefix, i + 1);
		walk_object(sc, child, path, mdepth + 1, report);
		free(path);
	}
	if (arf) {
		if (report && !ctx.has_feedback && sc->npayloads == before)
			arf_ctx_plain(sc, &ctx);
		arf_ctx_free(&ctx);
		sc->arf = saved;
	}
}

/*
 * Collect the parts around a failure report: when the multipart is a
 * multipart/report or holds a message/feedback-report part.  Returns 1
 * when ctx was filled (free it with arf_ctx_free), else 0.
 */
static int
arf_ctx_fill(struct scan *sc, GMimeMultipart *mp, const char *prefix,
    int report, struct arf_ctx *ctx)
{
	GMimeContentType	*ct;
	GMimeObject		*child;
	GMimeMessage		*msg;
	GMimeStream		*ms;
	GByteArray		*ba;
	const char		*rt;
	uint64_t		 enc;
	char			*cause = NULL;
	int			 i, n;

	memset(ctx, 0, sizeof *ctx);
	n = g_mime_multipart_get_count(mp);
	for (i = 0; i < n; i++) {
		ct = g_mime_object_get_content_type(
		    g_mime_multipart_get_part(mp, i));
		if (ct != NULL && g_mime_content_type_is_type(ct, "message",
		    "feedback-report"))
			ctx->has_feedback = 1;
	}
	if (!report && !ctx->has_feedback)
		return (0);
	ct = g_mime_object_get_content_type(GMIME_OBJECT(mp));
	if (ct != NULL && (rt = g_mime_content_type_get_parameter(ct,
	    "report-type")) != NULL)
		ctx->report_type = sanitise(rt);
	buf_init(&ctx->text, sc->lim->max_decoded);
	buf_init(&ctx->original, sc->lim->max_decoded);
	for (i = 0; i < n; i++) {
		child = g_mime_multipart_get_part(mp, i);
		ct = g_mime_object_get_content_type(child);
		if (!ctx->have_text && GMIME_IS_PART(child) && (ct == NULL ||
		    g_mime_content_type_is_type(ct, "text", "plain"))) {
			if (part_decode(GMIME_PART(child), sc->lim->max_decoded,
			    &ctx->text, &enc, &cause) == 0) {
				ctx->have_text = 1;
				xasprintf(&ctx->text_path, "%s%d", prefix,
				    i + 1);
			} else
				buf_reset(&ctx->text);
		} else if (!ctx->have_original && GMIME_IS_PART(child) &&
		    ct != NULL && g_mime_content_type_is_type(ct, "text",
		    "rfc822-headers")) {
			if (part_decode(GMIME_PART(child), sc->lim->max_decoded,
			    &ctx->original, &enc, &cause) == 0)
				ctx->have_original = ctx->headers_only = 1;
			else
				buf_reset(&ctx->original);
		} else if (!ctx->have_original &&
		    GMIME_IS_MESSAGE_PART(child) && (msg =
		    g_mime_message_part_get_message(GMIME_MESSAGE_PART(child)))
		    != NULL) {
			ms = g_mime_stream_mem_new();
			g_mime_object_write_to_stream(GMIME_OBJECT(msg), NULL,
			    ms);
			ba = g_mime_stream_mem_get_byte_array(
			    GMIME_STREAM_MEM(ms));
			if (ba != NULL && buf_add(&ctx->original, ba->data,
			    ba->len) == 0)
				ctx->have_original = 1;
			else
				buf_reset(&ctx->original);
			g_object_unref(ms);
		}
		free(cause);
		cause = NULL;
	}
	return (1);
}

/*
 * A multipart/report without a feedback part that gave no payload: hand
 * its text out as a plain-text failure report (report/ decides whether it
 * reads like one).
 */
static void
arf_ctx_plain(struct scan *sc, struct arf_ctx *ctx)
{
	static const char *const not_failure[] = {
		"tlsrpt", "delivery-status", "disposition-notification", NULL
	};
	struct mime_stream	*s;
	struct leaf		 lf;
	struct chain		 ch;
	char			*cause = NULL;
	int			 i;

	if (!ctx->have_text || ctx->text.len == 0)
		return;
	for (i = 0; ctx->report_type != NULL && not_failure[i] != NULL; i++)
		if (strcasecmp(ctx->report_type, not_failure[i]) == 0)
			return;
	memset(&lf, 0, sizeof lf);
	memset(&ch, 0, sizeof ch);
	lf.path = ctx->text_path;
	lf.content_type = "text/plain";
	lf.encoded_bytes = ctx->text.len;
	s = mime_stream_new((unsigned char *)ctx->text.data, ctx->text.len,
	    NULL, 0, sc->lim, &cause);
	if (s == NULL)
		fatalx("%s: %s", __func__, cause);
	hand_out(sc, &lf, &ch, MIME_KIND_ARF, s);
	mime_stream_free(s);
}

/*
 * A feedback part whose header block ended with a line of blanks: GMime
 * read its fields as the part's own header fields and its body is empty.
 * Give the fields back as the body (all but Content-* and MIME-Version).
 */
static void
arf_fields_from_headers(GMimeObject *obj, struct buf *dec)
{
	GMimeHeaderList	*hl;
	GMimeHeader	*h;
	const char	*name, *raw;
	int		 i, n;

	if ((hl = g_mime_object_get_header_list(obj)) == NULL)
		return;
	n = g_mime_header_list_get_count(hl);
	for (i = 0; i < n; i++) {
		h = g_mime_header_list_get_header_at(hl, i);
		name = g_mime_header_get_name(h);
		if ((raw = g_mime_header_get_raw_value(h)) == NULL)
			raw = "";
		if (g_ascii_strncasecmp(name, "Content-", 8) == 0 ||
		    g_ascii_strcasecmp(name, "MIME-Version") == 0)
			continue;
		while (*raw == ' ' || *raw == '\t')
			raw++;
		if (buf_add(dec, name, strlen(name)) != 0 ||
		    buf_add(dec, ": ", 2) != 0 ||
		    buf_add(dec, raw, strlen(raw)) != 0)
			return;
		if ((*raw == '\0' || raw[strlen(raw) - 1] != '\n') &&
		    buf_add(dec, "\n", 1) != 0)
			return;
	}
}

static void
arf_ctx_free(struct arf_ctx *ctx)
{
	free(ctx->report_type);
	free(ctx->text_path);
	buf_free(&ctx->text);
	buf_free(&ctx->original);
	memset(ctx, 0, sizeof *ctx);
}

static void
walk_object(struct scan *sc, GMimeObject *obj, const char *path,
    unsigned mdepth, int in_report)
{
	struct leaf	 lf;
	struct chain	 ch;
	GMimeMessage	*msg;
	char		*prefix, *cause;

	if (mdepth > sc->lim->max_mime_depth) {
		memset(&lf, 0, sizeof lf);
		memset(&ch, 0, sizeof ch);
		lf.path = path;
		xasprintf(&cause, "MIME nesting over %u levels",
		    sc->lim->max_mime_depth);
		bad_part(sc, &lf, &ch, MIME_KIND_UNKNOWN, cause);
		return;
	}
	if (GMIME_IS_MULTIPART(obj)) {
		xasprintf(&prefix, "%s.", path);
		walk_multipart(sc, GMIME_MULTIPART(obj), prefix, mdepth);
		free(prefix);
	} else if (GMIME_IS_MESSAGE_PART(obj)) {
		note_part(sc, "message/rfc822");
		msg = g_mime_message_part_get_message(GMIME_MESSAGE_PART(obj));
		if (in_report || msg == NULL)
			return;
		xasprintf(&prefix, "%s.", path);
		walk_message(sc, msg, prefix, mdepth);
		free(prefix);
	} else if (GMIME_IS_PART(obj))
		walk_leaf(sc, GMIME_PART(obj), path);
}

/* Remember a part's type, once, for the MIME_NONE cause. */
static void
note_part(struct scan *sc, const char *type)
{
	const char	*p = sc->parts.data, *e;
	size_t		 tlen = strlen(type), len;

	while (p != NULL && *p != '\0') {
		e = strstr(p, ", ");
		len = e != NULL ? (size_t)(e - p) : strlen(p);
		if (len == tlen && memcmp(p, type, tlen) == 0)
			return;
		p = e != NULL ? e + 2 : NULL;
	}
	if (sc->parts.len != 0 && buf_add(&sc->parts, ", ", 2) == -1)
		return;
	(void)buf_add(&sc->parts, type, tlen);
}

/* Does the declared type or name say this is meant to be a report? */
static int
type_hints_report(const char *type, const char *name)
{
	static const char *types[] = {
		"application/gzip", "application/x-gzip",
		"application/zip", "application/x-zip-compressed",
		"application/x-zip", "application/xml", "text/xml",
		"application/json", "application/tlsrpt+json",
		"application/tlsrpt+gzip", "application/zlib", NULL
	};
	static const char *exts[] = {
		".gz", ".gzip", ".zip", ".xml", ".json", ".zlib", NULL
	};
	size_t	 nlen, elen;
	int	 i;

	for (i = 0; type != NULL && types[i] != NULL; i++)
		if (strcmp(type, types[i]) == 0)
			return (1);
	if (name == NULL)
		return (0);
	nlen = strlen(name);
	for (i = 0; exts[i] != NULL; i++) {
		elen = strlen(exts[i]);
		if (nlen >= elen &&
		    strcasecmp(name + nlen - elen, exts[i]) == 0)
			return (1);
	}
	return (0);
}

static void
walk_leaf(struct scan *sc, GMimePart *part, const char *path)
{
	GMimeObject		*obj = GMIME_OBJECT(part);
	GMimeContentType	*ct;
	struct leaf		 lf;
	struct chain		 ch;
	struct buf		 dec;
	struct mime_stream	*s;
	const char		*fname;
	char			*type, *lower, *cause = NULL;

	memset(&lf, 0, sizeof lf);
	memset(&ch, 0, sizeof ch);
	lf.path = path;
	ct = g_mime_object_get_content_type(obj);
	type = ct != NULL ? g_mime_content_type_get_mime_type(ct) : NULL;
	if (type == NULL)
		type = g_strdup("text/plain");
	lower = g_ascii_strdown(type, -1);
	g_free(type);
	type = lower;
	note_part(sc, type);
	if (strcmp(type, "text/html") == 0)
		goto done;
	if (g_mime_object_get_header(obj, "Content-Type") != NULL)
		lf.content_type = type;
	lf.transfer_encoding = g_mime_object_get_header(obj,
	    "Content-Transfer-Encoding");
	if ((fname = g_mime_part_get_filename(part)) != NULL)
		lf.filename = sanitise(fname);
	lf.strict = strcmp(type, "text/plain") == 0 && lf.filename == NULL;
	lf.hinted = type_hints_report(type, lf.filename);

	buf_init(&dec, sc->lim->max_decoded);
	if (part_decode(part, sc->lim->max_decoded, &dec, &lf.encoded_bytes,
	    &cause) == -1) {
		if (!lf.strict)
			bad_part(sc, &lf, &ch, MIME_KIND_UNKNOWN, cause);
		else
			free(cause);
	} else if (strcmp(type, "message/feedback-report") == 0) {
		if (strspn(dec.data != NULL ? dec.data : "", " \t\r\n") ==
		    dec.len)
			arf_fields_from_headers(obj, &dec);
		s = mime_stream_new((unsigned char *)dec.data, dec.len, NULL,
		    0, sc->lim, &cause);
		if (s == NULL)
			fatalx("%s: %s", __func__, cause);
		hand_out(sc, &lf, &ch, MIME_KIND_ARF, s);
		mime_stream_free(s);
	} else
		scan_content(sc, &lf, (unsigned char *)dec.data, dec.len, &ch);
	buf_free(&dec);
done:
	free(lf.filename);
	g_free(type);
}

/* Decode a part's content (base64, QP, uuencode) into out, capped. */
static int
part_decode(GMimePart *part, size_t cap, struct buf *out, uint64_t *encoded,
    char **cause)
{
	GMimeDataWrapper	*dw;
	GMimeStream		*raw, *fs;
	GMimeFilter		*filter;
	GMimeContentEncoding	 enc;
	gint64			 len;
	ssize_t			 n;
	char			 chunk[16384];
	int			 rv = 0;

	*encoded = 0;
	if ((dw = g_mime_part_get_content(part)) == NULL ||
	    (raw = g_mime_data_wrapper_get_stream(dw)) == NULL)
		return (0);
	if ((len = g_mime_stream_length(raw)) > 0)
		*encoded = (uint64_t)len;
	g_mime_stream_reset(raw);
	fs = g_mime_stream_filter_new(raw);
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		filter = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_filter_add(GMIME_STREAM_FILTER(fs), filter);
		g_object_unref(filter);
	}
	for (;;) {
		n = g_mime_stream_read(fs, chunk, sizeof chunk);
		if (n < 0) {
			xasprintf(cause, "cannot read the part");
			rv = -1;
			break;
		}
		if (n == 0)
			break;
		if (buf_add(out, chunk, (size_t)n) == -1) {
			xasprintf(cause, "attachment over %zu bytes", cap);
			rv = -1;
			break;
		}
	}
	g_object_unref(fs);
	return (rv);
}

static unsigned
max_depth(const struct mime_limits *lim)
{
	return (lim->max_depth > MIME_MAX_LAYERS ? MIME_MAX_LAYERS :
	    lim->max_depth);
}

/*
 * Sniff the content at the end of a chain and act on it: hand out XML or
 * JSON, open one more container, or give up.
 */
static void
scan_content(struct scan *sc, struct leaf *lf, const unsigned char *mem,
    size_t memlen, struct chain *ch)
{
	struct mime_stream	*s;
	struct chain		 next;
	const unsigned char	*p;
	ssize_t			 n;
	enum sniff		 what;
	char			*cause, *esc;

	if ((s = mime_stream_new(mem, memlen, ch->layers, ch->nlayers, sc->lim,
	    &cause)) == NULL) {
		bad_part(sc, lf, ch, MIME_KIND_UNKNOWN, cause);
		return;
	}
	if ((n = mime_stream_peek(s, &p, &cause)) == -1) {
		mime_stream_free(s);
		bad_part(sc, lf, ch, MIME_KIND_UNKNOWN, cause);
		return;
	}
	what = sniff(p, (size_t)n, lf->strict && ch->depth == 0);
	switch (what) {
	case SNIFF_XML:
	case SNIFF_JSON:
		hand_out(sc, lf, ch, what == SNIFF_XML ? MIME_KIND_XML :
		    MIME_KIND_JSON, s);
		break;
	case SNIFF_GZIP:
	case SNIFF_ZLIB:
	case SNIFF_ZIP:
		next = *ch;
		if (next.depth >= max_depth(sc->lim)) {
			xasprintf(&cause, "containers nested deeper than %u",
			    max_depth(sc->lim));
			bad_part(sc, lf, ch, MIME_KIND_UNKNOWN, cause);
			break;
		}
		if (what == SNIFF_ZIP) {
			if (ch->nlayers == 0)
				scan_zip(sc, lf, mem, memlen, ch);
			else
				scan_nested_zip(sc, lf, s, ch);
			break;
		}
		next.layers[next.nlayers].type = MIME_STAGE_INFLATE;
		next.layers[next.nlayers].gzip = what == SNIFF_GZIP;
		next.nlayers++;
		next.depth++;
		(void)g_strlcat(next.prefix, what == SNIFF_GZIP ? "gzip>" :
		    "zlib>", sizeof next.prefix);
		scan_content(sc, lf, mem, memlen, &next);
		break;
	case SNIFF_OTHER_XML:
		if (ch->depth == 0 && !lf->hinted)
			break;
		if (ch->depth == 0)
			xasprintf(&cause, "%s is XML but not a DMARC report "
			    "(the root element is not feedback)",
			    lf->content_type != NULL ? lf->content_type :
			    "content");
		else
			xasprintf(&cause, "%.*s content is XML but not a DMARC "
			    "report (the root element is not feedback)",
			    (int)strlen(ch->prefix) - 1, ch->prefix);
		bad_part(sc, lf, ch, MIME_KIND_UNKNOWN, cause);
		break;
	case SNIFF_NONE:
		if (ch->depth == 0 && !lf->hinted)
			break;
		esc = log_escape((const char *)p, (size_t)n, 16);
		if (ch->depth == 0)
			xasprintf(&cause, "%s is neither XML nor JSON "
			    "(starts \"%s\")", lf->content_type != NULL ?
			    lf->content_type : "content", esc);
		else
			xasprintf(&cause, "%.*s content is neither XML nor "
			    "JSON (starts \"%s\")",
			    (int)strlen(ch->prefix) - 1, ch->prefix, esc);
		free(esc);
		bad_part(sc, lf, ch, MIME_KIND_UNKNOWN, cause);
		break;
	}
	mime_stream_free(s);
}

/* A zip reached through another container: unpack it to memory first. */
static void
scan_nested_zip(struct scan *sc, struct leaf *lf, struct mime_stream *s,
    struct chain *ch)
{
	struct buf	 zb;
	struct chain	 next;
	char		 chunk[16384], *cause = NULL;
	ssize_t		 n;

	buf_init(&zb, sc->lim->max_decoded);
	while ((n = mime_stream_read(s, chunk, sizeof chunk, &cause)) > 0) {
		if (buf_add(&zb, chunk, (size_t)n) == -1) {
			xasprintf(&cause, "zip inside %.*s over %zu bytes",
			    (int)strlen(ch->prefix) - 1, ch->prefix,
			    sc->lim->max_decoded);
			n = -1;
			break;
		}
	}
	if (n == -1)
		bad_part(sc, lf, ch, MIME_KIND_UNKNOWN, cause);
	else {
		next = *ch;
		next.nlayers = 0;
		scan_zip(sc, lf, (unsigned char *)zb.data, zb.len, &next);
	}
	buf_free(&zb);
}

/* Skip directories, __MACOSX/, dot-files and empty entries. */
static int
zip_skip(struct archive_entry *ent)
{
	const char	*name, *base;

	if (archive_entry_filetype(ent) == AE_IFDIR)
		return (1);
	if ((name = archive_entry_pathname(ent)) == NULL)
		name = "";
	if (*name != '\0' && name[strlen(name) - 1] == '/')
		return (1);
	if (strncmp(name, "__MACOSX/", 9) == 0 ||
	    strstr(name, "/__MACOSX/") != NULL)
		return (1);
	base = strrchr(name, '/') != NULL ? strrchr(name, '/') + 1 : name;
	if (*base == '.')
		return (1);
	if (archive_entry_size_is_set(ent) && archive_entry_size(ent) == 0)
		return (1);
	return (0);
}

/*
 * Count central directory signatures, stopping past max: libarchive reads
 * the whole central directory into memory before the first entry, so a
 * zip with too many entries is turned away before it gets there.
 */
static int
zip_count_entries(const unsigned char *p, size_t len, unsigned max)
{
	const unsigned char	*q, *end = p + len;
	unsigned		 n = 0;

	while (p < end && (q = memmem(p, (size_t)(end - p), "PK\001\002",
	    4)) != NULL) {
		if (++n > max)
			return (-1);
		p = q + 4;
	}
	return (0);
}

/* List a zip held in memory, then scan each member that may be a report. */
static void
scan_zip(struct scan *sc, struct leaf *lf, const unsigned char *zmem,
    size_t zlen, struct chain *ch)
{
	struct archive		*ar;
	struct archive_entry	*ent;
	struct chain		 next, tmp;
	unsigned		*idx, nidx, i, nent, rejected = 0;
	char			**names, *cause = NULL;
	int			 r;

	tmp = *ch;
	(void)g_strlcat(tmp.prefix, "zip>", sizeof tmp.prefix);
	tmp.depth++;
	idx = xcalloc(sc->lim->max_zip_entries + 1, sizeof *idx);
	names = xcalloc(sc->lim->max_zip_entries + 1, sizeof *names);
	nidx = nent = 0;
	ar = NULL;

	if (zip_count_entries(zmem, zlen, sc->lim->max_zip_entries) == -1) {
		xasprintf(&cause, "zip has more than %u entries",
		    sc->lim->max_zip_entries);
		goto out;
	}
	if ((ar = archive_read_new()) == NULL)
		fatalx("archive_read_new: out of memory");
	archive_read_support_format_zip(ar);
	if (archive_read_open_memory(ar, zmem, zlen) != ARCHIVE_OK)
		goto fail;
	for (;;) {
		r = archive_read_next_header(ar, &ent);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			goto fail;
		if (++nent > sc->lim->max_zip_entries) {
			xasprintf(&cause, "zip has more than %u entries",
			    sc->lim->max_zip_entries);
			goto out;
		}
		if (zip_skip(ent))
			continue;
		names[nidx] = sanitise(archive_entry_pathname(ent) != NULL ?
		    archive_entry_pathname(ent) : "");
		/* The declared size is untrusted: only for early rejection. */
		if (archive_entry_size_is_set(ent) &&
		    (uint64_t)archive_entry_size(ent) > sc->lim->max_payload) {
			next = tmp;
			next.member = names[nidx];
			xasprintf(&cause, "zip member declares %lld bytes, "
			    "over %llu", (long long)archive_entry_size(ent),
			    (unsigned long long)sc->lim->max_payload);
			bad_part(sc, lf, &next, MIME_KIND_UNKNOWN, cause);
			cause = NULL;
			free(names[nidx]);
			names[nidx] = NULL;
			rejected++;
			continue;
		}
		idx[nidx++] = nent - 1;
	}
	archive_read_free(ar);
	ar = NULL;

	if (nidx == 0 && rejected == 0) {
		xasprintf(&cause, "zip has no member to read");
		goto out;
	}
	for (i = 0; i < nidx && sc->stop == NULL; i++) {
		next = tmp;
		next.nlayers = 1;
		next.layers[0].type = MIME_STAGE_ZIP;
		next.layers[0].index = idx[i];
		next.member = names[i];
		scan_content(sc, lf, zmem, zlen, &next);
	}
	goto out;

fail:
	xasprintf(&cause, "zip: %s", archive_error_string(ar) != NULL ?
	    archive_error_string(ar) : "not a readable archive");
out:
	if (ar != NULL)
		archive_read_free(ar);
	if (cause != NULL)
		bad_part(sc, lf, &tmp, MIME_KIND_UNKNOWN, cause);
	for (i = 0; i < nidx; i++)
		free(names[i]);
	free(names);
	free(idx);
}

/* Fill the provenance; container goes into cbuf. */
static void
fill_payload(struct mime_payload *p, struct leaf *lf, struct chain *ch,
    char *cbuf, size_t clen)
{
	memset(p, 0, sizeof *p);
	p->mime_path = lf->path;
	p->content_type = lf->content_type;
	p->filename = lf->filename;
	p->transfer_encoding = lf->transfer_encoding;
	p->zip_member = ch->member;
	p->encoded_bytes = lf->encoded_bytes;
	(void)g_strlcpy(cbuf, ch->prefix, clen);
	p->container = cbuf;
}

/* Call the payload callback, within max_payloads. */
static void
hand_out(struct scan *sc, struct leaf *lf, struct chain *ch,
    enum mime_kind kind, struct mime_stream *s)
{
	struct mime_payload	 p;
	char			 cbuf[sizeof ch->prefix + 8], *cause = NULL;

	if (sc->stop != NULL || scan_tell(sc, NULL) != 0)
		return;
	if (sc->npayloads >= sc->lim->max_payloads) {
		xasprintf(&sc->stop, "more than %u payloads",
		    sc->lim->max_payloads);
		sc->stop_status = MIME_INVALID;
		return;
	}
	fill_payload(&p, lf, ch, cbuf, sizeof cbuf);
	p.kind = kind;
	if (ch->prefix[0] == '\0')
		(void)g_strlcpy(cbuf, "inline", sizeof cbuf);
	else
		(void)g_strlcat(cbuf, mime_kind_name(kind), sizeof cbuf);
	p.stream = s;
	if (kind == MIME_KIND_ARF && sc->arf != NULL) {
		p.arf_report_type = sc->arf->report_type;
		if (sc->arf->have_text) {
			p.arf_text = sc->arf->text.data;
			p.arf_text_len = sc->arf->text.len;
		}
		if (sc->arf->have_original) {
			p.arf_original = sc->arf->original.data;
			p.arf_original_len = sc->arf->original.len;
			p.arf_headers_only = sc->arf->headers_only;
		}
		p.arf_plain = !sc->arf->has_feedback;
	}
	sc->npayloads++;
	if (sc->fn(&p, sc->arg, &cause) == -1) {
		sc->stop = cause != NULL ? cause :
		    xstrdup("payload callback failed");
		sc->stop_status = MIME_ABORTED;
	} else
		free(cause);
}

/* Report a bad part; keep the first cause.  Takes cause. */
static void
bad_part(struct scan *sc, struct leaf *lf, struct chain *ch,
    enum mime_kind kind, char *cause)
{
	struct mime_payload	 p;
	char			 cbuf[sizeof ch->prefix];
	size_t			 l;

	if (sc->badfn != NULL && scan_tell(sc, NULL) == 0) {
		fill_payload(&p, lf, ch, cbuf, sizeof cbuf);
		p.kind = kind;
		if ((l = strlen(cbuf)) == 0)
			p.container = NULL;
		else
			cbuf[l - 1] = '\0';
		sc->badfn(&p, cause, sc->arg);
	}
	if (sc->first_bad == NULL)
		sc->first_bad = cause;
	else
		free(cause);
}

/* Length of the blank lines some stored mails start with. */
static size_t
blank_lines(const char *buf, size_t len)
{
	size_t	 i, end = 0;

	for (i = 0; i < len; i++) {
		if (buf[i] == '\n')
			end = i + 1;
		else if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r')
			break;
	}
	return (end);
}

/* Is the input a bare payload rather than a mail? */
static int
is_bare(const unsigned char *p, size_t len)
{
	size_t	 i = 0;

	if (len >= 2 && ((p[0] == 0xff && p[1] == 0xfe) ||
	    (p[0] == 0xfe && p[1] == 0xff)))
		return (1);
	if (len >= 2 && (p[0] == 0x1f && p[1] == 0x8b))
		return (1);
	if (len >= 4 && memcmp(p, "PK\003\004", 4) == 0)
		return (1);
	if (len >= 2 && p[0] == 0x78 && (p[1] == 0x01 || p[1] == 0x5e ||
	    p[1] == 0x9c || p[1] == 0xda))
		return (1);
	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	return (i < len && (p[i] == '<' || p[i] == '{'));
}

/*
 * Sniff content by its first bytes.  strict (text/plain without a name)
 * accepts only something that starts like an XML document.
 */
static enum sniff
sniff(const unsigned char *p, size_t n, int strict)
{
	size_t	 i = 0;

	if (!strict) {
		if (n >= 2 && p[0] == 0x1f && p[1] == 0x8b)
			return (SNIFF_GZIP);
		if (n >= 4 && (memcmp(p, "PK\003\004", 4) == 0 ||
		    memcmp(p, "PK\005\006", 4) == 0))
			return (SNIFF_ZIP);
		if (n >= 2 && p[0] == 0x78 && (p[1] == 0x01 || p[1] == 0x5e ||
		    p[1] == 0x9c || p[1] == 0xda))
			return (SNIFF_ZLIB);
	}
	if (n >= 4 && ((p[0] == 0xff && p[1] == 0xfe && p[2] == '<' &&
	    p[3] == 0) || (p[0] == 0xfe && p[1] == 0xff && p[2] == 0 &&
	    p[3] == '<')))
		return (SNIFF_XML);
	if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (i == n)
		return (SNIFF_NONE);
	if (strict && !((n - i >= 5 && strncasecmp((const char *)p + i,
	    "<?xml", 5) == 0) || (n - i >= 9 &&
	    strncasecmp((const char *)p + i, "<feedback", 9) == 0)))
		return (SNIFF_NONE);
	if (p[i] == '<')
		return (sniff_root(p, n, i));
	if (p[i] == '{')
		return (SNIFF_JSON);
	return (SNIFF_NONE);
}

/* Past the first needle at or after p, or NULL when it is not there. */
static const unsigned char *
skip_to(const unsigned char *p, const unsigned char *end, const char *needle)
{
	const unsigned char	*q;
	size_t			 nlen = strlen(needle);

	q = memmem(p, (size_t)(end - p), needle, nlen);
	return (q != NULL ? q + nlen : NULL);
}

/*
 * XML starting at p + i: skip the declaration, comments and processing
 * instructions, then look at the root element's local name (a DOCTYPE is
 * XML: the report parser refuses it and says so, where skipping an
 * internal subset here could stop at its first '>'):
 * other XML is a root that is not feedback with no feedback in the peek.
 * When the peek ends first, say XML and let the report parser judge.
 */
static enum sniff
sniff_root(const unsigned char *p, size_t n, size_t i)
{
	const unsigned char	*q = p + i, *end = p + n, *name, *local;

	for (;;) {
		while (q < end && (*q == ' ' || *q == '\t' || *q == '\r' ||
		    *q == '\n'))
			q++;
		if (q == end)
			return (SNIFF_XML);
		if (*q != '<')
			return (SNIFF_NONE);
		if (end - q >= 2 && q[1] == '?')
			q = skip_to(q + 2, end, "?>");
		else if (end - q >= 9 && memcmp(q, "<!DOCTYPE", 9) == 0)
			return (SNIFF_XML);	/* the parser refuses DTDs */
		else if (end - q >= 4 && memcmp(q, "<!--", 4) == 0)
			q = skip_to(q + 4, end, "-->");
		else if (end - q >= 2 && q[1] == '!')
			q = skip_to(q + 2, end, ">");
		else
			break;
		if (q == NULL)
			return (SNIFF_XML);
	}
	name = local = ++q;
	if (q == end)
		return (SNIFF_XML);
	if (!g_ascii_isalpha(*q) && *q != '_' && *q != ':' && *q < 0x80)
		return (SNIFF_NONE);
	while (q < end && (g_ascii_isalnum(*q) || *q == '_' || *q == ':' ||
	    *q == '-' || *q == '.' || *q >= 0x80)) {
		if (*q == ':')
			local = q + 1;
		q++;
	}
	if (q == end)
		return (SNIFF_XML);
	if (q - local == 8 && memcmp(local, "feedback", 8) == 0)
		return (SNIFF_XML);
	/* A wrapper around feedback (IKEA's xs:schema) still counts. */
	if (memmem(name, (size_t)(end - name), "feedback", 8) != NULL)
		return (SNIFF_XML);
	return (SNIFF_OTHER_XML);
}

/* Drop control characters and cap the length at a UTF-8 boundary. */
static char *
sanitise(const char *s)
{
	char	*out;
	size_t	 i, o;

	out = xmalloc(strlen(s) + 1);
	for (i = o = 0; s[i] != '\0'; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			continue;
		out[o++] = s[i];
	}
	if (o > MIME_NAME_MAX) {
		o = MIME_NAME_MAX;
		while (o > 0 && ((unsigned char)out[o] & 0xc0) == 0x80)
			o--;
	}
	out[o] = '\0';
	return (out);
}

/* Unfold a header value: whitespace runs become one space, ends trimmed. */
static char *
unfold(const char *s)
{
	char	*out;
	size_t	 i, o;
	int	 space = 0;

	out = xmalloc(strlen(s) + 1);
	for (i = o = 0; s[i] != '\0'; i++) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' ||
		    s[i] == '\n') {
			space = 1;
			continue;
		}
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			continue;
		if (space && o > 0)
			out[o++] = ' ';
		space = 0;
		out[o++] = s[i];
	}
	out[o] = '\0';
	return (out);
}
