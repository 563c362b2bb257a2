/*
 * tst_mime.c: mime_scan against fixtures built here (zlib and libarchive's
 * writer, so no binary is committed) and against the real corpus described
 * by $DMARC_CORPUS/CATALOG.tsv.
 *
 * The fixture table says, for each input, the expected status, payloads
 * (kind, MIME path, container, zip member), bad parts and causes.  Every
 * payload is read through mime_stream_read, so decompression errors and
 * caps show up as read failures.  The corpus part checks each catalogued
 * file by its kind; the few places where the catalog is wrong are listed
 * as exceptions with the reason.
 */
#include "config.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "common/common.h"
#include "mime/mime.h"
#include "mime/mime_p.h"
#include "tests/tst.h"

#define HEAD_MAX	65536		/* bytes of each payload kept */

#if defined(__SANITIZE_ADDRESS__) || defined(HAVE_ASAN) || \
    defined(HAVE_FUZZING)
#define TST_SANITIZED	1
#else
#define TST_SANITIZED	0
#endif
#define MEM_CAP_KIB	(64 * 1024)	/* peak of one hostile scan */
#define GOT_MAX		32

enum read_mode {
	READ_FULL,
	READ_NONE,
	READ_PART,
	READ_REWIND			/* read, rewind, read again */
};

struct got_payload {
	enum mime_kind	 kind;
	char		 path[32];
	char		 container[64];
	char		 member[256];
	int		 has_member;
	char		 filename[256];
	char		 tenc[32];
	uint64_t	 records;	/* record start tags read */
	char		*head;		/* first HEAD_MAX bytes, NUL ended */
	size_t		 headlen;
	uint64_t	 bytes;
	int		 read_failed;
	char		 cause[256];
	unsigned char	 sha[32];
	int		 rewind_ok;	/* READ_REWIND: same hash twice */
};

struct got_bad {
	char		 path[32];
	char		 container[64];
	char		 member[256];
	char		 cause[256];
};

struct got {
	enum read_mode	 mode;
	int		 abort_after;	/* callback fails on this payload */
	int		 n;
	struct got_payload p[GOT_MAX];
	int		 nbad;
	struct got_bad	 bad[GOT_MAX];
	/* mime_scan_facts: what the facts callback was told, and when. */
	int		 facts_on;	/* a facts scan: payloads need them */
	int		 facts_refuse;	/* the callback says stop */
	int		 told;		/* times it was called */
	int		 told_late;	/* a payload or bad part came first */
	struct mime_info facts;		/* copies */
};

/* A fixture: a builder and what mime_scan must say about it. */
struct fixture {
	const char	*name;
	char		*(*build)(size_t *);
	void		 (*limits)(struct mime_limits *);
	enum read_mode	 mode;
	enum mime_status status;
	const char	*cause;		/* substring of the scan cause */
	int		 npayloads;
	enum mime_kind	 kind;		/* of payload 0 */
	const char	*path;		/* of payload 0 */
	const char	*container;	/* of payload 0 */
	const char	*member;	/* of payload 0, NULL: none */
	const char	*read_cause;	/* payload 0 must fail reading so */
	int		 nbad;
	const char	*bad_cause;	/* substring of bad part 0 */
	const char	*want;		/* payload 0 ends so, if set */
	const char	*filename;	/* of payload 0, if set */
	const char	*tenc;		/* of payload 0, if set */
};

static int	 on_payload(struct mime_payload *, void *, char **);
static void	 on_bad(const struct mime_payload *, const char *, void *);
static void	 got_free(struct got *);
static uint64_t	 count_records(int *, char *, size_t *, const char *,
		    size_t);
static int	 contains_ci(const char *, size_t, const char *);
static char	*gz(const void *, size_t, size_t *);
static char	*deflate_mem(const void *, size_t, int, size_t *);
static char	*zip_build(const char **, const char **, const size_t *, int,
		    size_t *);
static char	*mail_gz(const char *, const char *, const char *, size_t *);
static char	*mail_single(const char *, const char *, const void *, size_t,
		    size_t *);
static char	*b64(const void *, size_t);
static const char *xml_doc(void);
static void	 run_fixture(const struct fixture *);
static void	 test_info(void);
static void	 test_date(void);
static void	 test_rewind(void);
static void	 test_bomb(void);
static void	 test_encrypted(void);
static void	 test_abort(void);
static void	 test_facts(void);
static void	 test_corpus(void);
static void	 test_hostile(void);

/* Fixture builders. */
static char	*fx_zip_two(size_t *);
static char	*fx_zip_as_gzip(size_t *);
static char	*fx_nested_rfc822(size_t *);
static char	*fx_nested_single(size_t *);
static char	*fx_alternative(size_t *);
static char	*fx_zip_twenty(size_t *);
static char	*fx_gzip_truncated_early(size_t *);
static char	*fx_gzip_truncated_late(size_t *);
static char	*fx_gzip_multi(size_t *);
static char	*fx_zlib(size_t *);
static char	*fx_unused(size_t *);
static char	*fx_zip_gzip(size_t *);
static char	*fx_zip_three(size_t *);
static char	*fx_arf(size_t *);
static char	*fx_json_gz(size_t *);
static char	*fx_text_xml(size_t *);
static char	*fx_text_html_only(size_t *);
static char	*fx_contenttype_typo(size_t *);
static char	*fx_big_attachment(size_t *);
static char	*fx_bare_xml_bom(size_t *);
static char	*fx_empty(size_t *);
static char	*fx_deep(size_t *);
static char	*fx_gzip_zip(size_t *);
static void	 lim_zip16(struct mime_limits *);
static void	 lim_depth1(struct mime_limits *);
static void	 lim_payloads2(struct mime_limits *);
static void	 lim_decoded1000(struct mime_limits *);
static void	 lim_mime4(struct mime_limits *);
static char	*fx_zip_big(size_t *);
static char	*fx_outlook(size_t *);
static char	*fx_blank_space(size_t *);
static char	*fx_blank_first(size_t *);
static char	*fx_b64_odd(size_t *);
static char	*fx_mixed_eol(size_t *);
static char	*fx_gzip_gzip(size_t *);
static char	*fx_related(size_t *);
static char	*fx_two_reports(size_t *);
static char	*fx_many_parts(size_t *);
static char	*fx_long_header(size_t *);
static char	*fx_many_headers(size_t *);
static char	*fx_non_dmarc_xml(size_t *);
static char	*fx_dtd_gzip(size_t *);
static void	 lim_header1000(struct mime_limits *);
static void	 lim_headers50(struct mime_limits *);
static void	 lim_payload1000(struct mime_limits *);

static const struct fixture fixtures[] = {
	{ "zip with two members, __MACOSX, dir, dot-file", fx_zip_two, NULL,
	  READ_FULL, MIME_OK, NULL, 2, MIME_KIND_XML, "", "zip>xml",
	  "a.xml", NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "zip labelled application/gzip", fx_zip_as_gzip, NULL, READ_FULL,
	  MIME_OK, NULL, 1, MIME_KIND_XML, "1", "zip>xml",
	  "example.com!example.org!1!2.xml", NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "nested message/rfc822, multipart", fx_nested_rfc822, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "2.2", "gzip>xml",
	  NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "nested message/rfc822, single part", fx_nested_single, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "2.1", "gzip>xml",
	  NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "multipart/alternative with HTML first", fx_alternative, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "2", "gzip>xml", NULL,
	  NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "zip with 20 entries, cap 16", fx_zip_twenty, lim_zip16, READ_FULL,
	  MIME_INVALID, "zip has more than 16 entries", 0, 0, NULL, NULL,
	  NULL, NULL, 1, "zip has more than 16 entries", NULL, NULL,
	  NULL },
	{ "gzip truncated in the header", fx_gzip_truncated_early, NULL,
	  READ_FULL, MIME_INVALID, "gzip: unexpected end of data", 0, 0,
	  NULL, NULL, NULL, NULL, 1, "unexpected end", NULL, NULL,
	  NULL },
	{ "gzip truncated after the peek", fx_gzip_truncated_late, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "", "gzip>xml", NULL,
	  "gzip: unexpected end of data", 0, NULL, NULL, NULL,
	  NULL },
	{ "multi-member gzip with trailing garbage", fx_gzip_multi, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "", "gzip>xml", NULL,
	  NULL, 0, NULL, "<feedback>\n<report_metadata/>\n</feedback>\n", NULL,
	  NULL },
	{ "bare zlib", fx_zlib, NULL, READ_FULL, MIME_OK, NULL, 1,
	  MIME_KIND_XML, "", "zlib>xml", NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "Yahoo \"unused\" gzip", fx_unused, NULL, READ_FULL,
	  MIME_INVALID, "neither XML nor JSON", 0, 0, NULL, NULL, NULL, NULL,
	  1, "gzip content is neither XML nor JSON (starts \"unused\")", NULL,
	  NULL,
	  NULL },
	{ "zip holding a gzip", fx_zip_gzip, NULL, READ_FULL, MIME_OK, NULL,
	  1, MIME_KIND_XML, "1", "zip>gzip>xml", "r.xml.gz", NULL, 0, NULL,
	  NULL, NULL,
	  NULL },
	{ "zip holding a gzip, max_depth 1", fx_zip_gzip, lim_depth1,
	  READ_FULL, MIME_INVALID, "nested deeper than 1", 0, 0, NULL, NULL,
	  NULL, NULL, 1, "nested deeper than 1", NULL, NULL,
	  NULL },
	{ "gzip holding a zip", fx_gzip_zip, NULL, READ_FULL, MIME_OK, NULL,
	  1, MIME_KIND_XML, "", "gzip>zip>xml", "in.xml", NULL, 0, NULL, NULL,
	  NULL,
	  NULL },
	{ "three payloads, max_payloads 2", fx_zip_three, lim_payloads2,
	  READ_NONE, MIME_INVALID, "more than 2 payloads", 2, MIME_KIND_XML,
	  "", "zip>xml", "1.xml", NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "ARF in multipart/report, original not scanned", fx_arf, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_ARF, "2", "inline", NULL,
	  NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "TLS report JSON in gzip", fx_json_gz, NULL, READ_PART, MIME_OK,
	  NULL, 1, MIME_KIND_JSON, "1", "gzip>json", NULL, NULL, 0, NULL, NULL,
	  NULL,
	  NULL },
	{ "text/plain XML body", fx_text_xml, NULL, READ_FULL, MIME_OK, NULL,
	  1, MIME_KIND_XML, "1", "inline", NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "HTML-only body", fx_text_html_only, NULL, READ_FULL,
	  MIME_NONE, "no report attachment (parts: text/plain, text/html)",
	  0, 0, NULL, NULL, NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "ContentType: typo with a file name", fx_contenttype_typo,
	  NULL, READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "1", "gzip>xml",
	  NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "attachment over max_decoded", fx_big_attachment, lim_decoded1000,
	  READ_FULL, MIME_INVALID, "attachment over 1000 bytes", 0, 0, NULL,
	  NULL, NULL, NULL, 1, "attachment over 1000 bytes", NULL, NULL,
	  NULL },
	{ "bare XML with a BOM and blank lines", fx_bare_xml_bom, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "", "inline", NULL,
	  NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "empty input", fx_empty, NULL, READ_FULL, MIME_NONE, "", 0, 0, NULL,
	  NULL, NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "MIME nesting over max_mime_depth", fx_deep, lim_mime4, READ_FULL,
	  MIME_INVALID, "MIME nesting over 4 levels", 0, 0, NULL, NULL, NULL,
	  NULL, 1, "MIME nesting over 4 levels", NULL, NULL,
	  NULL },
	{ "zip member declaring more than max_payload", fx_zip_big,
	  lim_payload1000, READ_FULL, MIME_INVALID, "zip member declares "
	  "2000 bytes, over 1000", 0, 0, NULL, NULL, NULL, NULL, 1,
	  "zip member declares", NULL, NULL,
	  NULL },
	{ "Outlook part with a colon-less name= header line", fx_outlook,
	  NULL, READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "2", "gzip>xml",
	  NULL, NULL, 0, NULL, NULL, "enterprise.protection.outlook.com!"
	  "example.de!1709251200!1709337600.xml.gz", "base64" },
	{ "header block ended by a line holding a space", fx_blank_space,
	  NULL, READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "1", "gzip>xml",
	  NULL, NULL, 0, NULL, NULL, "r.xml.gz", "base64" },
	{ "blank lines before the first header", fx_blank_first, NULL,
	  READ_FULL, MIME_OK, NULL, 1, MIME_KIND_XML, "1", "gzip>xml", NULL,
	  NULL, 0, NULL, NULL, "r.xml.gz", "base64" },
	{ "base64 with odd line lengths", fx_b64_odd, NULL, READ_FULL,
	  MIME_OK, NULL, 1, MIME_KIND_XML, "1", "gzip>xml", NULL, NULL, 0,
	  NULL, "</feedback>\n", "r.xml.gz", "base64" },
	{ "CRLF and LF mixed in one message", fx_mixed_eol, NULL, READ_FULL,
	  MIME_OK, NULL, 1, MIME_KIND_XML, "2", "gzip>xml", NULL, NULL, 0,
	  NULL, "</feedback>\n", "r.xml.gz", "base64" },
	{ "gzip inside gzip", fx_gzip_gzip, NULL, READ_FULL, MIME_OK, NULL, 1,
	  MIME_KIND_XML, "1", "gzip>gzip>xml", NULL, NULL, 0, NULL,
	  "</feedback>\n", NULL, NULL },
	{ "multipart/related", fx_related, NULL, READ_FULL, MIME_OK, NULL, 1,
	  MIME_KIND_XML, "2", "gzip>xml", NULL, NULL, 0, NULL, NULL,
	  "r.xml.gz", NULL },
	{ "two reports in one message", fx_two_reports, NULL, READ_FULL,
	  MIME_OK, NULL, 2, MIME_KIND_XML, "2", "gzip>xml", NULL, NULL, 0,
	  NULL, NULL, "a.xml.gz", NULL },
	{ "1005 MIME parts, max_parts 1000", fx_many_parts, NULL, READ_FULL,
	  MIME_INVALID, "more than 1000 MIME parts", 1, MIME_KIND_XML, "1",
	  "gzip>xml", NULL, NULL, 0, NULL, NULL, NULL, NULL },
	{ "header field over max_header_line", fx_long_header,
	  lim_header1000, READ_FULL, MIME_INVALID, "header field over 1000 "
	  "bytes", 1, MIME_KIND_XML, "1", "gzip>xml", NULL, NULL, 0, NULL,
	  NULL, NULL, NULL },
	{ "header fields over max_headers", fx_many_headers, lim_headers50,
	  READ_FULL, MIME_INVALID, "more than 50 header fields", 1,
	  MIME_KIND_XML, "1", "gzip>xml", NULL, NULL, 0, NULL, NULL, NULL,
	  NULL },
	{ "XML whose root is not feedback", fx_non_dmarc_xml, NULL,
	  READ_FULL, MIME_INVALID, "not a DMARC report", 0, 0, NULL, NULL,
	  NULL, NULL, 1, "zip content is XML but not a DMARC report", NULL,
	  NULL, NULL },
	/* The report parser refuses the DTD and says so; mime only finds
	   XML (it used to stop at the internal subset's first '>'). */
	{ "gzip'd XML with an internal DTD", fx_dtd_gzip, NULL, READ_FULL,
	  MIME_OK, NULL, 1, MIME_KIND_XML, "1", "gzip>xml", NULL, NULL, 0,
	  NULL, NULL, NULL, NULL },
};

