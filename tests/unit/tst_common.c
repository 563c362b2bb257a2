/*
 * tst_common.c: what every module leans on (common/): the capped buffer,
 * the UTF-8 decoder and the escaping of untrusted bytes for log lines.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"
#include "tests/tst.h"

/* The cap is a hard limit: refused whole, nothing added, data kept. */
static void
test_buf(void)
{
	struct buf	 b;
	char		*p;
	size_t		 len;

	buf_init(&b, 10);
	CHECK_INT(buf_add(&b, "0123456789", 10), 0);
	CHECK_INT(buf_add(&b, "x", 1), -1);
	CHECK_INT(b.len, 10);
	CHECK_STR(b.data, "0123456789");
	buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	CHECK_INT(buf_add(&b, "abc", 3), 0);
	CHECK_INT(buf_add(&b, "0123456789", 10), -1);
	CHECK_INT(buf_add(&b, "", 0), 0);
	p = buf_steal(&b, &len);
	CHECK_STR(p, "abc");
	CHECK_INT(len, 3);
	CHECK(b.data == NULL && b.len == 0);
	free(p);
	/* Stealing an empty buffer gives an empty string, not NULL. */
	buf_init(&b, 10);
	p = buf_steal(&b, NULL);
	CHECK_STR(p, "");
	free(p);
	/* A cap near SIZE_MAX: the length check must not overflow. */
	buf_init(&b, SIZE_MAX);
	CHECK_INT(buf_add(&b, "ab", 2), 0);
	CHECK_INT(buf_add(&b, "x", SIZE_MAX - 1), -1);
	buf_free(&b);
	CHECK(b.data == NULL);
}

static const struct {
	const char	*in;
	size_t		 len;		/* bytes offered */
	size_t		 want;		/* sequence length, 0: invalid */
	uint32_t	 cp;
} utf8[] = {
	{ "A", 1, 1, 0x41 },
	{ "\xc3\xa9", 2, 2, 0xe9 },
	{ "\xe2\x82\xac", 3, 3, 0x20ac },
	{ "\xf0\x9f\x98\x80", 4, 4, 0x1f600 },
	{ "\xf4\x8f\xbf\xbf", 4, 4, 0x10ffff },
	{ "\xc3\xa9", 1, 0, 0 },		/* cut short by len */
	{ "\xc3", 2, 0, 0 },			/* NUL is no continuation */
	{ "\xc0\xaf", 2, 0, 0 },		/* overlong, two bytes */
	{ "\xe0\x80\xaf", 3, 0, 0 },		/* overlong, three */
	{ "\xf0\x80\x80\xaf", 4, 0, 0 },	/* overlong, four */
	{ "\xed\xa0\x80", 3, 0, 0 },		/* a surrogate */
	{ "\xf4\x90\x80\x80", 4, 0, 0 },	/* beyond U+10FFFF */
	{ "\x80", 1, 0, 0 },			/* a stray continuation */
	{ "\xff", 1, 0, 0 },
	{ "\xe2\x28\xa1", 3, 0, 0 },		/* a bad continuation */
	{ "", 0, 0, 0 },
};

static void
test_utf8(void)
{
	uint32_t	cp;
	size_t		i, n;

	for (i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
		cp = 0;
		n = utf8_decode((const unsigned char *)utf8[i].in, utf8[i].len,
		    &cp);
		CHECK_INT(n, utf8[i].want);
		if (n != 0)
			CHECK_INT(cp, utf8[i].cp);
	}
}

static void
test_escape(void)
{
	char	*e;

	e = log_escape("plain text", 10, 100);
	CHECK_STR(e, "plain text");
	free(e);
	e = log_escape("a\nb\\c\x7f\xff", 7, 100);
	CHECK_STR(e, "a\\012b\\134c\\177\\377");
	free(e);
	e = log_escape("0123456789", 10, 4);
	CHECK_STR(e, "0123...");
	free(e);
	e = log_escape("a\0b", 3, 100);		/* a NUL is shown, not an end */
	CHECK_STR(e, "a\\000b");
	free(e);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_buf();
	test_utf8();
	test_escape();
	return (TST_DONE());
}
