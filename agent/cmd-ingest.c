/*
 * cmd-ingest.c: `dmarc-agent ingest PATH...`, report files and mail from
 * disk.  A directory is walked recursively in name order.  Each file is a
 * message of the mailbox "file" in the ledger, keyed by its content's
 * SHA-256, so the same file given twice is examined once.
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
#include "agent/pipeline.h"
#include "mime/mime.h"
#include "sink/sink.h"

#define FILE_MAILBOX	"file"
#define MAX_DEPTH	64

static int	ingest_path(struct cmd_env *, struct sink *, const char *, int,
		    struct pipeline_counts *);
static int	ingest_file(struct cmd_env *, struct sink *, const char *,
		    struct pipeline_counts *);
static int	read_file(const char *, uint64_t, char **, size_t *,
		    uint64_t *, unsigned char *, char **);
static int	name_cmp(const void *, const void *);

/*
 * Read a file up to cap bytes into *buf; past the cap, only hash it.
 * *size is the whole size; sha is the SHA-256 of the whole content.
 */
static int
read_file(const char *path, uint64_t cap, char **buf, size_t *len,
    uint64_t *size, unsigned char *sha, char **cause)
{
	struct buf	 b;
	struct mime_sha	*ck;
	char		 chunk[65536];
	ssize_t		 r;
	int		 fd, over = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "cannot open: %s", strerror(errno));
		return (-1);
	}
	buf_init(&b, (size_t)cap);
	ck = mime_sha_new();
	*size = 0;
	while ((r = read(fd, chunk, sizeof chunk)) > 0) {
		mime_sha_add(ck, chunk, (size_t)r);
		*size += r;
		if (!over && buf_add(&b, chunk, r) != 0) {
			over = 1;
			buf_free(&b);
		}
	}
	if (r == -1)
		xasprintf(cause, "read error: %s", strerror(errno));
	close(fd);
	mime_sha_end(ck, sha);
	if (r == -1) {
		buf_free(&b);
		return (-1);
	}
	*buf = over ? NULL : buf_steal(&b, len);
	return (0);
}

static int
ingest_file(struct cmd_env *env, struct sink *sink, const char *path,
    struct pipeline_counts *c)
{
	struct sink_msg_info	 info;
	unsigned char		 sha[32];
	uint64_t		 size;
	size_t			 len = 0;
	enum pipeline_outcome	 o;
	char			*buf = NULL, *cause = NULL;

	if (read_file(path, env->conf->limits.max_message_size, &buf, &len,
	    &size, sha, &cause) != 0) {
		log_warnx("%s: %s", path, cause);
		free(cause);
		c->invalid++;
		return (0);
	}
	memset(&info, 0, sizeof info);
	info.mailbox = FILE_MAILBOX;
	info.path = path;
	info.date = SINK_NO_DATE;
	info.size = size;
	info.sha256 = sha;
	if (buf == NULL)
		o = pipeline_too_large(sink, &info, size,
		    env->conf->limits.max_message_size, c, &cause);
	else
		o = pipeline_message(sink, env->conf, &info, buf, len, c,
		    &cause);
	free(buf);
	if (o == PIPE_FAILED) {
		log_warnx("%s: database: %s", path, cause);
		free(cause);
		return (-1);
	}
	if (o == PIPE_ALREADY) {
		c->fetched++;
		c->duplicate++;
	}
	pipeline_log_outcome("ingest", 0, path, o, cause);
	free(cause);
	return (0);
}

static int
name_cmp(const void *a, const void *b)
{
	return (strcmp(*(char *const *)a, *(char *const *)b));
}

/* A file, or a directory walked recursively in name order. */
static int
ingest_path(struct cmd_env *env, struct sink *sink, const char *path,
    int depth, struct pipeline_counts *c)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *sub;
	size_t		 n = 0, i;
	int		 rc = 0;

	if (stat(path, &st) != 0) {
		log_warn("%s", path);
		c->invalid++;
		return (0);
	}
	if (!S_ISDIR(st.st_mode))
		return (S_ISREG(st.st_mode) ? ingest_file(env, sink, path, c) :
		    0);
	if (depth > MAX_DEPTH || (d = opendir(path)) == NULL) {
		log_warnx("%s: cannot read directory", path);
		c->invalid++;
		return (0);
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		names = xreallocarray(names, n + 1, sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n != 0)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		if (rc == 0 && !agent_quitting()) {
			xasprintf(&sub, "%s/%s", path, names[i]);
			rc = ingest_path(env, sink, sub, depth + 1, c);
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
	struct pipeline_counts	 c;
	struct sink		*sink;
	int			 i, rc = 0;
	char			 line[PIPELINE_LINE];

	if (argc == 0) {
		log_warnx("usage: dmarc-agent ingest PATH...");
		return (EXIT_USAGE);
	}
	if ((sink = agent_sink_connect(env->conf, env->conf->auto_migrate)) ==
	    NULL)
		return (EXIT_OPFAIL);
	pipeline_init();
	pipeline_verify_setup(env->conf);
	memset(&c, 0, sizeof c);
	for (i = 0; i < argc && rc == 0; i++)
		rc = ingest_path(env, sink, argv[i], 0, &c);
	pipeline_log_ignored("ingest", c.ignored);
	pipeline_counts_format(&c, line, sizeof line);
	printf("files: %s\n", line);
	pipeline_shutdown();
	sink_close(sink);
	return (rc == 0 ? 0 : EXIT_OPFAIL);
}
