/*
 * tst_enrich.c: the enrich module without a DNS server: resolver address
 * parsing, reverse names, status words, name and text cleaning, base
 * domains from the Public Suffix List, and the lookup loop against a UDP
 * socket that never answers (every address times out, each query is sent
 * once, the batch ends in bounded time) or a port nobody listens on.
 * Lookups with answers are tests/server/enrich.test's, against a real unbound.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ares.h>

#include "common/common.h"
#include "enrich/enrich.h"
#include "enrich/enrich_p.h"
#include "tests/tst.h"

static void	test_parse_server(void);
static void	test_reverse(void);
static void	test_status(void);
static void	test_clean(void);
static void	test_base_domain(void);
static void	test_silent(void);
static void	test_stop(void);
static void	test_refused(void);
static void	test_bad_opts(void);
static int	udp_socket(int *);
static double	now_ms(void);
static int	collect(const struct enrich_result *, void *);
static int	stop_first(const struct enrich_result *, void *);
static size_t	drain_queries(int, char names[][80], size_t);

static const struct {
	const char	*in;
	int		 family;	/* 0: refused */
	const char	*addr;
	int		 port;
} servers[] = {
	{ "127.0.0.1", AF_INET, "127.0.0.1", 53 },
	{ "127.0.0.1:5353", AF_INET, "127.0.0.1", 5353 },
	{ "192.0.2.7:65535", AF_INET, "192.0.2.7", 65535 },
	{ "[::1]:5353", AF_INET6, "::1", 5353 },
	{ "[2001:db8::53]", AF_INET6, "2001:db8::53", 53 },
	{ "::1", AF_INET6, "::1", 53 },
	{ "2001:db8::1", AF_INET6, "2001:db8::1", 53 },
	{ "", 0, NULL, 0 },
	{ "1.2.3.4:", 0, NULL, 0 },
	{ "1.2.3.4:0", 0, NULL, 0 },
	{ "1.2.3.4:65536", 0, NULL, 0 },
	{ "1.2.3.4:53x", 0, NULL, 0 },
	{ "1.2.3.4: 53", 0, NULL, 0 },
	{ "[1.2.3.4]:53", 0, NULL, 0 },
	{ "[::1", 0, NULL, 0 },
	{ "[::1]x", 0, NULL, 0 },
	{ "[::1]:", 0, NULL, 0 },
	{ "dns.example:53", 0, NULL, 0 },
	{ "1.2.3", 0, NULL, 0 },
	{ "[]:53", 0, NULL, 0 },
};

static void
test_parse_server(void)
{
	struct enrich_server	 sv;
	unsigned char		 want[16];
	char			*cause;
	size_t			 i;
	int			 rc;

	for (i = 0; i < sizeof servers / sizeof servers[0]; i++) {
		cause = NULL;
		rc = enrich_parse_server(servers[i].in, &sv, &cause);
		if (servers[i].family == 0) {
			CHECK_INT(rc, -1);
			CHECK(cause != NULL && strstr(cause, "resolver") !=
			    NULL);
			if (rc == 0)
				fprintf(stderr, "accepted \"%s\"\n",
				    servers[i].in);
			free(cause);
			continue;
		}
		CHECK_INT(rc, 0);
		if (rc != 0) {
			fprintf(stderr, "refused \"%s\": %s\n", servers[i].in,
			    cause);
			free(cause);
			continue;
		}
		memset(want, 0, sizeof want);
		inet_pton(servers[i].family, servers[i].addr, want);
		CHECK_INT(sv.family, servers[i].family);
		CHECK(memcmp(sv.addr, want, 16) == 0);
		CHECK_INT(sv.port, servers[i].port);
	}
}

static void
test_reverse(void)
{
	static const struct {
		const char	*ip;
		const char	*name;
	} t[] = {
		{ "192.0.2.1", "1.2.0.192.in-addr.arpa" },
		{ "10.20.30.255", "255.30.20.10.in-addr.arpa" },
		{ "2001:db8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
		    ".0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa" },
		{ "::ffff:192.0.2.1", "1.0.2.0.0.0.0.c.f.f.f.f.0.0.0.0.0.0.0.0"
		    ".0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa" },
	};
	unsigned char	 a[16];
	char		 name[80];
	size_t		 i;
	int		 family;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		CHECK_INT(enrich_parse_ip(t[i].ip, &family, a), 0);
		enrich_reverse_name(family, a, name, sizeof name);
		CHECK_STR(name, t[i].name);
	}
	CHECK_INT(enrich_parse_ip("192.0.2", &family, a), -1);
	CHECK_INT(enrich_parse_ip("192.0.2.1/32", &family, a), -1);
	CHECK_INT(enrich_parse_ip(NULL, &family, a), -1);
}

