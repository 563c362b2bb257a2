/*
 * imap-parse.c: the IMAP response parser and the formatting of what we
 * send, with no curl and no I/O, so that tst_imap_parse can drive it from
 * tables.
 *
 * The reader frames responses: a response is a line, and when a line ends
 * with a literal announcement {N} (or ~{N}), exactly N bytes follow (CRLF
 * inside them is data) and the response goes on with the next line.  N is
 * parsed as an unsigned 64-bit number with overflow checks and is never
 * trusted for an allocation: a literal larger than what is left of the
 * per-response literal cap is read and thrown away in bounded memory, and
 * only its announced size is kept.  The text of a response (all its lines)
 * is capped too.
 *
 * The lexer then splits the text into atoms, quoted strings, literals and
 * parentheses; the decoders on top of it read what the session needs:
 * tagged status and response codes, SEARCH, FETCH, CAPABILITY, NAMESPACE
 * and LIST.  Last come the pure helpers for what we send: UID sets, quoted
 * strings, modified UTF-7 mailbox names, the mapping of configured folder
 * names to the server's hierarchy and SEARCH criteria.
 */
#include "config.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/common.h"
#include "imap/imap_p.h"

#define IMAP_MAX_DIGITS	20	/* 18446744073709551615 */

static int	 reader_literal(struct imap_reader *, char **);
static int	 reader_add_lit(struct imap_reader *, uint64_t, char **);
static int	 lex_atom(struct imap_lex *, struct imap_tok *, char **);
static int	 lex_literal(struct imap_lex *, struct imap_tok *, char **);
static int	 lex_quoted(struct imap_lex *, struct imap_tok *, char **);
static int	 tok_is(const struct imap_tok *, const char *);
static int	 tok_u32(const struct imap_tok *, uint32_t *);
static int	 status_word(const char **, const char *, char *, size_t,
		     int);
static void	 status_text(struct imap_status *, const char *);
static enum imap_cond status_cond(const char *);
static int	 fetch_item(struct imap_lex *, const struct imap_tok *,
		     struct imap_fetch *, char **);
static int	 fetch_flags(struct imap_lex *, struct imap_fetch *, char **);
static int	 fetch_body(struct imap_lex *, struct imap_fetch *, char **);
static int	 uid_cmp(const void *, const void *);
static void	 utf7_flush(struct buf *, const uint16_t *, size_t);
static int	 utf7_valid(const char *);
static char	*tok_string(const struct imap_lex *, const struct imap_tok *);
static int	 tok_delim(const struct imap_lex *, const struct imap_tok *,
		     char *);
static int	 folder_is_inbox(const char *, char);

/* Set up a reader with a cap on response text and on literal bytes. */
void
imap_reader_init(struct imap_reader *r, uint64_t max_line, uint64_t max_lit)
{
	memset(r, 0, sizeof *r);
	r->max_line = max_line;
	r->max_lit = max_lit;
	buf_init(&r->resp.line, max_line > SIZE_MAX - 1 ? SIZE_MAX - 1 :
	    (size_t)max_line);
	buf_init(&r->resp.lits, max_lit > SIZE_MAX - 1 ? SIZE_MAX - 1 :
	    (size_t)max_lit);
}

/* Forget the current response, keeping the memory for the next one. */
void
imap_reader_reset(struct imap_reader *r)
{
	buf_reset(&r->resp.line);
	buf_reset(&r->resp.lits);
	r->resp.nlit = 0;
	r->in_lit = 0;
	r->lit_left = 0;
	r->seg = 0;
	r->done = 0;
}

void
imap_reader_free(struct imap_reader *r)
{
	buf_free(&r->resp.line);
	buf_free(&r->resp.lits);
	free(r->resp.litv);
	r->resp.litv = NULL;
	r->resp.nlit = r->resp.alit = 0;
}

/*
 * Feed len bytes.  *used says how many were consumed.  Returns 1 when a
 * complete response is in r->resp (the rest of the input is not consumed;
 * call imap_reader_reset before feeding it), 0 when more input is needed,
 * -1 with *cause on a malformed or oversized response.
 */
int
imap_reader_feed(struct imap_reader *r, const char *data, size_t len,
    size_t *used, char **cause)
{
	struct imap_resp	*rp = &r->resp;
	const char		*lf;
	size_t			 off = 0, n;
	int			 rv;

	*used = 0;
	if (r->done)
		return (1);
	while (off < len) {
		if (r->in_lit) {
			n = len - off;
			if (n > r->lit_left)
				n = (size_t)r->lit_left;
			if (!rp->litv[rp->nlit - 1].dropped &&
			    buf_add(&rp->lits, data + off, n) == -1)
				fatalx("%s: literal over its reservation",
				    __func__);
			off += n;
			r->lit_left -= n;
			if (r->lit_left == 0) {
				r->in_lit = 0;
				r->seg = rp->line.len;
			}
			continue;
		}
		lf = memchr(data + off, '\n', len - off);
		n = (lf == NULL ? len : (size_t)(lf - data)) - off;
		if (memchr(data + off, '\0', n) != NULL) {
			*used = off;
			xasprintf(cause, "NUL byte in a response line");
			return (-1);
		}
		if (buf_add(&rp->line, data + off, n) == -1) {
			*used = off;
			xasprintf(cause, "response line longer than %llu "
			    "bytes", (unsigned long long)r->max_line);
			return (-1);
		}
		off += n;
		if (lf == NULL)
			break;
		off++;
		if (rp->line.len > r->seg &&
		    rp->line.data[rp->line.len - 1] == '\r')
			rp->line.data[--rp->line.len] = '\0';
		if ((rv = reader_literal(r, cause)) == -1) {
			*used = off;
			return (-1);
		}
		if (rv == 0) {
			r->done = 1;
			*used = off;
			return (1);
		}
	}
	*used = off;
	return (0);
}

