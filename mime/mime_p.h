/*
 * mime_p.h: internals shared by mime.c (the tree walk and the sniffing),
 * mime-stream.c (the pull stream that decompresses on demand),
 * mime-sha.c (SHA-256) and mime-date.c (the Date field).
 *
 * A payload stream is a stack of stages.  Stage 0 reads a buffer held in
 * memory (the decoded part, or a zip that had to be unpacked from an outer
 * container); each stage above it decompresses what the stage below yields:
 * a zip member through libarchive, or a gzip or zlib stream through zlib.
 * Only stage 0 is ever held whole; every decompressing stage enforces the
 * byte and ratio caps while it inflates.
 */
#ifndef MIME_P_H
#define MIME_P_H

#include <glib.h>
#include <zlib.h>

#include "mime/mime.h"

#define MIME_PEEK	512		/* bytes kept for sniffing */
#define MIME_INBUF	65536		/* inflate input chunk */
#define MIME_RATIO_FROM	(8ULL * 1024 * 1024)	/* ratio checked past it */

enum mime_stage_type {
	MIME_STAGE_MEM,			/* a buffer in memory */
	MIME_STAGE_INFLATE,		/* gzip (multi-member) or zlib */
	MIME_STAGE_ZIP			/* one zip member (below: memory) */
};

/* How to build one stage; a stream keeps these to rebuild on rewind. */
struct mime_layer {
	enum mime_stage_type	 type;
	int			 gzip;		/* INFLATE: 1 gzip, 0 zlib */
	unsigned		 index;		/* ZIP: entry number */
};

struct mime_stage {
	struct mime_layer	 layer;
	struct mime_stage	*lower;

	/* MEM */
	const unsigned char	*mem;
	size_t			 memlen;
	size_t			 off;

	/* INFLATE */
	z_stream		 z;
	int			 zinit;
	unsigned char		*in;		/* MIME_INBUF bytes */
	int			 lower_eof;
	int			 done;

	/* ZIP */
	struct archive		*ar;

	uint64_t		 in_bytes;	/* compressed bytes consumed */
	uint64_t		 out_bytes;	/* bytes produced */
};

struct mime_stream {
	const unsigned char	*mem;		/* borrowed: stage 0 */
	size_t			 memlen;
	struct mime_layer	*layers;	/* stages above stage 0 */
	unsigned		 nlayers;
	uint64_t		 max_payload;
	unsigned		 max_ratio;

	struct mime_stage	*stages;	/* nlayers + 1 */

	unsigned char		 peek[MIME_PEEK];
	size_t			 peeklen;
	size_t			 peekoff;

	struct mime_sha		*sha;
	uint64_t		 bytes;		/* handed out since (re)start */
	char			*error;		/* sticky after a failure */
};

/* mime-stream.c */
struct mime_stream *mime_stream_new(const unsigned char *, size_t,
		    const struct mime_layer *, unsigned,
		    const struct mime_limits *, char **);
void		 mime_stream_free(struct mime_stream *);
ssize_t		 mime_stream_peek(struct mime_stream *, const unsigned char **,
		    char **);
const char	*mime_layer_name(const struct mime_layer *);

/* mime-sha.c */
void		 mime_sha_peek(const struct mime_sha *, unsigned char out[32]);
void		 mime_sha_reset(struct mime_sha *);

/* mime-date.c: an RFC 5322 date-time into *t (UTC seconds); 0 or -1. */
int		 mime_date_parse(const char *, int64_t *t);

#endif
