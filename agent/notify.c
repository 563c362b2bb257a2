/*
 * notify.c: tell systemd what the service is doing (Type=notify).
 *
 * With libsystemd (configure finds it; --without-systemd refuses it) these
 * send READY=1, STATUS=..., WATCHDOG=1 and STOPPING=1 to $NOTIFY_SOCKET;
 * without it, or when not started by systemd, they do nothing.
 */
#include "config.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/common.h"
#include "agent/notify.h"

void
notify_ready(void)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, "READY=1");
#endif
}

void
notify_stopping(void)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, "STOPPING=1");
#endif
}

void
notify_status(const char *fmt, ...)
{
#ifdef HAVE_SYSTEMD
	va_list	 ap;
	char	*msg;

	va_start(ap, fmt);
	xvasprintf(&msg, fmt, ap);
	va_end(ap);
	sd_notifyf(0, "STATUS=%s", msg);
	free(msg);
#else
	(void)fmt;
#endif
}

/* The watchdog interval in microseconds, 0 when there is none. */
uint64_t
notify_watchdog_usec(void)
{
#ifdef HAVE_SYSTEMD
	uint64_t	usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return (usec);
#endif
	return (0);
}

void
notify_watchdog(void)
{
#ifdef HAVE_SYSTEMD
	sd_notify(0, "WATCHDOG=1");
#endif
}