/*
 * At the end of a line segment: when it announces a literal, record it and
 * return 1 (the response goes on); 0 when the response is complete.
 */
static int
reader_literal(struct imap_reader *r, char **cause)
{
	struct buf	*l = &r->resp.line;
	size_t		 end, i;
	uint64_t	 size;

	end = l->len;
	if (end <= r->seg || l->data[end - 1] != '}')
		return (0);
	i = end - 1;
	while (i > r->seg && isdigit((unsigned char)l->data[i - 1]))
		i--;
	if (i == r->seg || l->data[i - 1] != '{' || i == end - 1)
		return (0);
	if (end - 1 - i > IMAP_MAX_DIGITS ||
	    imap_parse_u64(l->data + i, end - 1 - i, &size) == -1) {
		xasprintf(cause, "literal size out of range");
		return (-1);
	}
	if (reader_add_lit(r, size, cause) == -1)
		return (-1);
	r->seg = l->len;
	return (1);
}

/* Record a literal of size bytes, keeping it when the budget allows. */
static int
reader_add_lit(struct imap_reader *r, uint64_t size, char **cause)
{
	struct imap_resp	*rp = &r->resp;
	struct imap_lit		*lit;
	size_t			 need;

	if (rp->nlit == rp->alit) {
		if (rp->alit >= 65536) {
			xasprintf(cause, "too many literals in a response");
			return (-1);
		}
		rp->alit = rp->alit == 0 ? 4 : rp->alit * 2;
		rp->litv = xreallocarray(rp->litv, rp->alit, sizeof *rp->litv);
	}
	lit = &rp->litv[rp->nlit++];
	lit->off = rp->lits.len;
	lit->size = size;
	lit->dropped = size > rp->lits.cap - rp->lits.len;
	if (!lit->dropped && size != 0) {
		/* Reserve exactly, rather than let the buffer double. */
		need = rp->lits.len + (size_t)size + 1;
		if (need > rp->lits.size) {
			rp->lits.data = xrealloc(rp->lits.data, need);
			rp->lits.size = need;
		}
	}
	r->in_lit = size != 0;
	r->lit_left = size;
	return (0);
}

/*
 * Start lexing the text of resp at p, a pointer into resp->line that comes
 * before any literal marker (the data after a response's first words).
 */
void
imap_lex_init(struct imap_lex *lx, const struct imap_resp *resp,
    const char *p)
{
	lx->resp = resp;
	lx->p = p;
	lx->end = resp->line.data + resp->line.len;
	lx->nextlit = 0;
}

/* Next token; IMAP_TOK_END at the end.  -1 with *cause when malformed. */
int
imap_lex_next(struct imap_lex *lx, struct imap_tok *t, char **cause)
{
	memset(t, 0, sizeof *t);
	while (lx->p < lx->end && *lx->p == ' ')
		lx->p++;
	if (lx->p >= lx->end) {
		t->type = IMAP_TOK_END;
		return (0);
	}
	switch (*lx->p) {
	case '(':
		t->type = IMAP_TOK_LPAREN;
		t->s = lx->p++;
		t->len = 1;
		return (0);
	case ')':
		t->type = IMAP_TOK_RPAREN;
		t->s = lx->p++;
		t->len = 1;
		return (0);
	case '"':
		return (lex_quoted(lx, t, cause));
	case '{':
		return (lex_literal(lx, t, cause));
	case '~':
		if (lx->p + 1 < lx->end && lx->p[1] == '{') {
			lx->p++;
			return (lex_literal(lx, t, cause));
		}
		break;
	}
	return (lex_atom(lx, t, cause));
}

static int
lex_quoted(struct imap_lex *lx, struct imap_tok *t, char **cause)
{
	const char	*q;

	for (q = lx->p + 1; q < lx->end && *q != '"'; q++) {
		if (*q == '\\') {
			if (++q >= lx->end)
				break;
		}
	}
	if (q >= lx->end) {
		xasprintf(cause, "unterminated quoted string");
		return (-1);
	}
	t->type = IMAP_TOK_QUOTED;
	t->s = lx->p + 1;
	t->len = (size_t)(q - t->s);
	lx->p = q + 1;
	return (0);
}