/*
 * Corpus files whose catalog row does not hold for this scanner.  Each
 * entry overrides the kind rule with an explicit expectation.
 */
struct exception {
	const char	*path;
	enum mime_status status;
	const char	*why;
};
static const struct exception exceptions[] = {
	{ NULL, 0, NULL }
};

/* Hex of a digest, for comparing with the published vectors. */
static void
sha_hex(const unsigned char d[32], char out[65])
{
	int	 i;

	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/*
 * SHA-256 (mime-sha.c) against the FIPS 180-2 vectors, in one call and in
 * uneven steps: every other SHA check here compares two of its results.
 */
static void
test_sha(void)
{
	static const struct {
		const char	*in;
		size_t		 repeat;
		const char	*want;
	} v[] = {
		{ "", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca4959"
		  "91b7852b855" },
		{ "abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb41"
		  "0ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419d"
		  "b06c1" },
		{ "a", 1000000, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200"
		  "e046d39ccc7112cd0" },
	};
	struct mime_sha	*h;
	unsigned char	 d[32];
	char		 hex[65], *buf;
	size_t		 i, k, len, off, step;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		len = strlen(v[i].in) * v[i].repeat;
		buf = xmalloc(len + 1);
		for (k = 0; k < v[i].repeat; k++)
			memcpy(buf + k * strlen(v[i].in), v[i].in,
			    strlen(v[i].in));
		mime_sha256(buf, len, d);
		sha_hex(d, hex);
		CHECK_STR(hex, v[i].want);
		h = mime_sha_new();
		for (off = 0, step = 1; off < len; off += step, step = step * 3 + 1)
			mime_sha_add(h, buf + off,
			    step < len - off ? step : len - off);
		mime_sha_end(h, d);
		sha_hex(d, hex);
		CHECK_STR(hex, v[i].want);
		free(buf);
	}
	mime_sha_free(mime_sha_new());	/* dropped unfinished: no leak */
}

int
main(void)
{
	size_t	 i;

	log_init(LOG_TO_STDERR, 0);
	mime_init();
	for (i = 0; i < sizeof fixtures / sizeof fixtures[0]; i++)
		run_fixture(&fixtures[i]);
	test_sha();
	test_info();
	test_date();
	test_rewind();
	test_encrypted();
	test_abort();
	test_facts();
	test_bomb();
	test_hostile();
	test_corpus();
	mime_shutdown();
	return (TST_DONE());
}

static int
on_payload(struct mime_payload *p, void *arg, char **cause)
{
	struct got		*g = arg;
	struct got_payload	*gp;
	unsigned char		 sha2[32];
	char			 chunk[8192], tag[64], *rc = NULL;
	ssize_t			 n;
	uint64_t		 b2;
	size_t			 tlen;
	int			 pass, passes, tstate;

	if (g->facts_on && g->told == 0)
		g->told_late++;
	if (g->n >= GOT_MAX)
		return (0);
	gp = &g->p[g->n++];
	memset(gp, 0, sizeof *gp);
	gp->kind = p->kind;
	snprintf(gp->path, sizeof gp->path, "%s", p->mime_path);
	snprintf(gp->container, sizeof gp->container, "%s", p->container);
	if (p->zip_member != NULL) {
		gp->has_member = 1;
		snprintf(gp->member, sizeof gp->member, "%s", p->zip_member);
	}
	if (p->filename != NULL)
		snprintf(gp->filename, sizeof gp->filename, "%s",
		    p->filename);
	if (p->transfer_encoding != NULL)
		snprintf(gp->tenc, sizeof gp->tenc, "%s",
		    p->transfer_encoding);
	if (g->abort_after != 0 && g->n == g->abort_after) {
		*cause = xstrdup("stop here");
		return (-1);
	}
	if (g->mode == READ_NONE)
		return (0);
	gp->head = xmalloc(HEAD_MAX + 1);
	passes = g->mode == READ_REWIND ? 2 : 1;
	for (pass = 0; pass < passes; pass++) {
		gp->headlen = 0;
		gp->records = 0;
		tstate = 0;
		tlen = 0;
		while ((n = mime_stream_read(p->stream, chunk, sizeof chunk,
		    &rc)) > 0) {
			gp->records += count_records(&tstate, tag, &tlen,
			    chunk, (size_t)n);
			if (gp->headlen < HEAD_MAX) {
				size_t	 k = (size_t)n;

				if (k > HEAD_MAX - gp->headlen)
					k = HEAD_MAX - gp->headlen;
				memcpy(gp->head + gp->headlen, chunk, k);
				gp->headlen += k;
			}
			if (g->mode == READ_PART)
				break;
		}
		gp->head[gp->headlen] = '\0';
		if (n == -1) {
			gp->read_failed = 1;
			snprintf(gp->cause, sizeof gp->cause, "%s", rc);
			free(rc);
			rc = NULL;
			break;
		}
		if (pass == 0)
			mime_stream_stats(p->stream, &gp->bytes, gp->sha);
		else {
			mime_stream_stats(p->stream, &b2, sha2);
			gp->rewind_ok = b2 == gp->bytes &&
			    memcmp(sha2, gp->sha, 32) == 0;
		}
		if (pass + 1 < passes &&
		    mime_stream_rewind(p->stream, &rc) == -1) {
			snprintf(gp->cause, sizeof gp->cause, "%s", rc);
			free(rc);
			break;
		}
	}
	return (0);
}

/*
 * Count record start tags by local name across chunks: "<record>",
 * "<record " or "<prefix:record" followed by ">" or a blank.  *state is 1
 * inside a tag name (kept in tag, *tlen bytes; a longer name is dropped).
 */
static uint64_t
count_records(int *state, char *tag, size_t *tlen, const char *p, size_t n)
{
	uint64_t	 count = 0;
	const char	*local;
	size_t		 i;
	char		 c;

	for (i = 0; i < n; i++) {
		c = p[i];
		if (*state == 0) {
			if (c == '<') {
				*state = 1;
				*tlen = 0;
			}
			continue;
		}
		if (isalnum((unsigned char)c) || c == ':' || c == '_' ||
		    c == '-' || c == '.') {
			if (*tlen < 63)
				tag[(*tlen)++] = c;
			else
				*tlen = 64;	/* too long: no match */
			continue;
		}
		*state = 0;
		if ((c == '>' || c == ' ' || c == '\t' || c == '\r' ||
		    c == '\n') && *tlen <= 63) {
			tag[*tlen] = '\0';
			local = strrchr(tag, ':');
			local = local != NULL ? local + 1 : tag;
			if (strcmp(local, "record") == 0)
				count++;
		}
		if (c == '<') {
			*state = 1;
			*tlen = 0;
		}
	}
	return (count);
}

/* mime_facts_fn: keep a copy of the facts; stop when told to. */
static int
on_facts(const struct mime_info *mi, void *arg)
{
	struct got	*g = arg;

	if (g->told++ == 0) {
		g->facts.message_id = mi->message_id != NULL ?
		    xstrdup(mi->message_id) : NULL;
		g->facts.from = mi->from != NULL ? xstrdup(mi->from) : NULL;
		g->facts.subject = mi->subject != NULL ?
		    xstrdup(mi->subject) : NULL;
		g->facts.auth_results = mi->auth_results != NULL ?
		    xstrdup(mi->auth_results) : NULL;
		g->facts.date = mi->date;
	}
	return (g->facts_refuse ? -1 : 0);
}

/* Two sets of facts are the same (NULL equals only NULL). */
static int
facts_equal(const struct mime_info *a, const struct mime_info *b)
{
	return (a->date == b->date &&
	    g_strcmp0(a->message_id, b->message_id) == 0 &&
	    g_strcmp0(a->from, b->from) == 0 &&
	    g_strcmp0(a->subject, b->subject) == 0 &&
	    g_strcmp0(a->auth_results, b->auth_results) == 0);
}

