/*
 * tst_imap.c: drive imap/ against a real server for tests/server/imap.test.
 *
 *   tst_imap [-v] [-A mech] [-E expunge] [-T tls] [-c cafile]
 *       [-m max_message] [-t timeout] -u user URL COMMAND [ARG...]
 *
 * -A is plain, login, xoauth2 or oauthbearer (default: any), -E uid, all
 * or never (default uid), -T implicit, starttls or none (default: from
 * the URL).  The password comes from
 * $IMAP_PASS and the bearer token from $IMAP_TOKEN (never from the command
 * line).  Each run opens one session, selects the URL's mailbox (except
 * for "open" and "folder") and runs COMMAND:
 *
 *   open              print "caps MOVE=0|1 UIDPLUS=0|1 mailbox NAME"
 *   folder NAME...    print "folder SERVER-NAME" for each configured NAME
 *   select            print "uidvalidity N"
 *   status            print "uidvalidity N uidnext N exists N
 *                     highestmodseq N" (what imap_select gives)
 *   search            print "uids N: u1 u2 ..." (UID SEARCH UNDELETED)
 *   find all|unseen [DAYS [UIDFROM [MODSEQFROM]]]
 *                     imap_search, since DAYS days ago (may be negative;
 *                     0: no SINCE), UIDs UIDFROM:* and mod-sequences from
 *                     MODSEQFROM (0: any); print "uids N: u1 u2 ..."
 *   noop              imap_noop; print "noop ok"
 *   fetch DIR         fetch every message; write each to DIR/UID, or
 *                     DIR/UID.big holding the reported size when it is over
 *                     max_message; print "fetched N big N bytes N order ok"
 *   seen UID...       set \Seen
 *   move FOLDER UID...
 *   delete UID...     both print "unexpunged N" (imap_unexpunged)
 *
 * Exit status: 0 done; 2 IMAP_RETRY, 3 IMAP_AUTH, 4 IMAP_FATAL (the class
 * and the cause are printed on stderr as "class=NAME: cause"); 1 usage or
 * a local error.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/common.h"
#include "imap/imap.h"

struct fetch_state {
	const char	*dir;
	uint32_t	 last;
	int		 ordered;
	size_t		 fetched;
	size_t		 big;
	uint64_t	 bytes;
};

static int	 on_message(uint32_t, const char *, size_t, uint64_t, void *,
		     char **);
static int	 write_file(const char *, const char *, size_t);
static int	 parse_uids(int, char **, uint32_t **, size_t *);
static int	 run(struct imap_session *, int, char **, char **);
static int	 fail(enum imap_class, const char *);
static int	 find(struct imap_session *, int, char **, char **);
static int	 folder(struct imap_session *, int, char **, char **);
static void	 print_uids(const uint32_t *, size_t);
static void	 usage(void) dead;

static void
usage(void)
{
	fprintf(stderr, "usage: tst_imap [-v] [-A mech] [-E expunge] [-T tls] "
	    "[-c cafile] [-m max_message] [-t timeout] -u user URL command "
	    "[arg ...]\n");
	exit(1);
}

static int
fail(enum imap_class cls, const char *cause)
{
	static const char	*names[] = { "OK", "RETRY", "AUTH", "FATAL" };

	fprintf(stderr, "class=%s: %s\n", names[cls], cause);
	return (cls == IMAP_OK ? 1 : 1 + (int)cls);
}

static int
write_file(const char *path, const char *data, size_t len)
{
	FILE	*f;

	if ((f = fopen(path, "wb")) == NULL)
		return (-1);
	if (len > 0 && fwrite(data, 1, len, f) != len) {
		fclose(f);
		return (-1);
	}
	return (fclose(f) == 0 ? 0 : -1);
}

static int
on_message(uint32_t uid, const char *data, size_t len, uint64_t size,
    void *arg, char **cause)
{
	struct fetch_state	*fs = arg;
	char			*path, *text;
	int			 rv;

	if (uid <= fs->last)
		fs->ordered = 0;
	fs->last = uid;
	if (data == NULL) {
		fs->big++;
		xasprintf(&path, "%s/%u.big", fs->dir, uid);
		xasprintf(&text, "%" PRIu64 "\n", size);
		rv = write_file(path, text, strlen(text));
		free(text);
	} else {
		fs->fetched++;
		fs->bytes += len;
		if (size != len)
			fs->ordered = 0;
		xasprintf(&path, "%s/%u", fs->dir, uid);
		rv = write_file(path, data, len);
	}
	if (rv == -1)
		xasprintf(cause, "%s: %s", path, strerror(errno));
	free(path);
	return (rv);
}

static int
parse_uids(int argc, char **argv, uint32_t **uids, size_t *n)
{
	char		*end;
	unsigned long	 v;
	int		 i;

	*uids = xcalloc(argc > 0 ? (size_t)argc : 1, sizeof **uids);
	for (i = 0; i < argc; i++) {
		errno = 0;
		v = strtoul(argv[i], &end, 10);
		if (errno != 0 || *end != '\0' || v == 0 || v > UINT32_MAX)
			return (-1);
		(*uids)[i] = (uint32_t)v;
	}
	*n = (size_t)argc;
	return (0);
}

static void
print_uids(const uint32_t *uids, size_t n)
{
	size_t	 i;

	printf("uids %zu:", n);
	for (i = 0; i < n; i++)
		printf(" %" PRIu32, uids[i]);
	printf("\n");
}

/* find all|unseen [DAYS [UIDFROM [MODSEQFROM]]] */
static int
find(struct imap_session *is, int argc, char **argv, char **cause)
{
	struct imap_query	 q;
	uint32_t		*uids;
	size_t			 n;
	char			*end;
	long			 days;

	if (argc < 2 || argc > 5)
		usage();
	memset(&q, 0, sizeof q);
	if (strcmp(argv[1], "all") == 0)
		q.kind = IMAP_SEARCH_ALL;
	else if (strcmp(argv[1], "unseen") == 0)
		q.kind = IMAP_SEARCH_UNSEEN;
	else
		usage();
	if (argc >= 3) {
		days = strtol(argv[2], &end, 10);
		if (*end != '\0' || days < -36500 || days > 36500)
			usage();
		if (days != 0)
			q.since = time(NULL) - (time_t)days * 86400;
	}
	if (argc >= 4)
		q.uid_from = (uint32_t)strtoul(argv[3], NULL, 10);
	if (argc == 5)
		q.modseq_from = strtoull(argv[4], NULL, 10);
	if (imap_search(is, &q, &uids, &n, cause) == -1)
		return (-1);
	print_uids(uids, n);
	free(uids);
	return (0);
}