static int
lex_literal(struct imap_lex *lx, struct imap_tok *t, char **cause)
{
	const char	*q;
	uint64_t	 size;

	for (q = lx->p + 1; q < lx->end && isdigit((unsigned char)*q); q++)
		/* nothing */;
	if (q >= lx->end || *q != '}' || q == lx->p + 1 ||
	    imap_parse_u64(lx->p + 1, (size_t)(q - lx->p - 1), &size) == -1 ||
	    lx->nextlit >= lx->resp->nlit ||
	    lx->resp->litv[lx->nextlit].size != size) {
		xasprintf(cause, "malformed literal");
		return (-1);
	}
	t->type = IMAP_TOK_LITERAL;
	t->s = lx->p;
	t->len = (size_t)(q + 1 - lx->p);
	t->lit = lx->nextlit++;
	lx->p = q + 1;
	return (0);
}

/* An atom; a [...] section inside it (BODY[HEADER.FIELDS (A B)]) is kept
   whole. */
static int
lex_atom(struct imap_lex *lx, struct imap_tok *t, char **cause)
{
	const char	*q = lx->p;
	int		 depth = 0;

	for (; q < lx->end; q++) {
		if (*q == '[')
			depth++;
		else if (*q == ']' && depth > 0)
			depth--;
		else if (depth == 0 && (*q == ' ' || *q == '(' ||
		    *q == ')' || *q == '"'))
			break;
		if ((unsigned char)*q < 0x20 || *q == 0x7f) {
			xasprintf(cause, "control character in an atom");
			return (-1);
		}
	}
	if (q == lx->p || depth != 0) {
		xasprintf(cause, "malformed atom");
		return (-1);
	}
	t->type = IMAP_TOK_ATOM;
	t->s = lx->p;
	t->len = (size_t)(q - lx->p);
	lx->p = q;
	return (0);
}

/* Skip the rest of a value that starts with t (a list is skipped whole). */
int
imap_lex_skip(struct imap_lex *lx, const struct imap_tok *t, char **cause)
{
	struct imap_tok	 u;
	size_t		 depth;

	if (t->type != IMAP_TOK_LPAREN)
		return (t->type == IMAP_TOK_RPAREN || t->type == IMAP_TOK_END ?
		    -1 : 0);
	for (depth = 1; depth > 0; ) {
		if (imap_lex_next(lx, &u, cause) == -1)
			return (-1);
		if (u.type == IMAP_TOK_END) {
			xasprintf(cause, "unbalanced parentheses");
			return (-1);
		}
		if (u.type == IMAP_TOK_LPAREN)
			depth++;
		else if (u.type == IMAP_TOK_RPAREN)
			depth--;
	}
	return (0);
}

static int
tok_is(const struct imap_tok *t, const char *word)
{
	return (t->type == IMAP_TOK_ATOM && t->len == strlen(word) &&
	    strncasecmp(t->s, word, t->len) == 0);
}

static int
tok_u32(const struct imap_tok *t, uint32_t *v)
{
	if (t->type != IMAP_TOK_ATOM)
		return (-1);
	return (imap_parse_u32(t->s, t->len, v));
}

/* Parse len decimal digits as an unsigned 32-bit number. */
int
imap_parse_u32(const char *s, size_t len, uint32_t *v)
{
	uint64_t	 u;

	if (imap_parse_u64(s, len, &u) == -1 || u > UINT32_MAX)
		return (-1);
	*v = (uint32_t)u;
	return (0);
}

/* Parse len decimal digits as an unsigned 64-bit number, checking for
   overflow. */
int
imap_parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t	 u = 0;
	size_t		 i;
	unsigned	 d;

	if (len == 0)
		return (-1);
	for (i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return (-1);
		d = (unsigned)(s[i] - '0');
		if (u > (UINT64_MAX - d) / 10)
			return (-1);
		u = u * 10 + d;
	}
	*v = u;
	return (0);
}

/* Copy the word at *pp (up to a space) into w, upper-cased if upper. */
static int
status_word(const char **pp, const char *end, char *w, size_t wsize,
    int upper)
{
	const char	*p = *pp;
	size_t		 n = 0;

	while (p < end && *p != ' ') {
		if (n + 1 >= wsize)
			return (-1);
		w[n++] = upper ? (char)toupper((unsigned char)*p) : *p;
		p++;
	}
	w[n] = '\0';
	if (n == 0)
		return (-1);
	if (p < end)
		p++;
	*pp = p;
	return (0);
}

static enum imap_cond
status_cond(const char *w)
{
	if (strcmp(w, "OK") == 0)
		return (IMAP_C_OK);
	if (strcmp(w, "NO") == 0)
		return (IMAP_C_NO);
	if (strcmp(w, "BAD") == 0)
		return (IMAP_C_BAD);
	if (strcmp(w, "PREAUTH") == 0)
		return (IMAP_C_PREAUTH);
	if (strcmp(w, "BYE") == 0)
		return (IMAP_C_BYE);
	return (IMAP_C_NONE);
}

/* resp-text: an optional [code] and human text. */
static void
status_text(struct imap_status *st, const char *p)
{
	const char	*q;

	st->code = NULL;
	st->codelen = 0;
	if (*p == '[' && (q = strchr(p, ']')) != NULL) {
		st->code = p + 1;
		st->codelen = (size_t)(q - p - 1);
		p = q + 1;
		while (*p == ' ')
			p++;
	}
	st->text = p;
}

