/*
 * imap-parse-fuzzer.c: libFuzzer target for the IMAP response parser.
 *
 * The input is what a server sends.  Its first byte chooses the size of
 * the pieces it is fed in (as the network would split it) and small caps
 * for a line and for literal bytes, so that the limit paths are reached.
 * Each complete response goes through imap_parse_status and then every
 * decoder that could see it (FETCH, SEARCH, NAMESPACE, LIST, CAPABILITY),
 * and every token is lexed; the bytes of the tagged text are also used as
 * a mailbox name, a folder to map and a quoted string.
 *
 * Build: ./configure CC=clang --enable-fuzzing &&
 *     make tests/fuzz/imap-parse-fuzzer
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "imap/imap_p.h"

int		LLVMFuzzerInitialize(int *, char ***);
int		LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	fuzz_resp(const struct imap_resp *);
static void	fuzz_names(const char *, size_t);
static void	fuzz_touch(const char *, size_t);

static volatile unsigned char	sink_byte;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG_TO_STDERR, 0);
	return (0);
}

/* Read every byte, so ASan sees a pointer out of its bounds. */
static void
fuzz_touch(const char *p, size_t len)
{
	size_t	i;

	for (i = 0; i < len; i++)
		sink_byte ^= (unsigned char)p[i];
}

/* The string helpers on bytes that came from the server. */
static void
fuzz_names(const char *p, size_t len)
{
	char	*s, *u, *q, *c = NULL;

	s = xmalloc(len + 1);
	memcpy(s, p, len);
	s[len] = '\0';
	if ((u = imap_unquote(p, len)) != NULL) {
		fuzz_touch(u, strlen(u));
		free(u);
	}
	if ((u = imap_mailbox_encode(s, &c)) != NULL) {
		if ((q = imap_quote(u)) != NULL) {
			fuzz_touch(q, strlen(q));
			free(q);
		}
		free(u);
	}
	free(c);
	c = NULL;
	if ((u = imap_folder_map(s, "INBOX.", '.', &c)) != NULL)
		free(u);
	free(c);
	c = NULL;
	if ((u = imap_folder_map(s, "", '\0', &c)) != NULL)
		free(u);
	free(c);
	if ((u = imap_parse_capability(s, len)) != NULL) {
		(void)imap_capability_has(u, "MOVE");
		free(u);
	}
	free(s);
}

/* Everything that may be asked of one response. */
static void
fuzz_resp(const struct imap_resp *resp)
{
	struct imap_status	 st;
	struct imap_fetch	 f;
	struct imap_lex		 lx;
	struct imap_tok		 t;
	const char		*code;
	size_t			 codelen, n = 0, alloc = 0;
	uint32_t		*uids = NULL, num;
	char			*cause = NULL, *prefix = NULL, delim;
	int			 i;

	if (imap_parse_status(resp, &st, &cause) == -1) {
		free(cause);
		return;
	}
	if (st.code != NULL) {
		fuzz_touch(st.code, st.codelen);
		(void)imap_parse_code(&st, "UIDVALIDITY", &code, &codelen);
		(void)imap_parse_code_num(&st, "UIDNEXT", &num);
	}
	if (st.text != NULL) {
		fuzz_touch(st.text, strlen(st.text));
		fuzz_names(st.text, strlen(st.text));
	}
	if (st.rest == NULL || st.cond != IMAP_C_NONE)
		return;
	/* Each decoder only for the word imap.c calls it for. */
	if (strcmp(st.word, "FETCH") == 0 &&
	    imap_parse_fetch(resp, &st, &f, &cause) == 0 && f.body != NULL)
		fuzz_touch(f.body, f.body_len);
	if (strcmp(st.word, "SEARCH") == 0 && imap_parse_search(resp, &st,
	    &uids, &n, &alloc, 1000, &cause) == 0)
		(void)imap_uids_sort(uids, n);
	if (strcmp(st.word, "NAMESPACE") == 0 && imap_parse_namespace(resp,
	    &st, &prefix, &delim, &cause) == 0)
		free(prefix);
	if (strcmp(st.word, "LIST") == 0)
		(void)imap_parse_list_delim(resp, &st, &delim, &cause);
	if (strcmp(st.word, "CAPABILITY") == 0 &&
	    (prefix = imap_parse_capability(st.rest, strlen(st.rest))) != NULL)
		free(prefix);
	free(uids);
	free(cause);
	cause = NULL;
	imap_lex_init(&lx, resp, st.rest);
	for (i = 0; i < 10000; i++) {
		if (imap_lex_next(&lx, &t, &cause) == -1)
			break;
		if (t.type == IMAP_TOK_END)
			break;
		if (t.type == IMAP_TOK_ATOM || t.type == IMAP_TOK_QUOTED)
			fuzz_touch(t.s, t.len);
		if (t.type == IMAP_TOK_LPAREN &&
		    imap_lex_skip(&lx, &t, &cause) == -1)
			break;
	}
	free(cause);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct imap_reader	 rd;
	const char		*p;
	size_t			 left, chunk, n, used;
	char			*cause = NULL;
	int			 rv;

	if (size < 1)
		return (0);
	chunk = (data[0] & 0x1f) + 1;
	imap_reader_init(&rd, (data[0] & 0x80) ? 256 : 65536,
	    (data[0] & 0x40) ? 16 : 1 << 20);
	p = (const char *)data + 1;
	left = size - 1;
	while (left > 0) {
		n = left < chunk ? left : chunk;
		rv = imap_reader_feed(&rd, p, n, &used, &cause);
		if (rv == -1)
			break;
		p += used;
		left -= used;
		if (rv == 1) {
			fuzz_resp(&rd.resp);
			imap_reader_reset(&rd);
		} else if (used != n)
			break;		/* the reader must take all or finish */
	}
	free(cause);
	imap_reader_free(&rd);
	return (0);
}