static void
test_status(void)
{
	static const struct {
		int			 ares;
		enum enrich_status	 st;
		const char		*name;
	} t[] = {
		{ ARES_SUCCESS, ENRICH_OK, "ok" },
		{ ARES_ENOTFOUND, ENRICH_NXDOMAIN, "nxdomain" },
		{ ARES_ENODATA, ENRICH_NO_PTR, "no_ptr" },
		{ ARES_ETIMEOUT, ENRICH_TIMEOUT, "timeout" },
		{ ARES_ESERVFAIL, ENRICH_SERVFAIL, "servfail" },
		{ ARES_EREFUSED, ENRICH_REFUSED, "refused" },
		{ ARES_ECONNREFUSED, ENRICH_ERROR, "error" },
		{ ARES_EBADRESP, ENRICH_ERROR, "error" },
	};
	enum enrich_status	st;
	size_t			i;

	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		st = enrich_status_from_ares(t[i].ares);
		CHECK_INT(st, t[i].st);
		CHECK_STR(enrich_status_name(t[i].st), t[i].name);
	}
	CHECK_STR(enrich_status_name((enum enrich_status)99), "error");
}

static void
test_clean(void)
{
	static const struct {
		const char	*in;
		const char	*out;
	} names[] = {
		{ "mail.example.com.", "mail.example.com" },
		{ "Mail.Example.COM", "Mail.Example.COM" },
		{ "", NULL },
		{ ".", NULL },
		{ "a b.example", "a\\032b.example" },
		{ "\xff.example", "\\255.example" },
		{ "a\\.b.example", "a\\.b.example" },
		{ "tab\t.example", "tab\\009.example" },
	};
	static const struct {
		const char	*in;
		size_t		 len, max;
		const char	*out;
	} texts[] = {
		{ "Google LLC", 10, 256, "Google LLC" },
		{ "Soci\xc3\xa9t\xc3\xa9", 9, 256, "Soci\xc3\xa9t\xc3\xa9" },
		{ "bad\xff", 4, 256, "bad?" },
		{ "ctl\x01x", 5, 256, "ctl?x" },
		{ "nul\0x", 5, 256, "nul?x" },
		{ "\xc3\xa9\xc3\xa9", 4, 3, "\xc3\xa9" },	/* no half */
		{ "over\xc0\xaf", 6, 256, "over??" },	/* overlong */
		{ "\xed\xa0\x80", 3, 256, "???" },	/* surrogate */
		{ "abcdef", 6, 4, "abcd" },
	};
	char	*s, big[3000];
	size_t	 i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		s = enrich_clean_name(names[i].in);
		CHECK_STR(s, names[i].out);
		free(s);
	}
	CHECK(enrich_clean_name(NULL) == NULL);
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	s = enrich_clean_name(big);
	CHECK(s != NULL && strlen(s) <= ENRICH_NAME_MAX);
	free(s);
	for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
		s = enrich_clean_text(texts[i].in, texts[i].len, texts[i].max);
		CHECK_STR(s, texts[i].out);
		free(s);
	}
}

static void
test_base_domain(void)
{
	static const struct {
		const char	*name;
		const char	*base;
	} t[] = {
		{ "mail-sor-f41.google.com", "google.com" },
		{ "a27-1.smtp-out.us-west-2.amazonses.com", "amazonses.com" },
		{ "mail-dm6nam12on2071.outbound.protection.outlook.com",
		    "outlook.com" },
		{ "MX0A-00123.PPHOSTED.COM.", "pphosted.com" },
		{ "mout.gmx.net", "gmx.net" },
		{ "host.example.co.uk", "example.co.uk" },
		{ "example.co.uk", "example.co.uk" },
		{ "co.uk", NULL },
		{ "com", NULL },
		{ "localhost", NULL },
		{ "", NULL },
		{ "mail.ru", "mail.ru" },
		{ "ec2-192-0-2-1.compute-1.amazonaws.com", "amazonaws.com" },
		{ "user.github.io", "github.io" },	/* ICANN only */
		{ "static.1.2.0.192.clients.your-server.de", "your-server.de" },
		{ "bad..example.com", NULL },
		{ ".example.com", NULL },
		{ "a\\032b.example.com", NULL },
	};
	struct enrich_opts	 o;
	struct enrich		*e;
	char			*cause = NULL, *b;
	size_t			 i;

	memset(&o, 0, sizeof o);
	o.resolver = "127.0.0.1:9";
	if ((e = enrich_new(&o, &cause)) == NULL) {
		fprintf(stderr, "enrich_new: %s\n", cause);
		CHECK(e != NULL);
		free(cause);
		return;
	}
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		b = enrich_base_domain(e, t[i].name);
		CHECK_STR(b, t[i].base);
		free(b);
	}
	CHECK(enrich_base_domain(e, NULL) == NULL);
	enrich_free(e);
}

