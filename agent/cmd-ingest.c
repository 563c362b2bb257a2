/*
 * cmd-ingest.c: `dmarc-agent ingest [-j N] PATH...`, report files and mail
 * from disk.  A directory is walked recursively in name order.  Each
 * message is one of the mailbox "file" in the ledger, keyed by its
 * content's SHA-256, so the same content given twice is examined once:
 *
 *  - a file is one message (mail, or a bare XML, gzip, zip or JSON report);
 *  - a file that begins with "From " is an mbox (RFC 4155: a Google
 *    Takeout or Thunderbird export): each message after a From_ line is
 *    one, with the From_ line and the empty line before the next left out
 *    and one '>' taken from body lines that were quoted as ">From "
 *    (">>From " ...) when written (mboxrd); it is named PATH:N in the
 *    ledger and the logs;
 *  - a directory with cur/ and new/ is a Maildir: the messages in those
 *    two are read, tmp/ (deliveries in progress) and the server's own
 *    files are not, and its subfolders (.Name) are Maildirs too.
 *
 * This thread reads; the workers of ingest-workers.c store, -j N of them
 * (default: the cores, at most INGEST_MAX_WORKERS), each on its own
 * connection.
 */
#include "config.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "agent/agent.h"
#include "agent/cmd.h"
#include "agent/conf.h"
#include "agent/ingest.h"
#include "agent/pipeline.h"
#include "mime/mime.h"

#define MAX_DEPTH		64
#define INGEST_MAX_WORKERS	4
/* mbox: a line is read in pieces of up to half of this. */
#define MBOX_BUF		65536

/* One run: where messages go, and what went wrong before they got there. */
struct ing {
	struct cmd_env		*env;
	struct ingest		*in;
	struct pipeline_counts	 c;	/* unreadable files */
	char			*cause;	/* the workers stopped */
	int			 missing; /* paths named that do not exist */
};

/* A message being read: its bytes up to the cap, its digest and size. */
struct ing_msg {
	struct buf		 b;
	int			 over;	/* past the cap: only hashed */
	struct mime_sha		*sha;
	uint64_t		 size;
};

/* An mbox file read line by line, long lines in pieces. */
struct mbox {
	int			 fd;
	char			 buf[MBOX_BUF];
	size_t			 start, end;
	int			 eof;
};

static int	ing_put(struct ing *, char *, struct ing_msg *);
static void	msg_begin(struct ing_msg *, uint64_t);
static void	msg_add(struct ing_msg *, const char *, size_t);
static int	read_file(struct ing *, const char *);
static int	mbox_piece(struct mbox *, const char **, size_t *, char **);
static int	mbox_is_from(const char *, size_t);
static int	mbox_quoted(const char *, size_t);
static int	read_mbox(struct ing *, const char *);
static int	is_maildir(const char *);
static int	read_maildir(struct ing *, const char *, int);
static int	walk(struct ing *, const char *, int);
static int	dir_names(const char *, char ***, size_t *);
static int	name_cmp(const void *, const void *);

/* Hand a message over to the workers (label is taken over). */
static int
ing_put(struct ing *g, char *label, struct ing_msg *m)
{
	unsigned char	 sha[32];
	char		*data = NULL;
	size_t		 len = 0;

	mime_sha_end(m->sha, sha);
	if (!m->over)
		data = buf_steal(&m->b, &len);
	else
		buf_free(&m->b);
	if (ingest_put(g->in, label, data, len, m->size, sha,
	    &g->cause) != 0)
		return (-1);
	return (0);
}

static void
msg_begin(struct ing_msg *m, uint64_t cap)
{
	buf_init(&m->b, (size_t)cap);
	m->over = 0;
	m->sha = mime_sha_new();
	m->size = 0;
}

/* Add bytes to a message: past the cap it is only hashed and counted. */
static void
msg_add(struct ing_msg *m, const char *p, size_t len)
{
	mime_sha_add(m->sha, p, len);
	m->size += len;
	if (!m->over && buf_add(&m->b, p, len) != 0) {
		m->over = 1;
		buf_free(&m->b);
	}
}

/* A file: one message, or an mbox. */
static int
read_file(struct ing *g, const char *path)
{
	struct ing_msg	 m;
	char		 chunk[65536];
	ssize_t		 r;
	int		 fd, first = 1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warnx("%s: cannot open: %s", path, strerror(errno));
		g->c.invalid++;
		return (0);
	}
	msg_begin(&m, g->env->conf->limits.max_message_size);
	while ((r = read(fd, chunk, sizeof chunk)) > 0) {
		if (first && r >= 5 && memcmp(chunk, "From ", 5) == 0) {
			close(fd);
			mime_sha_free(m.sha);
			buf_free(&m.b);
			return (read_mbox(g, path));
		}
		first = 0;
		msg_add(&m, chunk, (size_t)r);
	}
	close(fd);
	if (r == -1) {
		log_warnx("%s: read error: %s", path, strerror(errno));
		g->c.invalid++;
		mime_sha_free(m.sha);
		buf_free(&m.b);
		return (0);
	}
	return (ing_put(g, xstrdup(path), &m));
}

