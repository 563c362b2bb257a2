/*
 * log.c: logging to stderr (the default; systemd's journal collects it) or
 * syslog with facility mail.  Saves errno.  Untrusted bytes must go through
 * log_escape before they reach a format string argument.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/common.h"

static int	log_dest = LOG_TO_STDERR;
static int	log_verbose;

static void	log_vwrite(int, const char *, va_list, int);

void
log_init(int dest, int verbose)
{
	log_dest = dest;
	log_verbose = verbose;
	if (dest == LOG_TO_SYSLOG)
		openlog("dmarc-agent", LOG_PID | LOG_NDELAY, LOG_MAIL);
}

int
log_getverbose(void)
{
	return (log_verbose);
}

static void
log_vwrite(int pri, const char *fmt, va_list ap, int with_errno)
{
	char	*msg;
	int	 saved = errno;

	xvasprintf(&msg, fmt, ap);
	if (log_dest == LOG_TO_SYSLOG) {
		if (with_errno)
			syslog(pri, "%s: %s", msg, strerror(saved));
		else
			syslog(pri, "%s", msg);
	} else {
		if (with_errno)
			fprintf(stderr, "dmarc-agent: %s: %s\n", msg,
			    strerror(saved));
		else
			fprintf(stderr, "dmarc-agent: %s\n", msg);
		fflush(stderr);
	}
	free(msg);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 1)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, fmt, ap, 0);
	va_end(ap);
	exit(1);
}

char *
log_escape(const char *s, size_t len, size_t max)
{
	struct buf	 b;
	char		 tmp[8];
	size_t		 i, n;
	unsigned char	 c;

	buf_init(&b, (size_t)-1);
	n = len < max ? len : max;
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\') {
			snprintf(tmp, sizeof tmp, "\\%03o", c);
			buf_add(&b, tmp, strlen(tmp));
		} else
			buf_add(&b, &s[i], 1);
	}
	if (n < len)
		buf_add(&b, "...", 3);
	return (buf_steal(&b, NULL));
}