static void
test_bad_opts(void)
{
	struct enrich_opts	 o;
	const char		*files[] = { "/nonexistent/GeoLite2-ASN.mmdb" };
	char			*cause = NULL;

	memset(&o, 0, sizeof o);
	o.resolver = "dns.example";
	CHECK(enrich_new(&o, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "dns.example") != NULL);
	free(cause);
	cause = NULL;
	o.resolver = NULL;
	o.mmdb_files = files;
	o.nmmdb = 1;
	CHECK(enrich_new(&o, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "GeoLite2-ASN.mmdb") != NULL);
	free(cause);
}

/* A UDP socket on 127.0.0.1, non-blocking; its port in *port. */
static int
udp_socket(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof sin;
	int			fd;

	if ((fd = socket(AF_INET, SOCK_DGRAM, 0)) == -1)
		return (-1);
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) != 0) {
		close(fd);
		return (-1);
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	*port = ntohs(sin.sin_port);
	return (fd);
}

static double
now_ms(void)
{
	struct timeval	tv;

	gettimeofday(&tv, NULL);
	return (tv.tv_sec * 1000.0 + tv.tv_usec / 1000.0);
}

struct collected {
	size_t	n;
	char	ip[16][48];
	int	status[16];
	int	confirmed[16];
	int	has_ptr[16];
	int	have_geo[16];
	char	detail[16][128];
};

static int
collect(const struct enrich_result *r, void *arg)
{
	struct collected	*c = arg;

	if (c->n < 16) {
		snprintf(c->ip[c->n], sizeof c->ip[0], "%s", r->ip);
		c->status[c->n] = r->status;
		c->confirmed[c->n] = r->ptr_confirmed;
		c->has_ptr[c->n] = r->ptr != NULL;
		c->have_geo[c->n] = r->have_geo;
		snprintf(c->detail[c->n], sizeof c->detail[0], "%s",
		    r->detail != NULL ? r->detail : "");
	}
	c->n++;
	return (0);
}

static int
stop_first(const struct enrich_result *r, void *arg)
{
	(*(int *)arg)++;
	return (-1);
}

/* The question names of the queries waiting on fd. */
static size_t
drain_queries(int fd, char names[][80], size_t max)
{
	unsigned char	 pkt[512];
	ssize_t		 len;
	size_t		 n = 0, o, l, k;

	while ((len = recv(fd, pkt, sizeof pkt, 0)) > 0) {
		if (n < max) {
			names[n][0] = '\0';
			k = 0;
			for (o = 12; o < (size_t)len && pkt[o] != 0 &&
			    pkt[o] < 64; o += l + 1) {
				l = pkt[o];
				if (o + 1 + l > (size_t)len || k + l + 2 > 80)
					break;
				if (k > 0)
					names[n][k++] = '.';
				memcpy(names[n] + k, pkt + o + 1, l);
				k += l;
				names[n][k] = '\0';
			}
		}
		n++;
	}
	return (n);
}