/*
 * Read the first words of a response: kind, tag, condition or data word,
 * response code and text.  Pointers point into resp->line.
 */
int
imap_parse_status(const struct imap_resp *resp, struct imap_status *st,
    char **cause)
{
	const char	*p = resp->line.data, *end;
	char		 num[16];

	memset(st, 0, sizeof *st);
	if (p == NULL || resp->line.len == 0)
		goto bad;
	end = p + resp->line.len;
	if (*p == '+') {
		st->kind = IMAP_R_CONT;
		p++;
		if (*p == ' ')
			p++;
		st->text = st->rest = p;
		return (0);
	}
	if (p[0] == '*' && p[1] == ' ') {
		st->kind = IMAP_R_UNTAGGED;
		p += 2;
		if (isdigit((unsigned char)*p)) {
			if (status_word(&p, end, num, sizeof num, 0) == -1 ||
			    imap_parse_u32(num, strlen(num), &st->num) == -1)
				goto bad;
			st->has_num = 1;
		}
	} else {
		st->kind = IMAP_R_TAGGED;
		if (status_word(&p, end, st->tag, sizeof st->tag, 0) == -1)
			goto bad;
	}
	if (status_word(&p, end, st->word, sizeof st->word, 1) == -1)
		goto bad;
	st->cond = status_cond(st->word);
	if (st->kind == IMAP_R_TAGGED && (st->cond == IMAP_C_NONE ||
	    st->cond == IMAP_C_PREAUTH || st->cond == IMAP_C_BYE))
		goto bad;
	if (st->has_num && st->cond != IMAP_C_NONE)
		goto bad;
	st->rest = p;
	if (st->cond != IMAP_C_NONE)
		status_text(st, p);
	else
		st->text = p;
	return (0);
bad:
	xasprintf(cause, "malformed response");
	return (-1);
}

/*
 * When the response code is name (e.g. "UIDVALIDITY"), return 1 and point
 * *arg and *arglen at its argument (may be empty); else 0.
 */
int
imap_parse_code(const struct imap_status *st, const char *name,
    const char **arg, size_t *arglen)
{
	size_t	 n = strlen(name);

	if (st->code == NULL || st->codelen < n ||
	    strncasecmp(st->code, name, n) != 0 ||
	    (st->codelen > n && st->code[n] != ' '))
		return (0);
	if (arg != NULL) {
		*arg = st->code + n + (st->codelen > n);
		*arglen = st->codelen - n - (st->codelen > n);
	}
	return (1);
}

/* A response code with a number, e.g. [UIDVALIDITY 3857529045]: 1 when
   present and valid. */
int
imap_parse_code_num(const struct imap_status *st, const char *name,
    uint32_t *v)
{
	const char	*arg;
	size_t		 len;

	if (!imap_parse_code(st, name, &arg, &len))
		return (0);
	return (imap_parse_u32(arg, len, v) == 0);
}

/*
 * Decode "* n FETCH (item value ...)", items in any order.  Unknown items
 * are skipped.  The body (BODY[]) is borrowed from resp.
 */
int
imap_parse_fetch(const struct imap_resp *resp, const struct imap_status *st,
    struct imap_fetch *f, char **cause)
{
	struct imap_lex	 lx;
	struct imap_tok	 t;

	memset(f, 0, sizeof *f);
	if (st->kind != IMAP_R_UNTAGGED || !st->has_num ||
	    strcmp(st->word, "FETCH") != 0)
		goto bad;
	f->seq = st->num;
	imap_lex_init(&lx, resp, st->rest);
	if (imap_lex_next(&lx, &t, cause) == -1)
		return (-1);
	if (t.type != IMAP_TOK_LPAREN)
		goto bad;
	for (;;) {
		if (imap_lex_next(&lx, &t, cause) == -1)
			return (-1);
		if (t.type == IMAP_TOK_RPAREN)
			break;
		if (t.type != IMAP_TOK_ATOM)
			goto bad;
		if (fetch_item(&lx, &t, f, cause) == -1)
			return (-1);
	}
	return (0);
bad:
	xasprintf(cause, "malformed FETCH response");
	return (-1);
}

static int
fetch_item(struct imap_lex *lx, const struct imap_tok *name,
    struct imap_fetch *f, char **cause)
{
	struct imap_tok	 t;

	if (tok_is(name, "FLAGS"))
		return (fetch_flags(lx, f, cause));
	if (tok_is(name, "BODY[]"))
		return (fetch_body(lx, f, cause));
	if (imap_lex_next(lx, &t, cause) == -1)
		return (-1);
	if (tok_is(name, "UID")) {
		if (tok_u32(&t, &f->uid) == -1 || f->uid == 0)
			goto bad;
		f->has_uid = 1;
	} else if (tok_is(name, "RFC822.SIZE")) {
		if (t.type != IMAP_TOK_ATOM ||
		    imap_parse_u64(t.s, t.len, &f->size) == -1)
			goto bad;
		f->has_size = 1;
	} else if (imap_lex_skip(lx, &t, cause) == -1) {
		if (*cause == NULL)
			goto bad;
		return (-1);
	}
	return (0);
bad:
	xasprintf(cause, "malformed FETCH item %.*s",
	    (int)(name->len > 32 ? 32 : name->len), name->s);
	return (-1);
}