/* folder NAME...: the server's name of each configured folder name. */
static int
folder(struct imap_session *is, int argc, char **argv, char **cause)
{
	char	*name;
	int	 i;

	for (i = 1; i < argc; i++) {
		if (imap_folder_path(is, argv[i], &name, cause) == -1)
			return (-1);
		printf("folder %s\n", name);
		free(name);
	}
	return (0);
}

/* Run one command on an open session; -1 with *cause on an IMAP error. */
static int
run(struct imap_session *is, int argc, char **argv, char **cause)
{
	struct fetch_state	 fs;
	struct imap_selected	 sel;
	struct imap_query	 all;
	uint32_t		*uids = NULL;
	size_t			 n;
	int			 rv = -1;

	if (strcmp(argv[0], "open") == 0) {
		printf("caps MOVE=%d UIDPLUS=%d mailbox %s\n",
		    imap_has_capability(is, "MOVE"),
		    imap_has_capability(is, "uidplus"), imap_url_mailbox(is));
		return (0);
	}
	if (strcmp(argv[0], "folder") == 0)
		return (folder(is, argc, argv, cause));
	if (imap_select(is, imap_url_mailbox(is), &sel, cause) == -1)
		return (-1);
	if (strcmp(argv[0], "select") == 0) {
		printf("uidvalidity %" PRIu32 "\n", sel.uidvalidity);
		return (0);
	}
	if (strcmp(argv[0], "status") == 0) {
		printf("uidvalidity %" PRIu32 " uidnext %" PRIu32 " exists %"
		    PRIu32 " highestmodseq %" PRIu64 "\n", sel.uidvalidity,
		    sel.uidnext, sel.exists, sel.highestmodseq);
		return (0);
	}
	memset(&all, 0, sizeof all);
	all.kind = IMAP_SEARCH_ALL;
	if (strcmp(argv[0], "search") == 0) {
		if (imap_search(is, &all, &uids, &n, cause) == -1)
			return (-1);
		print_uids(uids, n);
		free(uids);
		return (0);
	}
	if (strcmp(argv[0], "find") == 0)
		return (find(is, argc, argv, cause));
	if (strcmp(argv[0], "noop") == 0) {
		if (imap_noop(is, cause) == -1)
			return (-1);
		printf("noop ok\n");
		return (0);
	}
	if (strcmp(argv[0], "fetch") == 0 && argc == 2) {
		if (imap_search(is, &all, &uids, &n, cause) == -1)
			return (-1);
		memset(&fs, 0, sizeof fs);
		fs.dir = argv[1];
		fs.ordered = 1;
		rv = imap_fetch(is, uids, n, on_message, &fs, cause);
		free(uids);
		if (rv == 0)
			printf("fetched %zu big %zu bytes %" PRIu64
			    " order %s\n", fs.fetched, fs.big, fs.bytes,
			    fs.ordered ? "ok" : "wrong");
		return (rv);
	}
	if (strcmp(argv[0], "seen") == 0 || strcmp(argv[0], "delete") == 0) {
		if (parse_uids(argc - 1, argv + 1, &uids, &n) == -1)
			usage();
		if (argv[0][0] == 's')
			rv = imap_flag_seen(is, uids, n, cause);
		else if ((rv = imap_delete(is, uids, n, cause)) == 0)
			printf("unexpunged %zu\n", imap_unexpunged(is));
		free(uids);
		return (rv);
	}
	if (strcmp(argv[0], "move") == 0 && argc >= 2) {
		if (parse_uids(argc - 2, argv + 2, &uids, &n) == -1)
			usage();
		if ((rv = imap_move(is, uids, n, argv[1], cause)) == 0)
			printf("unexpunged %zu\n", imap_unexpunged(is));
		free(uids);
		return (rv);
	}
	usage();
}