static void
on_bad(const struct mime_payload *p, const char *cause, void *arg)
{
	struct got	*g = arg;
	struct got_bad	*b;

	if (g->facts_on && g->told == 0)
		g->told_late++;
	if (g->nbad >= GOT_MAX)
		return;
	b = &g->bad[g->nbad++];
	memset(b, 0, sizeof *b);
	if (p->stream != NULL)
		snprintf(b->cause, sizeof b->cause, "BUG: stream set");
	else
		snprintf(b->cause, sizeof b->cause, "%s", cause);
	snprintf(b->path, sizeof b->path, "%s", p->mime_path);
	snprintf(b->container, sizeof b->container, "%s",
	    p->container != NULL ? p->container : "");
	snprintf(b->member, sizeof b->member, "%s",
	    p->zip_member != NULL ? p->zip_member : "");
}

static void
got_free(struct got *g)
{
	int	 i;

	for (i = 0; i < g->n; i++)
		free(g->p[i].head);
	mime_info_free(&g->facts);
}

static int
contains_ci(const char *h, size_t hlen, const char *needle)
{
	size_t	 i, j, nlen = strlen(needle);

	for (i = 0; i + nlen <= hlen; i++) {
		for (j = 0; j < nlen; j++)
			if (tolower((unsigned char)h[i + j]) != needle[j])
				break;
		if (j == nlen)
			return (1);
	}
	return (0);
}

static void
run_fixture(const struct fixture *f)
{
	struct mime_limits	 lim;
	struct mime_info	 info;
	struct got		 g;
	enum mime_status	 st;
	char			*in, *cause = NULL;
	size_t			 len;

	mime_limits_default(&lim);
	if (f->limits != NULL)
		f->limits(&lim);
	in = f->build(&len);
	memset(&g, 0, sizeof g);
	g.mode = f->mode;
	st = mime_scan_all(in, len, &lim, &info, on_payload, on_bad, &g,
	    &cause);
	if (st != f->status || g.n != f->npayloads || g.nbad != f->nbad)
		fprintf(stderr, "fixture \"%s\": status %d, %d payloads, "
		    "%d bad, cause %s\n", f->name, st, g.n, g.nbad,
		    cause != NULL ? cause : "(none)");
	CHECK_INT(st, f->status);
	CHECK_INT(g.n, f->npayloads);
	CHECK_INT(g.nbad, f->nbad);
	if (f->cause != NULL)
		CHECK(cause != NULL && strstr(cause, f->cause) != NULL);
	else
		CHECK(cause == NULL);
	if (f->npayloads > 0 && g.n > 0) {
		CHECK_INT(g.p[0].kind, f->kind);
		CHECK_STR(g.p[0].path, f->path);
		CHECK_STR(g.p[0].container, f->container);
		CHECK_STR(g.p[0].has_member ? g.p[0].member : NULL,
		    f->member);
		if (f->read_cause != NULL) {
			CHECK(g.p[0].read_failed);
			CHECK(strstr(g.p[0].cause, f->read_cause) != NULL);
		} else
			CHECK(!g.p[0].read_failed);
		if (f->filename != NULL)
			CHECK_STR(g.p[0].filename, f->filename);
		if (f->tenc != NULL)
			CHECK_STR(g.p[0].tenc, f->tenc);
		if (f->want != NULL)
			CHECK(g.p[0].headlen >= strlen(f->want) &&
			    strcmp(g.p[0].head + g.p[0].headlen -
			    strlen(f->want), f->want) == 0);
		if (f->mode == READ_FULL && f->read_cause == NULL &&
		    f->kind == MIME_KIND_XML)
			CHECK(contains_ci(g.p[0].head, g.p[0].headlen,
			    "<feedback"));
	}
	if (f->bad_cause != NULL && g.nbad > 0) {
		if (strstr(g.bad[0].cause, f->bad_cause) == NULL)
			fprintf(stderr, "fixture \"%s\": bad cause \"%s\"\n",
			    f->name, g.bad[0].cause);
		CHECK(strstr(g.bad[0].cause, f->bad_cause) != NULL);
	}
	mime_info_free(&info);
	got_free(&g);
	free(cause);
	free(in);
}

/* --- building blocks ------------------------------------------------ */

static const char *
xml_doc(void)
{
	return ("<?xml version=\"1.0\"?>\n<feedback>\n  <report_metadata>"
	    "<org_name>example.org</org_name><report_id>r1</report_id>"
	    "</report_metadata>\n  <policy_published><domain>example.com"
	    "</domain><p>none</p></policy_published>\n</feedback>\n");
}

/* Deflate into a gzip (wbits 31) or zlib (wbits 15) stream. */
static char *
deflate_mem(const void *data, size_t len, int wbits, size_t *outlen)
{
	z_stream	 z;
	char		*out;
	size_t		 cap;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 9, Z_DEFLATED, wbits, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK)
		fatalx("deflateInit2");
	cap = deflateBound(&z, len) + 64;
	out = xmalloc(cap);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap;
	if (deflate(&z, Z_FINISH) != Z_STREAM_END)
		fatalx("deflate");
	*outlen = cap - z.avail_out;
	deflateEnd(&z);
	return (out);
}

static char *
gz(const void *data, size_t len, size_t *outlen)
{
	return (deflate_mem(data, len, 31, outlen));
}

/*
 * A zip of named entries; a name ending in '/' is a directory.  lens may
 * be NULL for NUL-terminated data.
 */
static char *
zip_build(const char **names, const char **datas, const size_t *lens, int n,
    size_t *outlen)
{
	struct archive		*a;
	struct archive_entry	*e;
	size_t			 cap = 1 << 20, used = 0;
	char			*out;
	int			 i;
	size_t			 dlen;

	out = xmalloc(cap);
	a = archive_write_new();
	archive_write_set_format_zip(a);
	if (archive_write_open_memory(a, out, cap, &used) != ARCHIVE_OK)
		fatalx("archive_write_open_memory: %s",
		    archive_error_string(a));
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		archive_entry_set_pathname(e, names[i]);
		if (lens != NULL)
			dlen = lens[i];
		else
			dlen = datas[i] != NULL ? strlen(datas[i]) : 0;
		if (names[i][strlen(names[i]) - 1] == '/') {
			archive_entry_set_filetype(e, AE_IFDIR);
			archive_entry_set_perm(e, 0755);
			dlen = 0;
		} else {
			archive_entry_set_filetype(e, AE_IFREG);
			archive_entry_set_perm(e, 0644);
		}
		archive_entry_set_size(e, (la_int64_t)dlen);
		if (archive_write_header(a, e) != ARCHIVE_OK)
			fatalx("archive_write_header: %s",
			    archive_error_string(a));
		if (dlen != 0 && archive_write_data(a, datas[i], dlen) !=
		    (la_ssize_t)dlen)
			fatalx("archive_write_data");
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	*outlen = used;
	return (out);
}

static char *
b64(const void *data, size_t len)
{
	gchar	*g;
	char	*s;

	g = g_base64_encode(data, len);
	s = xstrdup(g);
	g_free(g);
	return (s);
}

/* A single-part mail whose body is one base64 attachment. */
static char *
mail_single(const char *type, const char *name, const void *data,
    size_t len, size_t *outlen)
{
	char	*enc, *m;

	enc = b64(data, len);
	*outlen = (size_t)xasprintf(&m,
	    "From: noreply@example.org\r\nTo: dmarc@example.com\r\n"
	    "Subject: Report domain: example.com Submitter: example.org\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: %s; name=\"%s\"\r\n"
	    "Content-Disposition: attachment; filename=\"%s\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s\r\n",
	    type, name, name, enc);
	free(enc);
	return (m);
}

/* A mail with text gzip'd as its one attachment (type, file name). */
static char *
mail_gz(const char *type, const char *name, const char *text, size_t *len)
{
	char	*z, *m;
	size_t	 zl;

	z = gz(text, strlen(text), &zl);
	m = mail_single(type, name, z, zl, len);
	free(z);
	return (m);
}

/* --- fixtures ------------------------------------------------------- */

static char *
fx_zip_two(size_t *len)
{
	const char *names[] = { "a.xml", "__MACOSX/._a.xml", "dir/",
	    "dir/b.xml", ".hidden.xml", "empty.xml" };
	const char *datas[] = { xml_doc(), "\0\5\26\7junk", NULL,
	    xml_doc(), xml_doc(), "" };

	return (zip_build(names, datas, NULL, 6, len));
}

static char *
fx_zip_as_gzip(size_t *len)
{
	const char *names[] = { "example.com!example.org!1!2.xml" };
	const char *datas[] = { xml_doc() };
	char	*z, *m;
	size_t	 zl;

	z = zip_build(names, datas, NULL, 1, &zl);
	m = mail_single("application/gzip", "example.com!example.org!1!2"
	    ".xml.gz", z, zl, len);
	free(z);
	return (m);
}

static char *
fx_nested_rfc822(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m,
	    "From: gateway@example.net\nSubject: Fwd: report\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
	    "--outer\nContent-Type: text/plain\n\nForwarded report.\n"
	    "--outer\nContent-Type: message/rfc822\n\n"
	    "From: noreply@example.org\nSubject: Report domain: example.com\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"inner\"\n\n"
	    "--inner\nContent-Type: text/plain\n\nThis is a report.\n"
	    "--inner\nContent-Type: application/gzip; name=\"r.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n"
	    "--inner--\n\n--outer--\n", e);
	free(e);
	free(z);
	return (m);
}

static char *
fx_nested_single(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m,
	    "From: gateway@example.net\nSubject: Fwd: report\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"outer\"\n\n"
	    "--outer\nContent-Type: text/plain\n\nForwarded report.\n"
	    "--outer\nContent-Type: message/rfc822\n\n"
	    "From: noreply@example.org\nSubject: Report domain: example.com\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: application/gzip; name=\"r.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n"
	    "\n--outer--\n", e);
	free(e);
	free(z);
	return (m);
}

static char *
fx_alternative(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m,
	    "From: dmarcreport@microsoft.com\n"
	    "Subject: [Preview] Report Domain: example.com\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"m\"\n\n"
	    "--m\nContent-Type: multipart/alternative; boundary=\"a\"\n\n"
	    "--a\nContent-Type: text/html\n\n<html><body><feedback>"
	    "</feedback></body></html>\n"
	    "--a\nContent-Type: text/plain\n\nReport: <feedback> attached\n"
	    "--a--\n"
	    "--m\nContent-Type: application/gzip\n"
	    "Content-Disposition: attachment; filename=\"r.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n--m--\n", e);
	free(e);
	free(z);
	return (m);
}

static char *
fx_zip_twenty(size_t *len)
{
	const char	*names[20], *datas[20];
	char		 nb[20][16];
	int		 i;

	for (i = 0; i < 20; i++) {
		snprintf(nb[i], sizeof nb[i], "r%02d.xml", i);
		names[i] = nb[i];
		datas[i] = xml_doc();
	}
	return (zip_build(names, datas, NULL, 20, len));
}

static char *
fx_gzip_truncated_early(size_t *len)
{
	char	*z;

	z = gz(xml_doc(), strlen(xml_doc()), len);
	*len = 14;
	return (z);
}

