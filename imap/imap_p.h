/*
 * imap_p.h: internals shared by imap.c, imap-parse.c and the unit test.
 *
 * imap-parse.c is pure (no curl, no I/O): it frames server responses
 * (lines and {N} literals, with caps), splits them into tokens and decodes
 * the few responses this module needs (status, response codes, SEARCH,
 * FETCH, NAMESPACE, LIST), and formats what we send (UID sets, quoted
 * mailbox names, folder names mapped to the server's hierarchy, SEARCH
 * criteria).
 */
#ifndef IMAP_P_H
#define IMAP_P_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/common.h"

/*
 * One complete server response.  line holds its text with each CRLF that
 * ends a line segment removed and every literal left in place as its
 * "{N}" marker; the literal bytes are in lits, described in order by litv.
 * A literal larger than what is left of the literal budget is read and
 * discarded: its dropped flag is set and only its announced size is kept.
 */
struct imap_lit {
	size_t		 off;		/* into lits.data */
	uint64_t	 size;		/* announced */
	int		 dropped;	/* over the cap: bytes not kept */
};

struct imap_resp {
	struct buf	 line;		/* NUL-terminated, no NUL inside */
	struct buf	 lits;
	struct imap_lit	*litv;
	size_t		 nlit;
	size_t		 alit;
};

/* Incremental response reader: feed it bytes as they arrive. */
struct imap_reader {
	uint64_t	 max_line;	/* cap on the text of one response */
	uint64_t	 max_lit;	/* cap on literal bytes kept, per
					   response */
	int		 in_lit;	/* reading a literal's bytes */
	uint64_t	 lit_left;
	size_t		 seg;		/* start of the current line segment */
	int		 done;		/* resp is complete */
	struct imap_resp resp;
};

void	imap_reader_init(struct imap_reader *, uint64_t, uint64_t);
void	imap_reader_reset(struct imap_reader *);	/* keeps memory */
void	imap_reader_free(struct imap_reader *);
int	imap_reader_feed(struct imap_reader *, const char *, size_t, size_t *,
	    char **);

/* Tokens of a response, after the framing. */
enum imap_tok_type {
	IMAP_TOK_END = 0,
	IMAP_TOK_ATOM,		/* also numbers, flags, BODY[...]<...> */
	IMAP_TOK_QUOTED,	/* s/len: inside the quotes, still escaped */
	IMAP_TOK_LITERAL,	/* lit: index into resp->litv */
	IMAP_TOK_LPAREN,
	IMAP_TOK_RPAREN
};

struct imap_tok {
	enum imap_tok_type	 type;
	const char		*s;
	size_t			 len;
	size_t			 lit;
};

struct imap_lex {
	const struct imap_resp	*resp;
	const char		*p;
	const char		*end;
	size_t			 nextlit;
};

void	imap_lex_init(struct imap_lex *, const struct imap_resp *,
	    const char *);
int	imap_lex_next(struct imap_lex *, struct imap_tok *, char **);
int	imap_lex_skip(struct imap_lex *, const struct imap_tok *, char **);

/* The first words of a response. */
enum imap_kind {
	IMAP_R_UNTAGGED = 1,	/* "* ..." */
	IMAP_R_TAGGED,		/* "A0001 OK ..." */
	IMAP_R_CONT		/* "+ ..." */
};

enum imap_cond {
	IMAP_C_NONE = 0,	/* a data response: "* 3 EXISTS", "* SEARCH" */
	IMAP_C_OK,
	IMAP_C_NO,
	IMAP_C_BAD,
	IMAP_C_PREAUTH,
	IMAP_C_BYE
};

struct imap_status {
	enum imap_kind	 kind;
	char		 tag[32];	/* tagged only */
	enum imap_cond	 cond;
	int		 has_num;	/* "* 23 EXISTS" */
	uint32_t	 num;
	char		 word[32];	/* upper case: EXISTS, FETCH, SEARCH */
	const char	*code;		/* inside [ ], or NULL */
	size_t		 codelen;
	const char	*text;		/* human text after the code */
	const char	*rest;		/* data after word (data responses) */
};

int	imap_parse_status(const struct imap_resp *, struct imap_status *,
	    char **);
int	imap_parse_code(const struct imap_status *, const char *,
	    const char **, size_t *);
int	imap_parse_code_num(const struct imap_status *, const char *,
	    uint32_t *);

/* What a FETCH response said about one message. */
struct imap_fetch {
	uint32_t	 seq;
	int		 has_uid;
	uint32_t	 uid;
	int		 has_size;
	uint64_t	 size;		/* RFC822.SIZE */
	int		 has_body;	/* BODY[] present and not NIL */
	const char	*body;		/* borrowed from the response; NULL
					   when dropped (over the cap) */
	size_t		 body_len;
	uint64_t	 body_size;	/* announced literal size */
	int		 has_flags;
	int		 seen;
	int		 deleted;
};

int	imap_parse_fetch(const struct imap_resp *, const struct imap_status *,
	    struct imap_fetch *, char **);
int	imap_parse_search(const struct imap_resp *, const struct imap_status *,
	    uint32_t **, size_t *, size_t *, size_t, char **);
int	imap_parse_namespace(const struct imap_resp *,
	    const struct imap_status *, char **, char *, char **);
int	imap_parse_list_delim(const struct imap_resp *,
	    const struct imap_status *, char *, char **);
char	*imap_parse_capability(const char *, size_t);
int	imap_capability_has(const char *, const char *);

/* Numbers. */
int	imap_parse_u32(const char *, size_t, uint32_t *);
int	imap_parse_u64(const char *, size_t, uint64_t *);

/* What we send. */
char	*imap_uidset(const uint32_t *, size_t, size_t, size_t, size_t *);
size_t	 imap_uids_sort(uint32_t *, size_t);
char	*imap_quote(const char *);
char	*imap_unquote(const char *, size_t);
char	*imap_mailbox_encode(const char *, char **);
char	*imap_identity_key(const char *, const char *, unsigned, const char *,
	    char **);
char	*imap_folder_map(const char *, const char *, char, char **);
char	*imap_search_criteria(int, time_t, uint32_t, uint64_t);

#endif
