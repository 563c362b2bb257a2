/*
 * mime-sha.c: SHA-256 for the ledger and payload identities.
 *
 * libcrypto's SHA-256 uses the CPU's SHA instructions where it has them
 * (bench/README.md has what that gained), and every message and every
 * decompressed payload is hashed once.  The digest is
 * fetched once per process.  A libcrypto failure here can only be a lack
 * of memory, so it is fatal like any other.
 */
#include "config.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/common.h"
#include "mime/mime_p.h"

struct mime_sha {
	EVP_MD_CTX	*ctx;
};

static pthread_once_t	 sha_once = PTHREAD_ONCE_INIT;
static const EVP_MD	*sha_md;

static void
sha_fetch(void)
{
	EVP_MD	*md;

	/* An explicit fetch spares every init a lookup by name. */
	if ((md = EVP_MD_fetch(NULL, "SHA256", NULL)) != NULL)
		sha_md = md;	/* kept for the life of the process */
	else
		sha_md = EVP_sha256();
}

struct mime_sha *
mime_sha_new(void)
{
	struct mime_sha	*h;

	pthread_once(&sha_once, sha_fetch);
	h = xcalloc(1, sizeof *h);
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		fatalx("%s: out of memory", __func__);
	mime_sha_reset(h);
	return (h);
}

void
mime_sha_add(struct mime_sha *h, const void *data, size_t len)
{
	if (len > 0 && EVP_DigestUpdate(h->ctx, data, len) != 1)
		fatalx("%s: EVP_DigestUpdate failed", __func__);
}

/* The digest of what was added so far; h goes on. */
void
mime_sha_peek(const struct mime_sha *h, unsigned char out[32])
{
	EVP_MD_CTX	*c;
	unsigned int	 n = 0;

	if ((c = EVP_MD_CTX_new()) == NULL ||
	    EVP_MD_CTX_copy_ex(c, h->ctx) != 1 ||
	    EVP_DigestFinal_ex(c, out, &n) != 1 || n != 32)
		fatalx("%s: cannot finish a copy of the digest", __func__);
	EVP_MD_CTX_free(c);
}

/* Start again, as if new. */
void
mime_sha_reset(struct mime_sha *h)
{
	if (EVP_DigestInit_ex(h->ctx, sha_md, NULL) != 1)
		fatalx("%s: EVP_DigestInit_ex failed", __func__);
}

void
mime_sha_end(struct mime_sha *h, unsigned char out[32])
{
	unsigned int	 n = 0;

	if (EVP_DigestFinal_ex(h->ctx, out, &n) != 1 || n != 32)
		fatalx("%s: EVP_DigestFinal_ex failed", __func__);
	mime_sha_free(h);
}

void
mime_sha_free(struct mime_sha *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void
mime_sha256(const void *data, size_t len, unsigned char out[32])
{
	struct mime_sha	*h;

	h = mime_sha_new();
	mime_sha_add(h, data, len);
	mime_sha_end(h, out);
}
