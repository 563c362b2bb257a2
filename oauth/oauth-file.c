/*
 * oauth-file.c: the credential files: read whole (capped), the first line
 * of a token file, and a refresh token replaced atomically, so that a
 * crash or a full disk never leaves a torn token behind: the token a
 * provider rotated may be the only one that still works.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/common.h"
#include "oauth/oauth.h"
#include "oauth/oauth_p.h"

static int	write_all(int, const char *, size_t);
static int	sync_dir(const char *, char **);

char *
oauth_file_read(const char *path, size_t max, const char *what, size_t *len,
    char **cause)
{
	struct stat	 st;
	char		*data;
	size_t		 got = 0;
	ssize_t		 n;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(cause, "%s \"%s\": %s", what, path, strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    (size_t)st.st_size > max) {
		xasprintf(cause, "%s \"%s\": %s", what, path,
		    !S_ISREG(st.st_mode) ? "not a regular file" :
		    "too large for a key file");
		close(fd);
		return (NULL);
	}
	data = xmalloc(max + 1);
	while (got < max && (n = read(fd, data + got, max - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(cause, "%s \"%s\": %s", what, path,
			    strerror(errno));
			close(fd);
			explicit_bzero(data, got);
			free(data);
			return (NULL);
		}
		got += (size_t)n;
	}
	close(fd);
	data[got] = '\0';
	*len = got;
	return (data);
}

char *
oauth_file_line(const char *path, const char *what, char **cause)
{
	char	*data, *line;
	size_t	 len, n;

	if ((data = oauth_file_read(path, OAUTH_MAX_TOKEN, what, &len,
	    cause)) == NULL)
		return (NULL);
	n = strcspn(data, "\r\n");
	line = xstrndup(data, n);
	explicit_bzero(data, len);
	free(data);
	if (*line == '\0') {
		free(line);
		xasprintf(cause, "%s \"%s\" is empty", what, path);
		return (NULL);
	}
	return (line);
}

static int
write_all(int fd, const char *p, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return (-1);
		}
		p += n;
		len -= (size_t)n;
	}
	return (0);
}

/* fsync the directory of path, so that the rename survives a crash. */
static int
sync_dir(const char *path, char **cause)
{
	char	*copy, *dir;
	int	 fd, rc = 0;

	copy = xstrdup(path);
	dir = dirname(copy);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fsync(fd) == -1) {
		xasprintf(cause, "cannot sync directory \"%s\": %s", dir,
		    strerror(errno));
		rc = -1;
	}
	if (fd != -1)
		close(fd);
	free(copy);
	return (rc);
}

int
oauth_file_replace(const char *path, const char *text, int fault,
    char **cause)
{
	char	*tmp;
	size_t	 len = strlen(text), half = len / 2;
	int	 fd, saved;

	/* A fixed name: what a crash left is removed by the next write. */
	xasprintf(&tmp, "%s.tmp", path);
	if (unlink(tmp) == -1 && errno != ENOENT)
		goto fail;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto fail;
	if (fchmod(fd, 0600) == -1 || write_all(fd, text, half) == -1)
		goto fail_fd;
	if (fault == 1)
		raise(SIGKILL);
	if (write_all(fd, text + half, len - half) == -1 ||
	    write_all(fd, "\n", 1) == -1 || fsync(fd) == -1)
		goto fail_fd;
	if (close(fd) == -1) {
		fd = -1;
		goto fail_fd;
	}
	if (rename(tmp, path) == -1)
		goto fail;
	if (fault == 2)
		raise(SIGKILL);
	free(tmp);
	return (sync_dir(path, cause));

fail_fd:
	saved = errno;
	if (fd != -1)
		close(fd);
	errno = saved;
fail:
	xasprintf(cause, "cannot write refresh_token_file \"%s\": %s", path,
	    strerror(errno));
	unlink(tmp);
	free(tmp);
	return (-1);
}