/* A 100 KB document of varied text, so that it compresses poorly. */
static char *
big_doc(size_t *len)
{
	struct buf	 b;
	unsigned	 i, x = 12345;
	char		 line[64];

	buf_init(&b, 1 << 20);
	buf_add(&b, "<?xml version=\"1.0\"?>\n<feedback>\n", 33);
	for (i = 0; i < 4000; i++) {
		x = x * 1103515245 + 12345;
		snprintf(line, sizeof line, "<record>%08x%u</record>\n", x,
		    i);
		buf_add(&b, line, strlen(line));
	}
	buf_add(&b, "</feedback>\n", 12);
	return (buf_steal(&b, len));
}

static char *
fx_gzip_truncated_late(size_t *len)
{
	char	*d, *z;
	size_t	 dl;

	d = big_doc(&dl);
	z = gz(d, dl, len);
	*len /= 2;
	free(d);
	return (z);
}

static char *
fx_gzip_multi(size_t *len)
{
	const char	*p1 = "<?xml version=\"1.0\"?>\n<feedback>\n";
	const char	*p2 = "<report_metadata/>\n</feedback>\n";
	char		*a, *b, *out;
	size_t		 al, bl;

	a = gz(p1, strlen(p1), &al);
	b = gz(p2, strlen(p2), &bl);
	out = xmalloc(al + bl + 2);
	memcpy(out, a, al);
	memcpy(out + al, b, bl);
	memcpy(out + al + bl, "\r\n", 2);
	*len = al + bl + 2;
	free(a);
	free(b);
	return (out);
}

static char *
fx_zlib(size_t *len)
{
	return (deflate_mem(xml_doc(), strlen(xml_doc()), 15, len));
}

static char *
fx_unused(size_t *len)
{
	return (mail_gz("application/gzip", "yahoo.com!example.com!1!2.xml.gz",
	    "unused", len));
}

static char *
fx_zip_gzip(size_t *len)
{
	const char *names[] = { "r.xml.gz" };
	const char *datas[1];
	char	*g, *z, *m;
	size_t	 gl, zl;

	g = gz(xml_doc(), strlen(xml_doc()), &gl);
	datas[0] = g;
	z = zip_build(names, datas, &gl, 1, &zl);
	m = mail_single("application/zip", "r.zip", z, zl, len);
	free(g);
	free(z);
	return (m);
}

static char *
fx_gzip_zip(size_t *len)
{
	const char *names[] = { "in.xml" };
	const char *datas[] = { xml_doc() };
	char	*z, *g;
	size_t	 zl;

	z = zip_build(names, datas, NULL, 1, &zl);
	g = gz(z, zl, len);
	free(z);
	return (g);
}

static char *
fx_zip_three(size_t *len)
{
	const char *names[] = { "1.xml", "2.xml", "3.xml" };
	const char *datas[] = { xml_doc(), xml_doc(), xml_doc() };

	return (zip_build(names, datas, NULL, 3, len));
}

static char *
fx_arf(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m,
	    "From: ruf@example.org\nSubject: DMARC failure report\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/report; report-type=feedback-report; "
	    "boundary=\"r\"\n\n"
	    "--r\nContent-Type: text/plain\n\nA failure report.\n"
	    "--r\nContent-Type: message/feedback-report\n\n"
	    "Feedback-Type: auth-failure\nVersion: 1\nAuth-Failure: dmarc\n"
	    "Reported-Domain: example.com\n\n"
	    "--r\nContent-Type: message/rfc822\n\n"
	    "From: someone@example.com\nSubject: the original\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: application/gzip; name=\"x.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n\n--r--\n", e);
	free(e);
	free(z);
	return (m);
}

static char *
fx_json_gz(size_t *len)
{
	return (mail_gz("application/tlsrpt+gzip",
	    "example.org!example.com!1!2.json.gz",
	    "{\"organization-name\":\"Example\",\"policies\":[]}", len));
}

static char *
fx_text_xml(size_t *len)
{
	char	*m;

	*len = (size_t)xasprintf(&m, "From: a@example.org\nSubject: r\n"
	    "Content-Type: text/plain; charset=us-ascii\n\n%s", xml_doc());
	return (m);
}

static char *
fx_text_html_only(size_t *len)
{
	char	*m;

	*len = (size_t)xasprintf(&m, "From: a@example.org\nSubject: r\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/alternative; boundary=\"a\"\n\n"
	    "--a\nContent-Type: text/plain\n\n<b>not a report</b>\n"
	    "--a\nContent-Type: text/html\n\n<html>%s</html>\n--a--\n",
	    xml_doc());
	return (m);
}

static char *
fx_contenttype_typo(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m, "From: a@example.org\nSubject: r\n"
	    "MIME-Version: 1.0\n"
	    "ContentType: application/gzip\n"
	    "Content-Disposition: attachment; filename=\"r.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n", e);
	free(e);
	free(z);
	return (m);
}

static char *
fx_big_attachment(size_t *len)
{
	char	 data[2000];

	memset(data, '<', sizeof data);
	return (mail_single("text/xml", "r.xml", data, sizeof data, len));
}

static char *
fx_bare_xml_bom(size_t *len)
{
	char	*m;

	*len = (size_t)xasprintf(&m, "\xef\xbb\xbf\r\n\r\n%s", xml_doc());
	return (m);
}

static char *
fx_empty(size_t *len)
{
	*len = 0;
	return (xstrdup(""));
}

/* --- broken MIME from real reporters -------------------------------- */

/* The gzip'd document, base64 in lines of the given lengths (0: one). */
static char *
b64_lines(const int *lens, int nlens, const char *eol)
{
	struct buf	 b;
	char		*z, *e;
	size_t		 zl, el, off, k;
	int		 i = 0;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	el = strlen(e);
	buf_init(&b, 1 << 20);
	for (off = 0; off < el; off += k) {
		k = (size_t)lens[i++ % nlens];
		if (k > el - off)
			k = el - off;
		buf_add(&b, e + off, k);
		buf_add(&b, eol, strlen(eol));
	}
	buf_add(&b, "", 1);
	free(z);
	free(e);
	return (buf_steal(&b, &el));
}

/* 2024 Microsoft Enterprise Outlook: "name=" at column 0, no colon. */
static char *
fx_outlook(size_t *len)
{
	static const int	 l76[] = { 76 };
	const char		*n = "enterprise.protection.outlook.com!"
	    "example.de!1709251200!1709337600.xml";
	char			*e, *m;

	e = b64_lines(l76, 1, "\r\n");
	*len = (size_t)xasprintf(&m,
	    "From: DMARC Aggregate Report <dmarcreport@microsoft.com>\r\n"
	    "Subject: Report Domain: example.de Submitter: "
	    "enterprise.protection.outlook.com\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"_b_\"\r\n\r\n"
	    "--_b_\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "This is a DMARC aggregate report.\r\n"
	    "--_b_\r\n"
	    "Content-Type: application/gzip\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-ID: <9fc9ba26-cfff-4d4a-9a5d-1880670bb08a>\r\n"
	    "name=\"%s.gz\"\r\n"
	    "Content-Description: %s\r\n"
	    "Content-Disposition: attachment; filename=\"%s.gz\"\r\n\r\n"
	    "%s--_b_--\r\n", n, n, n, e);
	free(e);
	return (m);
}

/* The header block ends with a line holding one space. */
static char *
fx_blank_space(size_t *len)
{
	static const int	 l76[] = { 76 };
	char			*e, *m;

	e = b64_lines(l76, 1, "\n");
	*len = (size_t)xasprintf(&m, "From: a@example.org\nSubject: r\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: application/gzip\n"
	    "Content-Disposition: attachment; filename=\"r.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n \n%s", e);
	free(e);
	return (m);
}

static char *
fx_blank_first(size_t *len)
{
	static const int	 l76[] = { 76 };
	char			*e, *m;

	e = b64_lines(l76, 1, "\r\n");
	*len = (size_t)xasprintf(&m, "\r\n\r\nFrom: a@example.org\r\n"
	    "Subject: r\r\nMIME-Version: 1.0\r\n"
	    "Content-Type: application/gzip; name=\"r.xml.gz\"\r\n"
	    "Content-Disposition: attachment; filename=\"r.xml.gz\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s", e);
	free(e);
	return (m);
}

static char *
fx_b64_odd(size_t *len)
{
	static const int	 odd[] = { 13, 1, 77, 5, 60, 3, 33 };
	char			*e, *m;

	e = b64_lines(odd, 7, "\r\n");
	*len = (size_t)xasprintf(&m, "From: a@example.org\r\nSubject: r\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: application/gzip\r\n"
	    "Content-Disposition: attachment; filename=\"r.xml.gz\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n\r\n%s", e);
	free(e);
	return (m);
}

/* Headers in CRLF, the body parts in LF, the base64 in both. */
static char *
fx_mixed_eol(size_t *len)
{
	static const int	 l64[] = { 64 };
	char			*e, *m;
	size_t			 i;

	e = b64_lines(l64, 1, "\r\n");
	for (i = 0; e[i] != '\0'; i++)	/* every other line end LF */
		if (e[i] == '\r' && (i / 66) % 2 == 0)
			e[i] = ' ';
	*len = (size_t)xasprintf(&m, "From: a@example.org\r\nSubject: r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"m\"\r\n\n"
	    "--m\nContent-Type: text/plain\r\n\r\nReport attached.\n"
	    "--m\r\nContent-Type: application/gzip\n"
	    "Content-Disposition: attachment; filename=\"r.xml.gz\"\r\n"
	    "Content-Transfer-Encoding: base64\n\r\n%s\n--m--\r\n", e);
	free(e);
	return (m);
}

static char *
fx_gzip_gzip(size_t *len)
{
	char	*a, *b, *m;
	size_t	 al, bl;

	a = gz(xml_doc(), strlen(xml_doc()), &al);
	b = gz(a, al, &bl);
	m = mail_single("application/gzip", "r.xml.gz.gz", b, bl, len);
	free(a);
	free(b);
	return (m);
}

static char *
fx_related(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m, "From: a@example.org\nSubject: r\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/related; boundary=\"r\"; "
	    "type=\"text/html\"\n\n"
	    "--r\nContent-Type: text/html\n\n<html><img src=cid:x></html>\n"
	    "--r\nContent-Type: application/gzip\nContent-ID: <x>\n"
	    "Content-Disposition: inline; filename=\"r.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n--r--\n", e);
	free(e);
	free(z);
	return (m);
}

static char *
fx_two_reports(size_t *len)
{
	char	*z, *e, *m;
	size_t	 zl;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	*len = (size_t)xasprintf(&m, "From: a@example.org\nSubject: r\n"
	    "MIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"r\"\n\n"
	    "--r\nContent-Type: text/plain\n\nTwo reports.\n"
	    "--r\nContent-Type: application/gzip; name=\"a.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n"
	    "--r\nContent-Type: application/gzip; name=\"b.xml.gz\"\n"
	    "Content-Transfer-Encoding: base64\n\n%s\n--r--\n", e, e);
	free(e);
	free(z);
	return (m);
}

/* A report in part 1, then n small parts (or parts with many headers). */
static char *
many_parts(unsigned n, unsigned nheaders, size_t hlen, size_t *len)
{
	struct buf	 b;
	const char	*hd;
	char		*z, *e, *h;
	size_t		 zl;
	unsigned	 i;

	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	e = b64(z, zl);
	buf_init(&b, 64 << 20);
	hd = "From: a@example.org\nMIME-Version: 1.0\n"
	    "Content-Type: multipart/mixed; boundary=\"p\"\n\n--p\n"
	    "Content-Type: application/gzip\n"
	    "Content-Transfer-Encoding: base64\n\n";
	buf_add(&b, hd, strlen(hd));
	buf_add(&b, e, strlen(e));
	for (i = 0; i < n; i++)
		buf_add(&b, "\n--p\nContent-Type: text/plain\n\nx", 33);
	buf_add(&b, "\n--p\n", 5);
	for (i = 0; i < nheaders; i++)
		buf_add(&b, "X-A: b\n", 7);
	if (hlen > 0) {
		h = xmalloc(hlen);
		memset(h, 'h', hlen);
		buf_add(&b, "X-Long: ", 8);
		buf_add(&b, h, hlen);
		free(h);
	}
	buf_add(&b, "\n\nlast\n--p--\n", 14);
	free(e);
	free(z);
	return (buf_steal(&b, len));
}