/*
 * The next piece of a line of an mbox: a whole line (with its newline, or
 * the last one without), or half a buffer of a longer one.  A line that
 * begins in the buffer has at least half a buffer (or all of itself) in it,
 * enough to tell a From_ line.  1, or 0 at the end, or -1 with *cause.
 */
static int
mbox_piece(struct mbox *mb, const char **p, size_t *len, char **cause)
{
	char	*nl;
	ssize_t	 r;

	for (;;) {
		nl = memchr(mb->buf + mb->start, '\n', mb->end - mb->start);
		if (nl != NULL || mb->eof || mb->end - mb->start >= MBOX_BUF / 2)
			break;
		memmove(mb->buf, mb->buf + mb->start, mb->end - mb->start);
		mb->end -= mb->start;
		mb->start = 0;
		r = read(mb->fd, mb->buf + mb->end, sizeof mb->buf - mb->end);
		if (r == -1) {
			xasprintf(cause, "read error: %s", strerror(errno));
			return (-1);
		}
		if (r == 0)
			mb->eof = 1;
		mb->end += (size_t)r;
	}
	if (mb->start == mb->end)
		return (0);
	*p = mb->buf + mb->start;
	if (nl != NULL)
		*len = (size_t)(nl - *p) + 1;
	else if (mb->end - mb->start > MBOX_BUF / 2)
		*len = MBOX_BUF / 2;
	else
		*len = mb->end - mb->start;
	mb->start += *len;
	return (1);
}

/* A From_ line: the separator of two messages (RFC 4155). */
static int
mbox_is_from(const char *p, size_t len)
{
	return (len >= 5 && memcmp(p, "From ", 5) == 0);
}

/* A body line written as ">From ", ">>From " ...: unquote it. */
static int
mbox_quoted(const char *p, size_t len)
{
	size_t	i = 0;

	while (i < len && p[i] == '>')
		i++;
	return (i > 0 && len - i >= 5 && memcmp(p + i, "From ", 5) == 0);
}

/*
 * An mbox file: each message to the workers as PATH:N.  An empty line is
 * held back until the next line shows whether it ends its message (the
 * separator before a From_ line, or the end of the file) or belongs to it.
 */
