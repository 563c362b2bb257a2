/*
 * common.h: the small common header every module may include.
 *
 * It holds logging, allocation that never fails (x* functions call fatal on
 * out-of-memory), a capped growable buffer and a UTF-8 decoder.  It holds
 * no domain structures: those live in report/report.h and in each module's
 * public header.
 */
#ifndef COMMON_H
#define COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define printflike(a, b) __attribute__((format(printf, a, b)))
#define dead __attribute__((noreturn))

/* log.c */
#define LOG_TO_STDERR	0
#define LOG_TO_SYSLOG	1
void	log_init(int, int);		/* destination, verbosity */
int	log_getverbose(void);
void	log_warn(const char *, ...) printflike(1, 2);	/* appends strerror */
void	log_warnx(const char *, ...) printflike(1, 2);
void	log_info(const char *, ...) printflike(1, 2);
void	log_debug(const char *, ...) printflike(1, 2);
dead void fatal(const char *, ...) printflike(1, 2);	/* appends strerror */
dead void fatalx(const char *, ...) printflike(1, 2);
/*
 * Escape untrusted bytes for a log line: control characters, backslash and
 * bytes >= 0x7f become \ooo; at most max input bytes are shown, then "...".
 * The caller frees the result.
 */
char	*log_escape(const char *, size_t, size_t);

/* xmalloc.c: these never return NULL; they call fatalx on failure. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
int	 xasprintf(char **, const char *, ...) printflike(2, 3);
int	 xvasprintf(char **, const char *, va_list);

/*
 * buf.c: a growable byte buffer with a hard cap.  buf_add returns -1 (and adds
 * nothing) when the cap would be exceeded; the cap is part of the buffer so
 * that every network-fed buffer carries its own limit.  data is always
 * NUL-terminated (the NUL is not counted in len).
 */
struct buf {
	char	*data;
	size_t	 len;
	size_t	 size;
	size_t	 cap;
};
void	buf_init(struct buf *, size_t);		/* cap in bytes */
int	buf_add(struct buf *, const void *, size_t);
void	buf_reset(struct buf *);		/* len = 0, keeps memory */
void	buf_free(struct buf *);
/* Take ownership of the data; the buffer is left empty. */
char	*buf_steal(struct buf *, size_t *);

/*
 * utf8.c: decode one UTF-8 sequence of at most len bytes; its length
 * with the code point in *cp, or 0 when invalid (see utf8.c).
 */
size_t	utf8_decode(const unsigned char *, size_t, uint32_t *);

#endif