/* A server that never answers: every address times out, in time. */
static void
test_silent(void)
{
	const char		*ips[] = {
		"192.0.2.1", "192.0.2.2", "2001:db8::1", "198.51.100.7",
		"not-an-ip", "203.0.113.9"
	};
	struct enrich_opts	 o;
	struct enrich		*e;
	struct collected	 c;
	char			 res[32], *cause = NULL, names[16][80];
	double			 t0, ms;
	size_t			 i, nq, ntimeout = 0, nerror = 0;
	int			 fd, port, found;

	if ((fd = udp_socket(&port)) == -1) {
		fprintf(stderr, "udp socket: %s\n", strerror(errno));
		CHECK(fd != -1);
		return;
	}
	snprintf(res, sizeof res, "127.0.0.1:%d", port);
	memset(&o, 0, sizeof o);
	o.resolver = res;
	o.timeout_ms = 200;
	o.tries = 1;
	o.concurrency = 2;
	if ((e = enrich_new(&o, &cause)) == NULL) {
		fprintf(stderr, "enrich_new: %s\n", cause);
		CHECK(e != NULL);
		free(cause);
		close(fd);
		return;
	}
	memset(&c, 0, sizeof c);
	t0 = now_ms();
	CHECK_INT(enrich_lookup(e, ips, 6, collect, &c, &cause), 0);
	ms = now_ms() - t0;
	CHECK_INT(c.n, 6);
	for (i = 0; i < c.n && i < 16; i++) {
		CHECK(!c.has_ptr[i]);
		CHECK_INT(c.confirmed[i], -1);
		CHECK_INT(c.have_geo[i], 0);
		if (c.status[i] == ENRICH_TIMEOUT) {
			ntimeout++;
			CHECK(strstr(c.detail[i], "PTR query") != NULL);
		} else if (c.status[i] == ENRICH_ERROR) {
			nerror++;
			CHECK_STR(c.ip[i], "not-an-ip");
			CHECK_STR(c.detail[i], "not an IP address");
		}
	}
	CHECK_INT(ntimeout, 5);
	CHECK_INT(nerror, 1);
	/* Three rounds of two at 200 ms: well under 5 s, over 400 ms. */
	CHECK(ms >= 400 && ms < 5000);
	/* One PTR query per address (tries 1), with the reverse names. */
	nq = drain_queries(fd, names, 16);
	CHECK_INT(nq, 5);
	for (found = 0, i = 0; i < nq && i < 16; i++)
		if (strcmp(names[i], "1.2.0.192.in-addr.arpa") == 0 ||
		    strcmp(names[i], "7.100.51.198.in-addr.arpa") == 0 ||
		    strncmp(names[i], "1.0.0.0.", 8) == 0)
			found++;
	CHECK_INT(found, 3);
	/* The channel can be used again. */
	memset(&c, 0, sizeof c);
	CHECK_INT(enrich_lookup(e, ips, 1, collect, &c, &cause), 0);
	CHECK_INT(c.n, 1);
	CHECK_INT(c.status[0], ENRICH_TIMEOUT);
	CHECK_INT(enrich_lookup(e, ips, 0, collect, &c, &cause), 0);
	enrich_free(e);
	close(fd);
}

/* The callback stops the batch: no more callbacks, -1, channel usable. */
static void
test_stop(void)
{
	const char		*ips[] = {
		"not-an-ip", "192.0.2.1", "192.0.2.2", "192.0.2.3"
	};
	struct enrich_opts	 o;
	struct enrich		*e;
	struct collected	 c;
	char			 res[32], *cause = NULL;
	int			 fd, port, calls = 0;

	if ((fd = udp_socket(&port)) == -1) {
		CHECK(fd != -1);
		return;
	}
	snprintf(res, sizeof res, "127.0.0.1:%d", port);
	memset(&o, 0, sizeof o);
	o.resolver = res;
	o.timeout_ms = 100;
	o.tries = 1;
	o.concurrency = 4;
	if ((e = enrich_new(&o, &cause)) == NULL) {
		CHECK(e != NULL);
		free(cause);
		close(fd);
		return;
	}
	CHECK_INT(enrich_lookup(e, ips, 4, stop_first, &calls, &cause), -1);
	CHECK_INT(calls, 1);
	CHECK(cause != NULL);
	free(cause);
	cause = NULL;
	memset(&c, 0, sizeof c);
	CHECK_INT(enrich_lookup(e, ips + 1, 2, collect, &c, &cause), 0);
	CHECK_INT(c.n, 2);
	enrich_free(e);
	close(fd);
}

/* Nobody listens on the port: a failure, not a hang. */
static void
test_refused(void)
{
	const char		*ips[] = { "192.0.2.1" };
	struct enrich_opts	 o;
	struct enrich		*e;
	struct collected	 c;
	char			 res[32], *cause = NULL;
	int			 fd, port;

	if ((fd = udp_socket(&port)) == -1) {
		CHECK(fd != -1);
		return;
	}
	close(fd);
	snprintf(res, sizeof res, "127.0.0.1:%d", port);
	memset(&o, 0, sizeof o);
	o.resolver = res;
	o.timeout_ms = 300;
	o.tries = 2;
	if ((e = enrich_new(&o, &cause)) == NULL) {
		CHECK(e != NULL);
		free(cause);
		return;
	}
	memset(&c, 0, sizeof c);
	CHECK_INT(enrich_lookup(e, ips, 1, collect, &c, &cause), 0);
	CHECK_INT(c.n, 1);
	CHECK(c.status[0] == ENRICH_ERROR || c.status[0] == ENRICH_TIMEOUT);
	CHECK(c.detail[0][0] != '\0');
	enrich_free(e);
}

int
main(void)
{
	log_init(LOG_TO_STDERR, 0);
	test_parse_server();
	test_reverse();
	test_status();
	test_clean();
	test_base_domain();
	test_bad_opts();
	test_silent();
	test_stop();
	test_refused();
	return (TST_DONE());
}