static int
read_mbox(struct ing *g, const char *path)
{
	struct mbox	*mb;
	struct ing_msg	 m;
	const char	*p, *held = NULL;
	char		*cause = NULL, *label, heldbuf[2];
	size_t		 len, heldlen = 0;
	long		 n = 0;
	int		 rc = 0, r = 0, start = 1, eol, in = 0, skip = 0;

	mb = xcalloc(1, sizeof *mb);
	if ((mb->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_warnx("%s: cannot open: %s", path, strerror(errno));
		g->c.invalid++;
		free(mb);
		return (0);
	}
	while (rc == 0 && !agent_quitting() &&
	    (r = mbox_piece(mb, &p, &len, &cause)) > 0) {
		eol = p[len - 1] == '\n';
		if (skip)
			skip = !eol;	/* the rest of a long From_ line */
		else if (start && mbox_is_from(p, len)) {
			/* A held empty line was the separator: dropped. */
			if (in) {
				xasprintf(&label, "%s:%ld", path, n);
				rc = ing_put(g, label, &m);
			}
			held = NULL;
			msg_begin(&m, g->env->conf->limits.max_message_size);
			in = 1;
			n++;
			skip = !eol;
		} else if (!in) {
			/* Never: the file begins with a From_ line. */
		} else if (start && eol && (len == 1 || (len == 2 &&
		    p[0] == '\r'))) {
			if (held != NULL)
				msg_add(&m, held, heldlen);
			memcpy(heldbuf, p, len);
			held = heldbuf;
			heldlen = len;
		} else {
			if (held != NULL)
				msg_add(&m, held, heldlen);
			held = NULL;
			if (start && mbox_quoted(p, len))
				msg_add(&m, p + 1, len - 1);
			else
				msg_add(&m, p, len);
		}
		start = eol;
	}
	if (r == -1) {
		log_warnx("%s: %s", path, cause);
		free(cause);
		g->c.invalid++;
	}
	if (rc == 0 && in) {
		xasprintf(&label, "%s:%ld", path, n);
		rc = ing_put(g, label, &m);
	} else if (in) {
		mime_sha_free(m.sha);
		buf_free(&m.b);
	}
	close(mb->fd);
	free(mb);
	return (rc);
}

/* A directory with cur/ and new/: a Maildir. */
static int
is_maildir(const char *dir)
{
	struct stat	 st;
	char		*p;
	int		 yes;

	xasprintf(&p, "%s/cur", dir);
	yes = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	if (!yes)
		return (0);
	xasprintf(&p, "%s/new", dir);
	yes = stat(p, &st) == 0 && S_ISDIR(st.st_mode);
	free(p);
	return (yes);
}

/* A Maildir: the messages of cur/ and new/, then its subfolders. */
static int
read_maildir(struct ing *g, const char *dir, int depth)
{
	static const char *const sub[] = { "cur", "new" };
	struct stat	 st;
	char		**names, *d, *path;
	size_t		 n, i, k;
	int		 rc = 0;

	for (k = 0; k < 2 && rc == 0; k++) {
		xasprintf(&d, "%s/%s", dir, sub[k]);
		dir_names(d, &names, &n);
		for (i = 0; i < n; i++) {
			xasprintf(&path, "%s/%s", d, names[i]);
			if (rc == 0 && !agent_quitting() && names[i][0] != '.' &&
			    stat(path, &st) == 0 && S_ISREG(st.st_mode))
				rc = read_file(g, path);
			free(path);
			free(names[i]);
		}
		free(names);
		free(d);
	}
	dir_names(dir, &names, &n);
	for (i = 0; i < n; i++) {
		xasprintf(&path, "%s/%s", dir, names[i]);
		if (rc == 0 && !agent_quitting() && names[i][0] == '.' &&
		    depth < MAX_DEPTH && is_maildir(path))
			rc = read_maildir(g, path, depth + 1);
		free(path);
		free(names[i]);
	}
	free(names);
	return (rc);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* A directory's entries but . and .., in name order; -1 if unreadable. */
static int
dir_names(const char *path, char ***names, size_t *n)
{
	DIR		*d;
	struct dirent	*de;

	*names = NULL;
	*n = 0;
	if ((d = opendir(path)) == NULL)
		return (-1);
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		*names = xreallocarray(*names, *n + 1, sizeof **names);
		(*names)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n != 0)
		qsort(*names, *n, sizeof **names, name_cmp);
	return (0);
}

/* A file, or a directory (a Maildir, or walked recursively in name order). */
static int
walk(struct ing *g, const char *path, int depth)
{
	struct stat	 st;
	char		**names, *sub;
	size_t		 n, i;
	int		 rc = 0;

	if (stat(path, &st) != 0) {
		log_warn("%s", path);
		if (depth == 0)
			g->missing++;	/* no message: a path mistyped */
		else
			g->c.invalid++;
		return (0);
	}
	if (!S_ISDIR(st.st_mode))
		return (S_ISREG(st.st_mode) ? read_file(g, path) : 0);
	if (depth > MAX_DEPTH || dir_names(path, &names, &n) != 0) {
		log_warnx("%s: cannot read directory", path);
		g->c.invalid++;
		return (0);
	}
	if (is_maildir(path)) {
		for (i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return (read_maildir(g, path, depth));
	}
	for (i = 0; i < n; i++) {
		if (rc == 0 && !agent_quitting()) {
			xasprintf(&sub, "%s/%s", path, names[i]);
			rc = walk(g, sub, depth + 1);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	return (rc);
}

int
cmd_ingest(struct cmd_env *env, int argc, char **argv)
{
	struct ing	 g;
	long		 nw;
	char		*cause = NULL, line[PIPELINE_LINE], *end;
	int		 i = 0, rc = 0;

	nw = sysconf(_SC_NPROCESSORS_ONLN);
	if (argc >= 2 && strcmp(argv[0], "-j") == 0) {
		errno = 0;
		nw = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || errno != 0 || nw < 1 ||
		    nw > 64) {
			log_warnx("ingest: -j wants a number from 1 to 64");
			return (EXIT_USAGE);
		}
		i = 2;
	} else if (nw > INGEST_MAX_WORKERS)
		nw = INGEST_MAX_WORKERS;
	if (nw < 1)
		nw = 1;
	if (i >= argc) {
		log_warnx("usage: dmarc-agent ingest [-j N] PATH...");
		return (EXIT_USAGE);
	}
	memset(&g, 0, sizeof g);
	g.env = env;
	pipeline_init();
	pipeline_verify_setup(env->conf);
	if ((g.in = ingest_start(env->conf, (size_t)nw)) == NULL) {
		pipeline_shutdown();
		return (EXIT_OPFAIL);
	}
	for (; i < argc && rc == 0; i++)
		rc = walk(&g, argv[i], 0);
	if (ingest_finish(g.in, &g.c, &cause) != 0) {
		log_warnx("ingest: database: %s", cause);
		free(cause);
		rc = -1;
	} else if (rc != 0)
		log_warnx("ingest: database: %s", g.cause);
	free(g.cause);
	ingest_free(g.in);
	pipeline_log_ignored("ingest", g.c.ignored);
	pipeline_counts_format(&g.c, line, sizeof line);
	printf("files: %s\n", line);
	pipeline_shutdown();
	if (g.missing != 0)
		log_warnx("ingest: %d of the paths given could not be read",
		    g.missing);
	return (rc == 0 && g.missing == 0 ? 0 : EXIT_OPFAIL);
}
