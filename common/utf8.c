/*
 * utf8.c: the one UTF-8 decoder, for every module that cleans, measures
 * or converts text (the sink's own texts, the ARF parser, enrichment's DNS
 * and MMDB texts, the report command, IMAP mailbox names).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "common/common.h"

/*
 * Decode the sequence at p, reading at most len bytes: its length, with
 * the code point in *cp, or 0 when it is not valid UTF-8 (a stray or
 * missing continuation byte, overlong, a surrogate, beyond U+10FFFF, cut
 * short by len).  A NUL is never a continuation byte, so on a C string
 * len may be the bytes left or more.
 */
size_t
utf8_decode(const unsigned char *p, size_t len, uint32_t *cp)
{
	uint32_t	 c;
	size_t		 n, i;

	if (len == 0)
		return (0);
	if (p[0] < 0x80) {
		*cp = p[0];
		return (1);
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		c = p[0] & 0x07;
	} else
		return (0);
	if (n > len)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		c = (c << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return (0);
	*cp = c;
	return (n);
}