static int
fetch_flags(struct imap_lex *lx, struct imap_fetch *f, char **cause)
{
	struct imap_tok	 t;

	if (imap_lex_next(lx, &t, cause) == -1)
		return (-1);
	if (t.type != IMAP_TOK_LPAREN)
		goto bad;
	f->has_flags = 1;
	for (;;) {
		if (imap_lex_next(lx, &t, cause) == -1)
			return (-1);
		if (t.type == IMAP_TOK_RPAREN)
			return (0);
		if (t.type != IMAP_TOK_ATOM)
			goto bad;
		if (tok_is(&t, "\\Seen"))
			f->seen = 1;
		else if (tok_is(&t, "\\Deleted"))
			f->deleted = 1;
	}
bad:
	xasprintf(cause, "malformed FETCH FLAGS");
	return (-1);
}

static int
fetch_body(struct imap_lex *lx, struct imap_fetch *f, char **cause)
{
	const struct imap_resp	*rp = lx->resp;
	const struct imap_lit	*lit;
	struct imap_tok		 t;

	if (imap_lex_next(lx, &t, cause) == -1)
		return (-1);
	switch (t.type) {
	case IMAP_TOK_LITERAL:
		lit = &rp->litv[t.lit];
		f->has_body = 1;
		f->body_size = lit->size;
		if (!lit->dropped) {
			f->body = rp->lits.data + lit->off;
			f->body_len = (size_t)lit->size;
		}
		return (0);
	case IMAP_TOK_QUOTED:
		/* Only a message without CR, LF or escapes fits here. */
		if (memchr(t.s, '\\', t.len) != NULL)
			break;
		f->has_body = 1;
		f->body = t.s;
		f->body_len = t.len;
		f->body_size = t.len;
		return (0);
	case IMAP_TOK_ATOM:
		if (tok_is(&t, "NIL"))
			return (0);
		break;
	default:
		break;
	}
	xasprintf(cause, "malformed FETCH BODY[]");
	return (-1);
}

/*
 * Append the UIDs of "* SEARCH n n ..." to *uids (*n used, *alloc
 * allocated), at most cap in all.  A trailing (MODSEQ n) is ignored.
 */
int
imap_parse_search(const struct imap_resp *resp, const struct imap_status *st,
    uint32_t **uids, size_t *n, size_t *alloc, size_t cap, char **cause)
{
	struct imap_lex	 lx;
	struct imap_tok	 t;
	uint32_t	 u;

	imap_lex_init(&lx, resp, st->rest);
	for (;;) {
		if (imap_lex_next(&lx, &t, cause) == -1)
			return (-1);
		if (t.type == IMAP_TOK_END)
			return (0);
		if (t.type == IMAP_TOK_LPAREN) {
			if (imap_lex_skip(&lx, &t, cause) == -1)
				return (-1);
			continue;
		}
		if (tok_u32(&t, &u) == -1 || u == 0) {
			xasprintf(cause, "malformed SEARCH response");
			return (-1);
		}
		if (*n >= cap) {
			xasprintf(cause, "more than %zu messages", cap);
			return (-1);
		}
		if (*n == *alloc) {
			*alloc = *alloc == 0 ? 64 : *alloc * 2;
			*uids = xreallocarray(*uids, *alloc, sizeof **uids);
		}
		(*uids)[(*n)++] = u;
	}
}

/*
 * The capability list in s (len bytes) as " CAP1 CAP2 " upper-cased, for
 * imap_capability_has.  The caller frees it.
 */
char *
imap_parse_capability(const char *s, size_t len)
{
	struct buf	 b;
	size_t		 i;
	char		 c;

	buf_init(&b, SIZE_MAX - 1);
	buf_add(&b, " ", 1);
	for (i = 0; i < len; i++) {
		c = (char)toupper((unsigned char)s[i]);
		if (c == ' ' && b.data[b.len - 1] == ' ')
			continue;
		buf_add(&b, &c, 1);
	}
	if (b.data[b.len - 1] != ' ')
		buf_add(&b, " ", 1);
	return (buf_steal(&b, NULL));
}

/* Is name (case-insensitive) in a list made by imap_parse_capability? */
int
imap_capability_has(const char *caps, const char *name)
{
	char	*needle, *p;
	int	 found;

	if (caps == NULL || *name == '\0' || strchr(name, ' ') != NULL)
		return (0);
	xasprintf(&needle, " %s ", name);
	for (p = needle; *p != '\0'; p++)
		*p = (char)toupper((unsigned char)*p);
	found = strstr(caps, needle) != NULL;
	free(needle);
	return (found);
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t	 x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x < y ? -1 : x > y);
}

/* Sort UIDs ascending, drop duplicates and zeros; returns the new count. */
size_t
imap_uids_sort(uint32_t *uids, size_t n)
{
	size_t	 i, j;

	if (n == 0)
		return (0);
	qsort(uids, n, sizeof *uids, uid_cmp);
	for (i = j = 0; i < n; i++) {
		if (uids[i] == 0 || (j > 0 && uids[j - 1] == uids[i]))
			continue;
		uids[j++] = uids[i];
	}
	return (j);
}

