/*
 * enrich_p.h: enrich.c's helpers that tests/unit/tst_enrich.c checks
 * directly.  None of them does I/O.
 */
#ifndef ENRICH_P_H
#define ENRICH_P_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#include "enrich/enrich.h"

/* Longest name in presentation form we keep (DNS caps names at 255). */
#define ENRICH_NAME_MAX		1024
/* Longest text kept from a database (as_org). */
#define ENRICH_TEXT_MAX		256

/* A DNS server address parsed from "IP", "IP:PORT" or "[IPv6]:PORT". */
struct enrich_server {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	uint16_t	 port;		/* 53 when not given */
};

/* 0, or -1 with *cause when the text is not an address. */
int	enrich_parse_server(const char *, struct enrich_server *, char **);

/*
 * Parse an address (IPv4 or IPv6 text) into family and 4 or 16 bytes:
 * 0 or -1.
 */
int	enrich_parse_ip(const char *, int *family, unsigned char addr[16]);

/*
 * The reverse lookup name of an address: "4.3.2.1.in-addr.arpa" or the
 * 32 nibbles under ip6.arpa.  out holds at least 74 bytes.
 */
void	enrich_reverse_name(int family, const unsigned char *addr, char *out,
	    size_t outsz);

/* Map a c-ares status (ARES_*) to ours. */
enum enrich_status enrich_status_from_ares(int);

/*
 * A name as we store it: the trailing dot removed, bytes outside
 * printable ASCII and the backslash as \ddd, at most ENRICH_NAME_MAX
 * bytes.  NULL for an empty name.  The caller frees it.
 */
char	*enrich_clean_name(const char *);

/*
 * Text from a database: valid UTF-8 is kept (control characters become
 * '?'), an invalid byte becomes '?', at most max bytes (not cutting a
 * character).  The caller frees it.
 */
char	*enrich_clean_text(const char *, size_t len, size_t max);

#endif