int
main(int argc, char **argv)
{
	struct imap_opts	 o;
	struct imap_session	*is;
	enum imap_class		 cls;
	char			*cause = NULL, *end;
	int			 ch, rv;

	memset(&o, 0, sizeof o);
	o.timeout = 20;
	o.max_message = 64 * 1024 * 1024;
	o.max_line = 1024 * 1024;
	while ((ch = getopt(argc, argv, "+A:E:T:c:m:t:u:v")) != -1) {
		switch (ch) {
		case 'A':
			if (strcmp(optarg, "plain") == 0)
				o.mech = IMAP_MECH_PLAIN;
			else if (strcmp(optarg, "login") == 0)
				o.mech = IMAP_MECH_LOGIN;
			else if (strcmp(optarg, "xoauth2") == 0)
				o.mech = IMAP_MECH_XOAUTH2;
			else if (strcmp(optarg, "oauthbearer") == 0)
				o.mech = IMAP_MECH_OAUTHBEARER;
			else
				usage();
			break;
		case 'E':
			if (strcmp(optarg, "uid") == 0)
				o.expunge = IMAP_EXPUNGE_UID;
			else if (strcmp(optarg, "all") == 0)
				o.expunge = IMAP_EXPUNGE_ALL;
			else if (strcmp(optarg, "never") == 0)
				o.expunge = IMAP_EXPUNGE_NEVER;
			else
				usage();
			break;
		case 'T':
			if (strcmp(optarg, "implicit") == 0)
				o.tls = IMAP_TLS_IMPLICIT;
			else if (strcmp(optarg, "starttls") == 0)
				o.tls = IMAP_TLS_STARTTLS;
			else if (strcmp(optarg, "none") == 0)
				o.tls = IMAP_TLS_NONE;
			else
				usage();
			break;
		case 'c':
			o.ca_file = optarg;
			break;
		case 'm':
			o.max_message = strtoull(optarg, &end, 10);
			if (*end != '\0' || o.max_message == 0)
				usage();
			break;
		case 't':
			o.timeout = strtol(optarg, &end, 10);
			if (*end != '\0' || o.timeout <= 0)
				usage();
			break;
		case 'u':
			o.username = optarg;
			break;
		case 'v':
			o.verbose = 1;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		usage();
	log_init(LOG_TO_STDERR, o.verbose ? 2 : 0);
	o.url = argv[0];
	o.password = getenv("IMAP_PASS");
	o.bearer_token = getenv("IMAP_TOKEN");
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		fatalx("curl_global_init failed");
	if ((is = imap_open(&o, &cls, &cause)) == NULL) {
		rv = fail(cls, cause);
		free(cause);
		curl_global_cleanup();
		return (rv);
	}
	rv = 0;
	if (run(is, argc - 1, argv + 1, &cause) == -1) {
		rv = fail(imap_error_class(is), cause);
		free(cause);
	}
	imap_close(is);
	curl_global_cleanup();
	return (rv);
}
