/*
 * notify.h: systemd service notifications (empty stubs without libsystemd).
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <stdint.h>

void		notify_ready(void);
void		notify_stopping(void);
void		notify_status(const char *, ...) printflike(1, 2);
uint64_t	notify_watchdog_usec(void);
void		notify_watchdog(void);

#endif