static char *
fx_many_parts(size_t *len)
{
	return (many_parts(1005, 0, 0, len));
}

static char *
fx_long_header(size_t *len)
{
	return (many_parts(2, 0, 2000, len));
}

static char *
fx_many_headers(size_t *len)
{
	return (many_parts(2, 60, 0, len));
}

/* A zip holding XML that is no report (kimon1230's non-dmarc.xml). */
static char *
fx_non_dmarc_xml(size_t *len)
{
	const char *names[] = { "r.xml" };
	const char *datas[] = { "<?xml version=\"1.0\"?>\n<!-- items -->\n"
	    "<root>\n  <item><name>Test</name></item>\n</root>\n" };

	return (zip_build(names, datas, NULL, 1, len));
}

static char *
fx_dtd_gzip(size_t *len)
{
	const char	*x = "<?xml version=\"1.0\"?>\n<!DOCTYPE feedback [\n"
	    "  <!ENTITY xxe SYSTEM \"file:///etc/passwd\">\n]>\n"
	    "<feedback><report_metadata><org_name>&xxe;</org_name>"
	    "</report_metadata></feedback>\n";

	return (mail_gz("application/gzip", "evil.example!example.com!1!2"
	    ".xml.gz", x, len));
}

static void
lim_header1000(struct mime_limits *l)
{
	l->max_header_line = 1000;
}

static void
lim_headers50(struct mime_limits *l)
{
	l->max_headers = 50;
}

/* Six nested multiparts, the report at the bottom. */
static char *
fx_deep(size_t *len)
{
	struct buf	 b;
	char		 line[128];
	int		 i;

	buf_init(&b, 1 << 20);
	buf_add(&b, "From: a@example.org\nMIME-Version: 1.0\n", 38);
	for (i = 0; i < 6; i++) {
		snprintf(line, sizeof line, "Content-Type: multipart/mixed; "
		    "boundary=\"b%d\"\n\n--b%d\n", i, i);
		buf_add(&b, line, strlen(line));
	}
	buf_add(&b, "Content-Type: text/xml\n\n", 24);
	buf_add(&b, xml_doc(), strlen(xml_doc()));
	for (i = 5; i >= 0; i--) {
		snprintf(line, sizeof line, "\n--b%d--\n", i);
		buf_add(&b, line, strlen(line));
	}
	return (buf_steal(&b, len));
}

static char *
fx_zip_big(size_t *len)
{
	const char	*names[] = { "big.xml" };
	const char	*datas[1];
	char		 data[2001];

	memset(data, '<', 2000);
	data[2000] = '\0';
	datas[0] = data;
	return (zip_build(names, datas, NULL, 1, len));
}

static void
lim_payload1000(struct mime_limits *l)
{
	l->max_payload = 1000;
}

static void
lim_zip16(struct mime_limits *l)
{
	l->max_zip_entries = 16;
}

static void
lim_depth1(struct mime_limits *l)
{
	l->max_depth = 1;
}

static void
lim_payloads2(struct mime_limits *l)
{
	l->max_payloads = 2;
}

static void
lim_decoded1000(struct mime_limits *l)
{
	l->max_decoded = 1000;
}

static void
lim_mime4(struct mime_limits *l)
{
	l->max_mime_depth = 4;
}

/* --- single tests --------------------------------------------------- */

/* Header facts: RFC 2047, folding, the first Authentication-Results. */
static void
test_info(void)
{
	enum mime_status	 st;
	struct mime_limits	 lim;
	struct mime_info	 info;
	struct got		 g;
	char			*cause = NULL;
	const char		*m =
	    "Authentication-Results: mx.example.com;\r\n"
	    "\tdkim=pass header.d=example.org\r\n"
	    "Authentication-Results: second.example.com; none\r\n"
	    "From: =?UTF-8?Q?R=C3=A9porteur?= <noreply@example.org>\r\n"
	    "Subject: =?UTF-8?Q?Report_domain:_example.com?=\r\n"
	    " Submitter: example.org\r\n"
	    "Date: Tue, 01 Aug 2023 10:00:00 +0000\r\n"
	    "Message-ID: <abc.123@example.org>\r\n"
	    "Content-Type: text/plain\r\n\r\nno report here\r\n";

	mime_limits_default(&lim);
	memset(&g, 0, sizeof g);
	st = mime_scan(m, strlen(m), &lim, &info, on_payload, &g,
	    &cause);
	CHECK_INT(st, MIME_NONE);
	CHECK_STR(cause, "no report attachment (parts: text/plain)");
	CHECK_STR(info.message_id, "abc.123@example.org");
	CHECK_STR(info.subject,
	    "Report domain: example.com Submitter: example.org");
	CHECK(info.from != NULL && strstr(info.from, "R\xc3\xa9porteur") !=
	    NULL && strstr(info.from, "noreply@example.org") != NULL);
	CHECK_INT(info.date, 1690884000);
	CHECK_STR(info.auth_results,
	    "mx.example.com; dkim=pass header.d=example.org");
	mime_info_free(&info);
	free(cause);

	m = "From: a@example.org\nDate: not a date\n\nbody\n";
	cause = NULL;
	st = mime_scan(m, strlen(m), &lim, &info, on_payload, &g,
	    &cause);
	CHECK_INT(st, MIME_NONE);
	CHECK(info.date == MIME_NO_DATE);
	CHECK(info.subject == NULL && info.message_id == NULL);
	mime_info_free(&info);
	free(cause);
	got_free(&g);
}

/*
 * The Date field: RFC 5322 section 3.3 and the obsolete forms of 4.3,
 * before 1970 too (GMime refuses those), -1 as a date and not "none".
 */
static void
test_date(void)
{
	static const struct {
		const char	*field;
		int		 ok;
		long long	 want;
	} t[] = {
		{ "Tue, 01 Aug 2023 10:00:00 +0000", 1, 1690884000 },
		{ "1 Aug 2023 12:00 +0200", 1, 1690884000 },
		{ "Mon, 1 Jan 1968 00:00:00 +0000", 1, -63158400 },
		{ "Sat, 1 Jan 1966 12:00:00 -0500", 1, -126169200 },
		{ "Wed, 31 Dec 1969 23:59:59 +0000", 1, -1 },
		{ "Thu, 01 Jan 1970 00:00:00 GMT", 1, 0 },
		{ "Mon, 1 Jan 1900 00:00:00 +0000", 1, -2208988800LL },
		{ "29 Feb 1964 06:30:00 EST", 1, -184249800 },
		{ "1 Jan 68 00:00:00 GMT", 1, -63158400 },
		{ "1 Jan 49 00:00:00 GMT", 1, 2493072000LL },
		{ "1 Jan 099 00:00:00 UT", 1, 915148800 },
		{ "Fri, 21 Nov 1997 09:55:06 -0600 (CST)", 1, 880127706 },
		{ " Fri , 21 Nov 1997 09(x)\r\n :55:06 Z", 1, 880106106 },
		{ "1 Jan 1899 00:00:00 +0000", 0, 0 },
		{ "30 Feb 1968 00:00:00 +0000", 0, 0 },
		{ "29 Feb 1900 00:00:00 +0000", 0, 0 },
		{ "1 Foo 1968 00:00:00 +0000", 0, 0 },
		{ "1 Jan 1968 24:00:00 +0000", 0, 0 },
		{ "1 Jan 1968 00:00:00 +0060", 0, 0 },
		{ "1 Jan 1968 00:00:00 +0000 x", 0, 0 },
		{ "1 Jan 1968 00:00:00", 0, 0 },
		{ "not a date", 0, 0 },
		{ "", 0, 0 }
	};
	struct mime_limits	 lim;
	struct got		 g;
	int64_t			 v;
	size_t			 i;
	char			*cause = NULL;
	const char		*m =
	    "From: a@example.org\nDate: Mon, 1 Jan 1968 00:00:00 +0000\n\nx\n";

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		v = 12345;
		if (mime_date_parse(t[i].field, &v) != (t[i].ok ? 0 : -1)) {
			tst_failures++;
			fprintf(stderr, "date \"%s\": %s\n", t[i].field,
			    t[i].ok ? "refused" : "accepted");
		} else if (t[i].ok)
			CHECK_INT(v, t[i].want);
		else
			CHECK_INT(v, 12345);
		tst_checks++;
	}
	mime_limits_default(&lim);
	memset(&g, 0, sizeof g);
	g.facts_on = 1;
	(void)mime_scan_facts(m, strlen(m), &lim, on_facts, on_payload,
	    on_bad, &g, &cause);
	CHECK_INT(g.facts.date, -63158400);
	got_free(&g);
	free(cause);
}

/* Rewind gives the same bytes; the hash is the one of the document. */
static void
test_rewind(void)
{
	enum mime_status	 st;
	struct mime_limits	 lim;
	struct got		 g;
	unsigned char		 want[32];
	char			*d, *z, *cause = NULL;
	size_t			 dl, zl;

	mime_limits_default(&lim);
	d = big_doc(&dl);
	z = gz(d, dl, &zl);
	memset(&g, 0, sizeof g);
	g.mode = READ_REWIND;
	st = mime_scan(z, zl, &lim, NULL, on_payload, &g, &cause);
	CHECK_INT(st, MIME_OK);
	CHECK_INT(g.n, 1);
	mime_sha256(d, dl, want);
	if (g.n == 1) {
		CHECK(!g.p[0].read_failed);
		CHECK_INT(g.p[0].bytes, dl);
		CHECK(memcmp(g.p[0].sha, want, 32) == 0);
		CHECK(g.p[0].rewind_ok);
	}
	got_free(&g);
	free(cause);
	free(d);
	free(z);
}

/* Set the encryption flag on every entry of a stored zip. */
static void
test_encrypted(void)
{
	enum mime_status	 st;
	const char *names[] = { "a.xml", "b.xml" };
	const char *datas[] = { xml_doc(), xml_doc() };
	struct mime_limits	 lim;
	struct got		 g;
	char			*z, *cause = NULL;
	size_t			 zl, i;

	z = zip_build(names, datas, NULL, 2, &zl);
	for (i = 0; i + 4 <= zl; i++) {
		if (memcmp(z + i, "PK\003\004", 4) == 0)
			z[i + 6] |= 1;
		else if (memcmp(z + i, "PK\001\002", 4) == 0)
			z[i + 8] |= 1;
	}
	mime_limits_default(&lim);
	memset(&g, 0, sizeof g);
	st = mime_scan_all(z, zl, &lim, NULL, on_payload, on_bad, &g,
	    &cause);
	CHECK_INT(st, MIME_INVALID);
	CHECK_INT(g.n, 0);
	CHECK_INT(g.nbad, 2);
	CHECK(cause != NULL && strstr(cause, "encrypt") != NULL);
	if (g.nbad > 0) {
		CHECK_STR(g.bad[0].member, "a.xml");
		CHECK_STR(g.bad[0].container, "zip");
		CHECK_STR(g.bad[0].path, "");
	}
	got_free(&g);
	free(cause);
	free(z);
}