/*
 * Format the first UIDs of a sorted, duplicate-free array as an IMAP
 * sequence set with runs compressed (1:5,7,9:12): at most maxuids UIDs and,
 * unless the first element alone is longer, at most maxlen characters.
 * *used says how many UIDs it holds (at least one when n > 0).  The caller
 * frees the result.
 */
char *
imap_uidset(const uint32_t *uids, size_t n, size_t maxuids, size_t maxlen,
    size_t *used)
{
	struct buf	 b;
	char		 piece[32];
	size_t		 i, j, lim;
	int		 len;

	buf_init(&b, SIZE_MAX - 1);
	buf_add(&b, "", 0);
	lim = n < maxuids ? n : maxuids;
	for (i = 0; i < lim; i = j + 1) {
		for (j = i; j + 1 < lim && uids[j + 1] == uids[j] + 1; j++)
			/* nothing */;
		if (j == i)
			len = snprintf(piece, sizeof piece, "%s%u",
			    i == 0 ? "" : ",", uids[i]);
		else
			len = snprintf(piece, sizeof piece, "%s%u:%u",
			    i == 0 ? "" : ",", uids[i], uids[j]);
		if (i > 0 && b.len + (size_t)len > maxlen)
			break;
		buf_add(&b, piece, (size_t)len);
	}
	*used = i;
	return (buf_steal(&b, NULL));
}

/*
 * s as an IMAP quoted string ("a \"b\" \\c"), or NULL when it cannot be one
 * (CR, LF, other control characters or 8-bit bytes).  The caller frees it.
 */
char *
imap_quote(const char *s)
{
	struct buf	 b;
	const char	*p;

	for (p = s; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			return (NULL);
	}
	buf_init(&b, SIZE_MAX - 1);
	buf_add(&b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			buf_add(&b, "\\", 1);
		buf_add(&b, p, 1);
	}
	buf_add(&b, "\"", 1);
	return (buf_steal(&b, NULL));
}

/* The contents of a quoted string (as the lexer gives it) unescaped. */
char *
imap_unquote(const char *s, size_t len)
{
	char	*out;
	size_t	 i, j;

	out = xmalloc(len + 1);
	for (i = j = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len)
			i++;
		out[j++] = s[i];
	}
	out[j] = '\0';
	return (out);
}

/* Write UTF-16 units in modified BASE64 between & and -. */
static void
utf7_flush(struct buf *b, const uint16_t *u, size_t n)
{
	static const char	 b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+,";
	uint32_t		 acc = 0;
	size_t			 i;
	int			 bits = 0;

	buf_add(b, "&", 1);
	for (i = 0; i < n; i++) {
		acc = (acc << 16) | u[i];
		bits += 16;
		while (bits >= 6) {
			bits -= 6;
			buf_add(b, &b64[(acc >> bits) & 0x3f], 1);
		}
	}
	if (bits > 0)
		buf_add(b, &b64[(acc << (6 - bits)) & 0x3f], 1);
	buf_add(b, "-", 1);
}

/*
 * Is the ASCII name valid modified UTF-7: each & starts "&-" or a run of
 * modified BASE64 closed by "-"?
 */
static int
utf7_valid(const char *s)
{
	const char	*p;
	size_t		 n;

	for (p = s; (p = strchr(p, '&')) != NULL; p += n + 2) {
		n = strspn(p + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "abcdefghijklmnopqrstuvwxyz0123456789+,");
		if (p[n + 1] != '-')
			return (0);
	}
	return (1);
}

/*
 * A mailbox name as sent on the wire.  A printable ASCII name that is
 * valid modified UTF-7 is sent as it is (it may be encoded already); any
 * other name is converted to modified UTF-7 (RFC 3501 5.1.3), so a lone
 * "&" becomes "&-".  Control characters and invalid UTF-8
 * are refused (NULL and *cause).  The result is printable ASCII, so
 * imap_quote always accepts it.  The caller frees it.
 */
char *
imap_mailbox_encode(const char *name, char **cause)
{
	const unsigned char	*p, *end;
	struct buf		 b;
	uint16_t		*u;
	uint32_t		 cp;
	size_t			 nu = 0, n;
	char			 c;

	end = (const unsigned char *)name + strlen(name);
	if (*name == '\0') {
		xasprintf(cause, "empty mailbox name");
		return (NULL);
	}
	for (p = (const unsigned char *)name; p < end; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			xasprintf(cause, "control character in mailbox name");
			return (NULL);
		}
	}
	for (p = (const unsigned char *)name; p < end && *p < 0x80; p++)
		/* nothing */;
	if (p == end && utf7_valid(name))
		return (xstrdup(name));
	/* At most one UTF-16 unit per input byte. */
	u = xreallocarray(NULL, (size_t)(end - p) + 1, sizeof *u);
	buf_init(&b, SIZE_MAX - 1);
	for (p = (const unsigned char *)name; p < end; ) {
		if ((n = utf8_decode(p, (size_t)(end - p), &cp)) == 0) {
			buf_free(&b);
			free(u);
			xasprintf(cause, "mailbox name is not valid UTF-8");
			return (NULL);
		}
		p += n;
		if (cp >= 0x80) {
			if (cp >= 0x10000) {
				cp -= 0x10000;
				u[nu++] = (uint16_t)(0xd800 + (cp >> 10));
				u[nu++] = (uint16_t)(0xdc00 + (cp & 0x3ff));
			} else
				u[nu++] = (uint16_t)cp;
			continue;
		}
		if (nu > 0) {
			utf7_flush(&b, u, nu);
			nu = 0;
		}
		if (cp == '&')
			buf_add(&b, "&-", 2);
		else {
			c = (char)cp;
			buf_add(&b, &c, 1);
		}
	}
	if (nu > 0)
		utf7_flush(&b, u, nu);
	free(u);
	return (buf_steal(&b, NULL));
}

