/*
 * buf.c: the growable byte buffer with a hard cap (common.h).  Growth
 * beyond the cap is refused, not fatal: the cap is how a network-fed
 * buffer says "too large" to its caller.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/common.h"

void
buf_init(struct buf *b, size_t cap)
{
	memset(b, 0, sizeof *b);
	b->cap = cap;
}

int
buf_add(struct buf *b, const void *data, size_t len)
{
	size_t	 need, nsize;

	if (len > b->cap || b->len > b->cap - len)
		return (-1);
	need = b->len + len + 1;
	if (need > b->size) {
		nsize = b->size == 0 ? 4096 : b->size;
		while (nsize < need)
			nsize = nsize > SIZE_MAX / 2 ? need : nsize * 2;
		b->data = xrealloc(b->data, nsize);
		b->size = nsize;
	}
	if (len != 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return (0);
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char	*p;

	if (b->data == NULL)
		buf_add(b, "", 0);
	p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = b->size = 0;
	return (p);
}