/* A callback error stops the scan and its cause comes back. */
static void
test_abort(void)
{
	enum mime_status	 st;
	struct mime_limits	 lim;
	struct got		 g;
	char			*z, *cause = NULL;
	size_t			 zl;

	z = fx_zip_three(&zl);
	mime_limits_default(&lim);
	memset(&g, 0, sizeof g);
	g.abort_after = 2;
	st = mime_scan(z, zl, &lim, NULL, on_payload, &g, &cause);
	CHECK_INT(st, MIME_ABORTED);
	CHECK_STR(cause, "stop here");
	CHECK_INT(g.n, 2);
	got_free(&g);
	free(cause);
	free(z);
}

/*
 * mime_scan_facts of buf into a fresh g (the callback stops when refuse
 * says so); the status, with g and what the scan said checked for.
 */
static enum mime_status
facts_scan(const char *buf, size_t len, int refuse, struct got *g)
{
	struct mime_limits	 lim;
	enum mime_status	 st;
	char			*cause = NULL;

	mime_limits_default(&lim);
	memset(g, 0, sizeof *g);
	g->facts_on = 1;
	g->facts_refuse = refuse;
	st = mime_scan_facts(buf, len, &lim, on_facts, on_payload, on_bad, g,
	    &cause);
	CHECK_INT(g->told, 1);
	CHECK_INT(g->told_late, 0);
	CHECK(st == MIME_OK || cause != NULL);
	free(cause);
	return (st);
}

/*
 * mime_scan_facts tells the facts once, before the first payload or bad
 * part (or at the end), the same as mime_scan_all fills in; a callback
 * that says stop gets nothing handed out.
 */
static void
test_facts(void)
{
	struct mime_limits	 lim;
	struct mime_info	 info;
	struct got		 g, g2;
	char			*z, *cause = NULL;
	size_t			 zl;
	const char		*m =
	    "Authentication-Results: mx.example.com; dkim=pass\r\n"
	    "From: Reporter <noreply@example.org>\r\n"
	    "Subject: Report domain: example.com Submitter: example.org\r\n"
	    "Date: Tue, 01 Aug 2023 10:00:00 +0000\r\n"
	    "Message-ID: <facts.1@example.org>\r\n"
	    "Content-Type: application/xml\r\n\r\n"
	    "<?xml version=\"1.0\"?><feedback><record><row>"
	    "<source_ip>192.0.2.1</source_ip></row></record></feedback>\r\n";
	const char		*junk = "no header here, no body either";

	CHECK(facts_scan(m, strlen(m), 0, &g) == MIME_OK);
	CHECK_INT(g.n, 1);
	CHECK_STR(g.facts.message_id, "facts.1@example.org");
	CHECK_STR(g.facts.from, "Reporter <noreply@example.org>");
	CHECK_STR(g.facts.subject,
	    "Report domain: example.com Submitter: example.org");
	CHECK_STR(g.facts.auth_results, "mx.example.com; dkim=pass");
	CHECK_INT(g.facts.date, 1690884000);
	/* What mime_scan_all fills in from the same parse. */
	mime_limits_default(&lim);
	memset(&g2, 0, sizeof g2);
	CHECK(mime_scan(m, strlen(m), &lim, &info, on_payload, &g2,
	    &cause) == MIME_OK);
	CHECK(facts_equal(&g.facts, &info));
	mime_info_free(&info);
	free(cause);
	got_free(&g2);
	got_free(&g);

	/* Stop after the facts: nothing handed out. */
	CHECK(facts_scan(m, strlen(m), 1, &g) == MIME_ABORTED);
	CHECK_INT(g.n, 0);
	CHECK_INT(g.nbad, 0);
	got_free(&g);

	/* A bare payload: no facts, told first. */
	z = fx_zip_three(&zl);
	CHECK(facts_scan(z, zl, 0, &g) == MIME_OK);
	CHECK_INT(g.n, 3);
	CHECK(g.facts.message_id == NULL && g.facts.from == NULL &&
	    g.facts.subject == NULL && g.facts.auth_results == NULL);
	CHECK_INT(g.facts.date, MIME_NO_DATE);
	got_free(&g);
	free(z);

	/* Not a mail: told at the end, once; a stop then is an abort. */
	CHECK(facts_scan(junk, strlen(junk), 0, &g) == MIME_NONE);
	got_free(&g);
	CHECK(facts_scan(junk, strlen(junk), 1, &g) == MIME_ABORTED);
	got_free(&g);
}

/* Deflate "<feedback>" then n MiB of one byte, in chunks. */
static char *
bomb(unsigned mib, size_t *len)
{
	z_stream	 z;
	struct buf	 out;
	char		*zero, obuf[65536];
	unsigned	 i;
	int		 flush, r;

	zero = xmalloc(1 << 20);
	memset(zero, 'a', 1 << 20);
	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		fatalx("deflateInit2");
	buf_init(&out, 8 << 20);
	for (i = 0; i <= mib; i++) {
		if (i == 0) {
			z.next_in = (Bytef *)"<feedback>";
			z.avail_in = 10;
		} else {
			z.next_in = (Bytef *)zero;
			z.avail_in = 1 << 20;
		}
		flush = i == mib ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = (Bytef *)obuf;
			z.avail_out = sizeof obuf;
			r = deflate(&z, flush);
			if (r == Z_STREAM_ERROR)
				fatalx("deflate");
			buf_add(&out, obuf, sizeof obuf - z.avail_out);
		} while (z.avail_out == 0);
	}
	deflateEnd(&z);
	free(zero);
	return (buf_steal(&out, len));
}

/* 200 MiB of one byte in ~200 KB: both caps, with little memory. */
static void
test_bomb(void)
{
	enum mime_status	 st;
	struct mime_limits	 lim;
	struct got		 g;
	struct rusage		 ru;
	const char		*pre;
	char			*z, *cause = NULL;
	size_t			 zl;

	z = bomb(200, &zl);
	CHECK(zl < 1024 * 1024);

	mime_limits_default(&lim);
	lim.max_payload = 16 * 1024 * 1024;
	lim.max_ratio = 100000;
	memset(&g, 0, sizeof g);
	st = mime_scan(z, zl, &lim, NULL, on_payload, &g, &cause);
	CHECK_INT(st, MIME_OK);
	CHECK_INT(g.n, 1);
	if (g.n == 1) {
		CHECK(g.p[0].read_failed);
		CHECK_STR(g.p[0].cause, "gzip payload over 16777216 bytes");
	}
	got_free(&g);
	free(cause);

	/* Default caps: the ratio stops it first (past 8 MiB). */
	mime_limits_default(&lim);
	memset(&g, 0, sizeof g);
	cause = NULL;
	st = mime_scan(z, zl, &lim, NULL, on_payload, &g, &cause);
	CHECK_INT(st, MIME_OK);
	if (g.n == 1) {
		CHECK(g.p[0].read_failed);
		CHECK_STR(g.p[0].cause,
		    "gzip payload over 200:1 compression ratio");
	}
	got_free(&g);
	free(cause);
	free(z);

	/*
	 * Memory stayed small: holding the 16 MiB read before the cap would
	 * already pass 24 MiB (the whole test needs about 11).  Not under
	 * valgrind or ASan, which have their own.
	 */
	pre = getenv("LD_PRELOAD");
	if (!TST_SANITIZED && (pre == NULL ||
	    strstr(pre, "vgpreload") == NULL)) {
		getrusage(RUSAGE_SELF, &ru);
		if (ru.ru_maxrss > 24 * 1024)
			fprintf(stderr, "bomb: max RSS %ld KiB\n",
			    ru.ru_maxrss);
		CHECK(ru.ru_maxrss < 24 * 1024);
	}
}

/* Inputs that once went wrong under the fuzzer, or nearly: built here. */
static char *
fz_boundary_eof(size_t *len)
{
	char	*m;

	*len = (size_t)xasprintf(&m, "Content-Type: multipart/mixed; "
	    "boundary=b\n\n--b\nContent-Type: message/rfc822\n\n"
	    "Content-Type: multipart/digest; boundary=c\n\n--c\n\n--c");
	return (m);
}

static char *
fz_empty_boundary(size_t *len)
{
	char	*m;

	*len = (size_t)xasprintf(&m, "Content-Type: multipart/mixed; "
	    "boundary=\"\"\n\n--\n--\n\n--\r\n--");
	return (m);
}

struct fuzz_case {
	const char	*name;
	char		*(*build)(size_t *);
};
static const struct fuzz_case fuzz_cases[] = {
	{ "digest in a message, cut at a boundary", fz_boundary_eof },
	{ "empty boundary", fz_empty_boundary },
};


/* --- hostile inputs, each scanned in a child whose peak is measured --- */

struct hostile_result {
	int		 status;
	int		 n, nbad;
	char		 cause[256];	/* scan cause */
	char		 bad[256];	/* bad part 0 */
	char		 rcause[256];	/* read failure of payload 0 */
	uint64_t	 bytes, records;	/* of payload 0 */
	long		 base_kib, peak_kib;
};

static const char *hostile_in;

/* Is memory measured here (not under ASan, fuzzing or valgrind)? */
static int
mem_measured(void)
{
	const char	*pre = getenv("LD_PRELOAD");

	if (TST_SANITIZED || getenv("RUNNING_ON_VALGRIND") != NULL)
		return (0);
	return (pre == NULL || strstr(pre, "vgpreload") == NULL);
}

/* A "VmRSS:" style line of /proc/self/status, in KiB, or -1. */
static long
status_kib(const char *key)
{
	FILE	*f;
	char	 line[256];
	long	 v = -1;

	if ((f = fopen("/proc/self/status", "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof line, f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return (v);
}

/*
 * Scan in a child (its peak RSS starts at its size when forked) and bring
 * back what happened and how much memory the scan took.
 */
static void
hostile_run(const char *in, size_t len, const struct mime_limits *lim,
    struct hostile_result *r)
{
	struct got	 g;
	char		*cause = NULL;
	int		 fd[2], status;
	pid_t		 pid;

	memset(r, 0, sizeof *r);
	hostile_in = in;	/* reachable for valgrind in the child */
	if (pipe(fd) == -1 || (pid = fork()) == -1)
		fatal("pipe/fork");
	if (pid == 0) {
		close(fd[0]);
		r->base_kib = status_kib("VmRSS:");
		memset(&g, 0, sizeof g);
		g.mode = READ_FULL;
		r->status = mime_scan_all(in, len, lim, NULL, on_payload,
		    on_bad, &g, &cause);
		r->peak_kib = status_kib("VmHWM:");
		r->n = g.n;
		r->nbad = g.nbad;
		snprintf(r->cause, sizeof r->cause, "%s", cause != NULL ?
		    cause : "");
		if (g.nbad > 0)
			snprintf(r->bad, sizeof r->bad, "%s", g.bad[0].cause);
		if (g.n > 0) {
			snprintf(r->rcause, sizeof r->rcause, "%s",
			    g.p[0].cause);
			r->bytes = g.p[0].bytes;
			r->records = g.p[0].records;
		}
		got_free(&g);
		free(cause);
		if (write(fd[1], r, sizeof *r) != (ssize_t)sizeof *r)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], r, sizeof *r) != (ssize_t)sizeof *r)
		r->status = 99;
	close(fd[0]);
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		r->status = 99;
}

/* Check one hostile run: its reason, and its memory under the cap. */
static void
hostile_check(const char *name, struct hostile_result *r, const char *want)
{
	long	 used = r->peak_kib - r->base_kib;
	int	 found;

	found = strstr(r->cause, want) != NULL ||
	    strstr(r->bad, want) != NULL || strstr(r->rcause, want) != NULL;
	printf("hostile %s: status %d, %d payloads, %d bad, \"%s\"; "
	    "peak +%ld KiB\n", name, r->status, r->n, r->nbad,
	    r->cause[0] != '\0' ? r->cause : r->rcause[0] != '\0' ?
	    r->rcause : r->bad, used);
	CHECK(r->status != 99);
	if (!found)
		fprintf(stderr, "hostile %s: want \"%s\"\n", name, want);
	CHECK(found);
	if (mem_measured()) {
		CHECK(r->base_kib > 0 && r->peak_kib > 0);
		CHECK(used < MEM_CAP_KIB);
	}
}

/* One huge zip member of one byte, streamed through libarchive. */
static char *
zip_bomb(unsigned mib, size_t *len)
{
	struct archive		*a;
	struct archive_entry	*e;
	size_t			 cap = 8 << 20, used = 0;
	char			*out, *chunk;
	unsigned		 i;

	out = xmalloc(cap);
	chunk = xmalloc(1 << 20);
	memset(chunk, 'a', 1 << 20);
	memcpy(chunk, "<feedback>", 10);
	a = archive_write_new();
	archive_write_set_format_zip(a);
	if (archive_write_open_memory(a, out, cap, &used) != ARCHIVE_OK)
		fatalx("archive_write_open_memory");
	e = archive_entry_new();
	archive_entry_set_pathname(e, "bomb.xml");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)mib << 20);
	if (archive_write_header(a, e) != ARCHIVE_OK)
		fatalx("archive_write_header: %s", archive_error_string(a));
	for (i = 0; i < mib; i++) {
		if (archive_write_data(a, chunk, 1 << 20) != 1 << 20)
			fatalx("archive_write_data");
		chunk[0] = 'a';
	}
	archive_entry_free(e);
	archive_write_close(a);
	archive_write_free(a);
	free(chunk);
	*len = used;
	return (out);
}