/*
 * A user name for an identity key: percent-encoded where it could be taken
 * for a separator (%, @, /, :, ;) and outside printable ASCII.
 */
static char *
identity_user(const char *user)
{
	struct buf	 b;
	const unsigned char *p;
	char		 c[4];

	buf_init(&b, SIZE_MAX - 1);
	for (p = (const unsigned char *)user; *p != '\0'; p++) {
		if (*p <= 0x20 || *p >= 0x7f || strchr("%@/:;", *p) != NULL)
			snprintf(c, sizeof c, "%%%02X", *p);
		else
			snprintf(c, sizeof c, "%c", *p);
		buf_add(&b, c, strlen(c));
	}
	return (buf_steal(&b, NULL));
}

/*
 * The identity of a mailbox, "imap://USER@HOST:PORT/FOLDER": the account
 * (USER, see identity_user), the server (HOST lower-cased, PORT always
 * written) and the folder as the server names it (imap_mailbox_encode,
 * and INBOX in capitals whatever its case: RFC 3501 5.1).  The scheme is
 * always imap: TLS is how we reach the mailbox, not which one it is.
 * user may be NULL (no "USER@").  NULL and *cause when the folder name
 * cannot be sent.  The caller frees the key.
 */
char *
imap_identity_key(const char *user, const char *host, unsigned port,
    const char *folder, char **cause)
{
	char	*enc, *u, *h, *key;
	size_t	 i;

	if (strcasecmp(folder, "INBOX") == 0)
		folder = "INBOX";
	if ((enc = imap_mailbox_encode(folder, cause)) == NULL)
		return (NULL);
	h = xstrdup(host);
	for (i = 0; h[i] != '\0'; i++)
		h[i] = (char)tolower((unsigned char)h[i]);
	u = user != NULL ? identity_user(user) : NULL;
	xasprintf(&key, "imap://%s%s%s:%u/%s", u != NULL ? u : "",
	    u != NULL ? "@" : "", h, port, enc);
	free(u);
	free(h);
	free(enc);
	return (key);
}

/* A quoted or literal token as a C string (NULL for NIL, a literal that
   was dropped or one holding a NUL).  The caller frees it. */
static char *
tok_string(const struct imap_lex *lx, const struct imap_tok *t)
{
	const struct imap_lit	*lit;
	const char		*data;

	if (t->type == IMAP_TOK_QUOTED)
		return (imap_unquote(t->s, t->len));
	if (t->type != IMAP_TOK_LITERAL)
		return (NULL);
	lit = &lx->resp->litv[t->lit];
	data = lx->resp->lits.data + lit->off;
	if (lit->dropped || memchr(data, '\0', (size_t)lit->size) != NULL)
		return (NULL);
	return (xstrndup(data, (size_t)lit->size));
}

/* A hierarchy delimiter: a one-character string, or NIL ('\0'). */
static int
tok_delim(const struct imap_lex *lx, const struct imap_tok *t, char *delim)
{
	char	*s;

	if (tok_is(t, "NIL")) {
		*delim = '\0';
		return (0);
	}
	if ((s = tok_string(lx, t)) == NULL)
		return (-1);
	if (strlen(s) != 1) {
		free(s);
		return (-1);
	}
	*delim = s[0];
	free(s);
	return (0);
}

/*
 * Decode "* NAMESPACE personal other shared" (RFC 2342): the prefix and
 * delimiter of the first personal namespace.  No personal namespace (NIL)
 * gives an empty prefix and delimiter '\0'.  The caller frees *prefix.
 */
int
imap_parse_namespace(const struct imap_resp *resp,
    const struct imap_status *st, char **prefix, char *delim, char **cause)
{
	struct imap_lex	 lx;
	struct imap_tok	 t;

	*prefix = NULL;
	*delim = '\0';
	imap_lex_init(&lx, resp, st->rest);
	if (imap_lex_next(&lx, &t, cause) == -1)
		return (-1);
	if (tok_is(&t, "NIL")) {
		*prefix = xstrdup("");
		return (0);
	}
	if (t.type != IMAP_TOK_LPAREN ||
	    imap_lex_next(&lx, &t, cause) == -1 || t.type != IMAP_TOK_LPAREN ||
	    imap_lex_next(&lx, &t, cause) == -1 ||
	    (*prefix = tok_string(&lx, &t)) == NULL ||
	    imap_lex_next(&lx, &t, cause) == -1 ||
	    tok_delim(&lx, &t, delim) == -1) {
		free(*prefix);
		*prefix = NULL;
		if (*cause == NULL)
			xasprintf(cause, "malformed NAMESPACE response");
		return (-1);
	}
	return (0);
}