/* n stored one-byte entries: about 110 bytes each. */
static char *
zip_many(unsigned n, size_t *len)
{
	struct archive		*a;
	struct archive_entry	*e;
	size_t			 cap = (size_t)n * 160 + 4096, used = 0;
	char			*out, name[32];
	unsigned		 i;

	out = xmalloc(cap);
	a = archive_write_new();
	archive_write_set_format_zip(a);
	archive_write_set_format_option(a, "zip", "compression", "store");
	if (archive_write_open_memory(a, out, cap, &used) != ARCHIVE_OK)
		fatalx("archive_write_open_memory");
	for (i = 0; i < n; i++) {
		e = archive_entry_new();
		snprintf(name, sizeof name, "%05u.xml", i);
		archive_entry_set_pathname(e, name);
		archive_entry_set_filetype(e, AE_IFREG);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, 1);
		if (archive_write_header(a, e) != ARCHIVE_OK ||
		    archive_write_data(a, "<", 1) != 1)
			fatalx("zip_many: %s", archive_error_string(a));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	*len = used;
	return (out);
}

/* Multipart inside multipart, levels deep, the report at the bottom. */
static char *
mime_nest(unsigned levels, size_t *len)
{
	struct buf	 b;
	char		 line[96];
	unsigned	 i;

	buf_init(&b, 64 << 20);
	buf_add(&b, "From: a@example.org\nMIME-Version: 1.0\n", 38);
	for (i = 0; i < levels; i++) {
		snprintf(line, sizeof line, "Content-Type: multipart/mixed; "
		    "boundary=\"b%u\"\n\n--b%u\n", i, i);
		buf_add(&b, line, strlen(line));
	}
	buf_add(&b, "Content-Type: text/xml\n\n", 24);
	buf_add(&b, xml_doc(), strlen(xml_doc()));
	for (i = levels; i-- > 0; ) {
		snprintf(line, sizeof line, "\n--b%u--\n", i);
		buf_add(&b, line, strlen(line));
	}
	return (buf_steal(&b, len));
}

/* A report mail whose Subject is n bytes long. */
static char *
long_subject(size_t n, size_t *len)
{
	char	*z, *m, *subj;
	size_t	 zl;

	subj = xmalloc(n + 1);
	memset(subj, 's', n);
	subj[n] = '\0';
	z = gz(xml_doc(), strlen(xml_doc()), &zl);
	m = mail_single("application/gzip", subj, z, zl, len);
	free(subj);
	free(z);
	return (m);
}

/*
 * An aggregate report of about mib MiB (records that differ, so that it
 * compresses about 20:1), gzip'd as it is generated.
 */