/*
 * Decode the delimiter of "* LIST (flags) delim name", as the answer to
 * LIST "" "" gives it ('\0' for NIL: a flat namespace).
 */
int
imap_parse_list_delim(const struct imap_resp *resp,
    const struct imap_status *st, char *delim, char **cause)
{
	struct imap_lex	 lx;
	struct imap_tok	 t;

	imap_lex_init(&lx, resp, st->rest);
	if (imap_lex_next(&lx, &t, cause) == -1)
		return (-1);
	if (t.type != IMAP_TOK_LPAREN ||
	    imap_lex_skip(&lx, &t, cause) == -1 ||
	    imap_lex_next(&lx, &t, cause) == -1 ||
	    tok_delim(&lx, &t, delim) == -1) {
		if (*cause == NULL)
			xasprintf(cause, "malformed LIST response");
		return (-1);
	}
	return (0);
}

/* Is name INBOX or below it ("INBOX" then the delimiter), in any case? */
static int
folder_is_inbox(const char *name, char delim)
{
	return (strncasecmp(name, "INBOX", 5) == 0 &&
	    (name[5] == '\0' || (delim != '\0' && name[5] == delim)));
}

/*
 * Map a configured folder name, written with '/' between levels, to the
 * server's form: '/' becomes the server's delimiter, and the personal
 * namespace prefix is put in front unless the name is INBOX, below INBOX
 * or starts with the prefix already.  INBOX is written in upper case.  So
 * with prefix "INBOX." and delimiter '.', "Reports/Archive" becomes
 * "INBOX.Reports.Archive"; with prefix "" and '/', it stays.  A name
 * written in the server's form ("INBOX.Archive") is kept.  Refused: empty
 * names or levels ("/a", "a//b", "a/"), and levels on a server without a
 * hierarchy.  The result is still UTF-8 (imap_mailbox_encode comes
 * after).  The caller frees it.
 */
char *
imap_folder_map(const char *name, const char *prefix, char delim,
    char **cause)
{
	char	*s, *out, *p;
	size_t	 n;

	if (*name == '\0' || *name == '/' || name[strlen(name) - 1] == '/' ||
	    strstr(name, "//") != NULL) {
		xasprintf(cause, "empty folder name or level");
		return (NULL);
	}
	if (delim == '\0' && strchr(name, '/') != NULL) {
		xasprintf(cause, "the server has no folder hierarchy");
		return (NULL);
	}
	s = xstrdup(name);
	for (p = s; *p != '\0'; p++) {
		if (*p == '/')
			*p = delim;
	}
	if (folder_is_inbox(s, delim)) {
		memcpy(s, "INBOX", 5);
		return (s);
	}
	n = prefix == NULL ? 0 : strlen(prefix);
	if (n == 0 || strncmp(s, prefix, n) == 0 ||
	    (folder_is_inbox(prefix, delim) && strncasecmp(s, prefix, n) == 0))
		return (s);
	xasprintf(&out, "%s%s", prefix, s);
	free(s);
	return (out);
}

/*
 * The criteria of a UID SEARCH: "UID n:*" when uid_from is not 0, then
 * "UNDELETED" or "UNSEEN UNDELETED", then " SINCE d-Mon-yyyy" (the UTC
 * date of since) when since is not 0, then " MODSEQ m" when modseq_from
 * is not 0.  Built from numbers and fixed words only.  The caller frees
 * it.
 */
char *
imap_search_criteria(int unseen, time_t since, uint32_t uid_from,
    uint64_t modseq_from)
{
	static const char	*mon[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm		 tm;
	struct buf		 b;
	char			 w[64];
	int			 n;

	buf_init(&b, 256);
	if (uid_from != 0) {
		n = snprintf(w, sizeof w, "UID %" PRIu32 ":* ", uid_from);
		buf_add(&b, w, (size_t)n);
	}
	n = snprintf(w, sizeof w, "%sUNDELETED", unseen ? "UNSEEN " : "");
	buf_add(&b, w, (size_t)n);
	if (since != 0 && gmtime_r(&since, &tm) != NULL &&
	    tm.tm_mon >= 0 && tm.tm_mon < 12 && tm.tm_year >= -1900 &&
	    tm.tm_year <= 9999 - 1900) {
		n = snprintf(w, sizeof w, " SINCE %d-%s-%04d", tm.tm_mday,
		    mon[tm.tm_mon], tm.tm_year + 1900);
		buf_add(&b, w, (size_t)n);
	}
	if (modseq_from != 0) {
		n = snprintf(w, sizeof w, " MODSEQ %" PRIu64, modseq_from);
		buf_add(&b, w, (size_t)n);
	}
	return (buf_steal(&b, NULL));
}