static char *
big_report(unsigned mib, uint64_t *records, uint64_t *bytes, size_t *len)
{
	z_stream	 z;
	struct buf	 out, in;
	char		 rec[256], obuf[65536];
	uint64_t	 n = 0, total = 0;
	int		 flush, r, last = 0;

	memset(&z, 0, sizeof z);
	if (deflateInit2(&z, 1, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		fatalx("deflateInit2");
	buf_init(&out, 64 << 20);
	buf_init(&in, 2 << 20);
	buf_add(&in, "<?xml version=\"1.0\"?>\n<feedback>\n", 33);
	while (!last) {
		while (in.len < (1 << 20) && !last) {
			snprintf(rec, sizeof rec, "<record><row><source_ip>"
			    "10.%u.%u.%u</source_ip><count>%llu</count></row>"
			    "</record>\n", (unsigned)(n >> 16) & 255,
			    (unsigned)(n >> 8) & 255, (unsigned)n & 255,
			    (unsigned long long)(n * 7919 % 100003));
			buf_add(&in, rec, strlen(rec));
			n++;
			if (total + in.len >= (uint64_t)mib << 20) {
				buf_add(&in, "</feedback>\n", 12);
				last = 1;
			}
		}
		total += in.len;
		z.next_in = (Bytef *)in.data;
		z.avail_in = (uInt)in.len;
		flush = last ? Z_FINISH : Z_NO_FLUSH;
		do {
			z.next_out = (Bytef *)obuf;
			z.avail_out = sizeof obuf;
			r = deflate(&z, flush);
			if (r == Z_STREAM_ERROR)
				fatalx("deflate");
			if (buf_add(&out, obuf, sizeof obuf - z.avail_out) ==
			    -1)
				fatalx("big_report: over 64 MiB");
		} while (z.avail_out == 0);
		buf_reset(&in);
	}
	deflateEnd(&z);
	buf_free(&in);
	*records = n;
	*bytes = total;
	return (buf_steal(&out, len));
}

/*
 * Each hostile input is stopped with a reason, and the scan (reading every
 * payload to its end) stays under 64 MiB.  Sizes shrink under valgrind.
 */
static void
test_hostile(void)
{
	struct mime_limits	 lim;
	struct hostile_result	 r;
	char			*in, *d;
	size_t			 len, dl;
	uint64_t		 recs, bytes;
	unsigned		 big = mem_measured() ? 300 : 24;
	unsigned		 i;

	mime_limits_default(&lim);

	in = bomb(200, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("gzip bomb (200 MiB in 200 KB)", &r,
	    "gzip payload over 200:1 compression ratio");
	free(in);

	in = zip_bomb(big, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("zip bomb (one member)", &r,
	    "zip payload over 200:1 compression ratio");
	free(in);

	in = zip_many(20000, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("zip with 20,000 members", &r,
	    "zip has more than 64 entries");
	CHECK_INT(r.status, MIME_INVALID);
	free(in);

	in = mime_nest(3000, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("MIME nested 3,000 deep", &r,
	    "MIME nesting over 32 levels");
	CHECK_INT(r.status, MIME_INVALID);
	CHECK_INT(r.nbad, 1);
	free(in);

	/* Past the hard ceiling too: GMime never recurses that far. */
	in = mime_nest(200000, &len);
	lim.max_mime_depth = 1000000;
	hostile_run(in, len, &lim, &r);
	hostile_check("MIME nested 200,000 deep, no depth limit", &r,
	    "MIME nesting over 256 levels");
	mime_limits_default(&lim);
	free(in);

	in = long_subject(8 << 20, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("8 MB header line", &r,
	    "header field over 1048576 bytes");
	CHECK_INT(r.status, MIME_INVALID);
	free(in);

	in = many_parts(1000000, 0, 0, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("1,000,000 MIME parts", &r,
	    "more than 1000 MIME parts");
	CHECK_INT(r.n, 1);
	free(in);

	in = many_parts(1, 1000000, 0, &len);
	hostile_run(in, len, &lim, &r);
	hostile_check("1,000,000 header fields", &r,
	    "more than 20000 header fields");
	free(in);

	in = fx_gzip_truncated_late(&len);
	hostile_run(in, len, &lim, &r);
	hostile_check("truncated gzip", &r, "gzip: unexpected end of data");
	free(in);

	/* Not hostile: a big report streams through in little memory. */
	in = big_report(big, &recs, &bytes, &len);
	hostile_run(in, len, &lim, &r);
	printf("big report: %u MiB in %zu bytes of gzip, %llu records\n",
	    big, len, (unsigned long long)recs);
	CHECK_INT(r.status, MIME_OK);
	CHECK_INT(r.n, 1);
	CHECK_INT(r.bytes, bytes);
	CHECK_INT(r.records, recs);
	CHECK_STR(r.rcause, "");
	printf("hostile big report: peak +%ld KiB\n", r.peak_kib - r.base_kib);
	if (mem_measured())
		CHECK(r.peak_kib - r.base_kib < MEM_CAP_KIB);
	free(in);

	/* Regression inputs from fuzzing (built here). */
	for (i = 0; i < sizeof fuzz_cases / sizeof fuzz_cases[0]; i++) {
		d = fuzz_cases[i].build(&dl);
		hostile_run(d, dl, &lim, &r);
		CHECK(r.status != 99);
		free(d);
	}
}

/* --- corpus --------------------------------------------------------- */

struct corpus_totals {
	unsigned	 files;
	unsigned	 payloads;
	unsigned	 xml, json, arf;
	unsigned	 bad;
	unsigned	 read_failed;
	unsigned	 exceptions;
	unsigned	 counted;	/* files whose records were counted */
	unsigned	 matched;	/* ... and matched the catalog */
	uint64_t	 records;
	unsigned	 negatives;
	unsigned	 facts, facts_same;	/* mime_scan_facts agreed */
};

/* Read a whole file (they are small) or NULL. */
static char *
read_file(const char *path, size_t *len)
{
	FILE		*f;
	struct stat	 sb;
	char		*data;

	if ((f = fopen(path, "rb")) == NULL)
		return (NULL);
	if (fstat(fileno(f), &sb) == -1 || sb.st_size > 64 * 1024 * 1024) {
		fclose(f);
		return (NULL);
	}
	data = xmalloc((size_t)sb.st_size + 1);
	*len = fread(data, 1, (size_t)sb.st_size, f);
	fclose(f);
	return (data);
}

static const struct exception *
find_exception(const char *path)
{
	size_t	 i;

	for (i = 0; exceptions[i].path != NULL; i++)
		if (strcmp(exceptions[i].path, path) == 0)
			return (&exceptions[i]);
	return (NULL);
}

/* Named files whose provenance is checked in detail. */
static void
corpus_provenance(const char *path, enum mime_status st, const char *cause,
    struct got *g)
{
	if (strcmp(path, "domainaware__parsedmarc/samples/aggregate/"
	    "mimecast-weird-gzip.eml") == 0) {
		CHECK_INT(st, MIME_OK);
		CHECK_INT(g->n, 1);
		CHECK_STR(g->p[0].path, "1");
		CHECK_STR(g->p[0].container, "gzip>xml");
		CHECK(!g->p[0].read_failed);
		CHECK(g->p[0].filename[0] != '\0');
	} else if (strcmp(path, "domainaware__parsedmarc/samples/aggregate/"
	    "twilight.eml") == 0) {
		CHECK_INT(st, MIME_OK);
		CHECK_INT(g->n, 1);
		CHECK_STR(g->p[0].container, "zip>xml");
		CHECK_STR(g->p[0].member,
		    "google.com!twlnet.com!1549756800!1549843199.xml");
	} else if (strcmp(path, "JamesJJ__dmarc-report-ses-tsv/test-data/"
	    "mail-with-bad-gzip.txt") == 0) {
		CHECK_INT(st, MIME_INVALID);
		CHECK_INT(g->n, 0);
		CHECK_STR(cause, "gzip: invalid distance too far back");
		CHECK_INT(g->nbad, 1);
		CHECK_STR(g->bad[0].path, "1");
		CHECK_STR(g->bad[0].container, "gzip");
	} else if (strcmp(path, "georgestarcher__dmarcgo/testdata/fixtures/"
	    "aol.com!georgestarcher.com!1342497600!1342584000.zlib") == 0) {
		CHECK_INT(st, MIME_OK);
		CHECK_STR(g->p[0].path, "");
		CHECK_STR(g->p[0].container, "zlib>xml");
	} else if (strcmp(path, "stuartmaxwell__dmarc-report/tests/reports/"
	    "multiple-invalid-directory-with-valid.zip") == 0) {
		CHECK_INT(st, MIME_OK);
		CHECK_INT(g->n, 3);
		CHECK_STR(g->p[0].member, "multiple/dmarc-sample-1.xml");
	} else if (strcmp(path, "JasperWallace__django-dmarc2/dmarc/tests/"
	    "email-large-gz.eml") == 0) {
		/* 101 MiB of "<": no XML element, so no payload. */
		CHECK_INT(g->n, 0);
		CHECK_INT(g->nbad, 1);
		CHECK_STR(g->bad[0].container, "gzip");
		CHECK(cause != NULL && strncmp(cause, "gzip content is "
		    "neither XML nor JSON (starts \"<<<<", 38) == 0);
	} else if (strcmp(path, "JasperWallace__django-dmarc2/dmarc/tests/"
	    "email-large-zip.eml") == 0) {
		CHECK_INT(g->n, 0);
		CHECK_INT(g->nbad, 1);
		CHECK_STR(g->bad[0].container, "zip");
		CHECK(cause != NULL && strncmp(cause, "zip content is "
		    "neither XML nor JSON", 35) == 0);
	} else if (strcmp(path, "kimon1230__dmarc_report_reader/tests/"
	    "fixtures/non-dmarc.xml") == 0) {
		CHECK_INT(st, MIME_INVALID);
		CHECK_STR(cause, "content is XML but not a DMARC report (the "
		    "root element is not feedback)");
	} else if (strcmp(path, "JamesJJ__dmarc-report-ses-tsv/test-data/"
	    "mail-with-bad-zip.txt") == 0) {
		CHECK_INT(st, MIME_INVALID);
		CHECK(cause != NULL && strncmp(cause, "zip: ", 5) == 0);
	} else if (strcmp(path, "ZeWaren__dmarc-report-milter/tests/"
	    "dmarc_emails/report-with-unreadable-zip.eml") == 0) {
		/* Labelled application/zip, bytes are no zip at all. */
		CHECK_INT(st, MIME_INVALID);
		CHECK(cause != NULL && strncmp(cause, "application/zip is "
		    "neither XML nor JSON", 39) == 0);
	}
}

static int
got_has_feedback(struct got *g, enum mime_kind kind)
{
	int	 i;

	for (i = 0; i < g->n; i++)
		if (g->p[i].kind == kind && !g->p[i].read_failed &&
		    (contains_ci(g->p[i].head, g->p[i].headlen, "<feedback") ||
		    contains_ci(g->p[i].head, g->p[i].headlen, "feedback>")))
			return (1);
	return (0);
}

static int
got_has_kind(struct got *g, enum mime_kind kind)
{
	int	 i;

	for (i = 0; i < g->n; i++)
		if (g->p[i].kind == kind && !g->p[i].read_failed)
			return (1);
	return (0);
}

/*
 * The same file through mime_scan_facts: the same status and parts, and
 * the facts told once, before any part, equal to what mime_scan_all fills
 * from the same parse.  (When the ledger took its facts from a parse of
 * the header block alone, 248 of the 250 files gave the same; the two
 * others end their header with a line of blanks, which that parse read
 * past, taking a Message-ID from a part further down.)
 */
static void
corpus_facts(const char *name, const char *data, size_t len,
    const struct mime_limits *lim, enum mime_status st, const struct got *g,
    const struct mime_info *info, struct corpus_totals *t)
{
	struct got		 g2;
	enum mime_status	 st2;
	char			*cause = NULL;

	memset(&g2, 0, sizeof g2);
	g2.mode = READ_FULL;
	g2.facts_on = 1;
	st2 = mime_scan_facts(data, len, lim, on_facts, on_payload, on_bad,
	    &g2, &cause);
	t->facts++;
	if (st2 != st || g2.n != g->n || g2.nbad != g->nbad ||
	    g2.told != 1 || g2.told_late != 0 ||
	    !facts_equal(&g2.facts, info)) {
		tst_failures++;
		fprintf(stderr, "corpus facts %s: status %d/%d, parts %d/%d, "
		    "bad %d/%d, told %d (late %d), facts %s the scan's "
		    "(message-id %s, scan %s)\n", name, st2, st, g2.n, g->n,
		    g2.nbad, g->nbad, g2.told, g2.told_late,
		    facts_equal(&g2.facts, info) ? "equal to" : "NOT",
		    g2.facts.message_id != NULL ? g2.facts.message_id : "-",
		    info->message_id != NULL ? info->message_id : "-");
	} else
		t->facts_same++;
	tst_checks++;
	got_free(&g2);
	free(cause);
}

static void
corpus_file(const char *dir, char **f, struct corpus_totals *t)
{
	const struct exception	*ex;
	struct mime_limits	 lim;
	struct mime_info	 info;
	struct got		 g;
	enum mime_status	 st;
	char			*path, *data, *cause = NULL;
	size_t			 len;
	uint64_t		 want, recs;
	int			 ok, broken, i;

	xasprintf(&path, "%s/%s", dir, f[0]);
	data = read_file(path, &len);
	free(path);
	CHECK(data != NULL);
	if (data == NULL) {
		fprintf(stderr, "corpus: cannot read %s\n", f[0]);
		return;
	}
	mime_limits_default(&lim);
	memset(&g, 0, sizeof g);
	g.mode = READ_FULL;
	st = mime_scan_all(data, len, &lim, &info, on_payload, on_bad, &g,
	    &cause);
	t->files++;
	t->payloads += (unsigned)g.n;
	t->bad += (unsigned)g.nbad;
	for (i = 0; i < g.n; i++) {
		t->xml += g.p[i].kind == MIME_KIND_XML;
		t->json += g.p[i].kind == MIME_KIND_JSON;
		t->arf += g.p[i].kind == MIME_KIND_ARF;
		t->read_failed += g.p[i].read_failed;
	}

	broken = strstr(f[7], "corrupted") != NULL ||
	    strstr(f[7], "unreadable") != NULL;
	if ((ex = find_exception(f[0])) != NULL) {
		t->exceptions++;
		ok = st == ex->status;
	} else if (strcmp(f[3], "aggregate") == 0 && broken)
		ok = st == MIME_INVALID || g.nbad > 0;
	else if (strcmp(f[3], "aggregate") == 0) {
		ok = got_has_feedback(&g, MIME_KIND_XML);
		want = strtoull(f[6], NULL, 10);
		for (i = 0, recs = 0; i < g.n; i++)
			recs += g.p[i].records;
		if (want > 0) {
			t->counted++;
			t->records += recs;
			if (recs != want) {
				fprintf(stderr, "corpus %s: %llu records, "
				    "catalog %llu\n", f[0],
				    (unsigned long long)recs,
				    (unsigned long long)want);
				ok = 0;
			} else
				t->matched++;
		}
	} else if (strcmp(f[3], "none") == 0) {
		/* No readable XML payload, and a reason. */
		t->negatives++;
		ok = !got_has_kind(&g, MIME_KIND_XML) && (cause != NULL ||
		    g.nbad > 0);
	}
	else if (strcmp(f[3], "tlsrpt") == 0)
		ok = got_has_kind(&g, MIME_KIND_JSON);
	else if (strcmp(f[3], "forensic") == 0)
		/* Exim's report "without ARF part" too: its text is handed
		   out as a plain failure report (arf_plain). */
		ok = got_has_kind(&g, MIME_KIND_ARF);
	else
		ok = !got_has_feedback(&g, MIME_KIND_XML);
	if (!ok || getenv("TST_VERBOSE") != NULL)
		fprintf(stderr, "%s %s: %s kind %s, status %d, %d payloads "
		    "(%s %s %s%s), %d bad (%s), cause %s\n",
		    ok ? "corpus" : "CORPUS FAIL", f[0], f[2], f[3], st, g.n,
		    g.n ? mime_kind_name(g.p[0].kind) : "-",
		    g.n ? g.p[0].path : "-", g.n ? g.p[0].container : "-",
		    g.n && g.p[0].read_failed ? " read failed" : "",
		    g.nbad, g.nbad ? g.bad[0].cause : "-",
		    cause != NULL ? cause : "-");
	CHECK(ok);
	corpus_provenance(f[0], st, cause, &g);
	corpus_facts(f[0], data, len, &lim, st, &g, &info, t);
	mime_info_free(&info);
	got_free(&g);
	free(cause);
	free(data);
}

static void
test_corpus(void)
{
	struct corpus_totals	 t;
	const char		*dir;
	char			*cat, *catalog, *line, *next, *f[9];
	size_t			 len;
	int			 n, lineno = 0;

	if ((dir = getenv("DMARC_CORPUS")) == NULL)
		dir = "../shared/corpus";
	if ((dir = tst_corpus(dir, "corpus part")) == NULL)
		return;
	xasprintf(&cat, "%s/CATALOG.tsv", dir);
	if ((catalog = read_file(cat, &len)) == NULL) {
		fprintf(stderr, "corpus: cannot read %s\n", cat);
		tst_failures++;
		free(cat);
		return;
	}
	free(cat);
	catalog[len] = '\0';
	memset(&t, 0, sizeof t);
	for (line = catalog; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (lineno++ == 0)
			continue;
		for (n = 0; n < 9; n++) {
			f[n] = line;
			if ((line = strchr(line, '\t')) == NULL)
				break;
			*line++ = '\0';
		}
		if (n < 8) {
			fprintf(stderr, "catalog line %d: %d fields\n", lineno,
			    n + 1);
			CHECK(n >= 8);
			continue;
		}
		corpus_file(dir, f, &t);
	}
	free(catalog);
	printf("corpus: %u files, %u payloads (%u xml, %u json, %u arf), "
	    "%u bad parts, %u read failures, %u exceptions; records matched "
	    "in %u of %u aggregate files (%llu records); %u negatives\n",
	    t.files, t.payloads, t.xml, t.json, t.arf, t.bad, t.read_failed,
	    t.exceptions, t.matched, t.counted,
	    (unsigned long long)t.records, t.negatives);
	printf("corpus: mime_scan_facts agreed with mime_scan_all in %u of "
	    "%u files\n", t.facts_same, t.facts);
	CHECK(t.files >= 250);
	CHECK(t.counted >= 150 && t.matched == t.counted);
	CHECK(t.facts == t.files && t.facts_same == t.facts);
}
