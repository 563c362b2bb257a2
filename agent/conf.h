/*
 * conf.h: the configuration file (libconfig).
 *
 * conf_load parses and validates the whole file into a struct conf that owns
 * every string (nothing borrowed from libconfig survives).  Errors are
 * collected as "FILE:LINE: message" (libconfig stops at the first syntax
 * error; semantic errors are all reported), warnings likewise.
 */
#ifndef CONF_H
#define CONF_H

#include <stddef.h>
#include <stdint.h>

enum conf_after {
	CONF_AFTER_SEEN = 0,
	CONF_AFTER_MOVE,
	CONF_AFTER_DELETE
};

struct conf_mailbox {
	char		*name;
	char		*url;
	char		*username;
	char		*password;	/* from password or password_file */
	char		*password_file;
	char		*tls_ca_file;	/* NULL: system store */
	int		 interval;	/* seconds */
	enum conf_after	 after;
	char		*archive_folder;
	char		*invalid_folder;
	int		 line;		/* where it was defined */
};

struct conf_limits {
	uint64_t	 max_message_size;	/* bytes; 64 MiB */
	uint64_t	 max_payload_size;	/* decompressed; 128 MiB */
	uint32_t	 max_records;		/* per report; 1,000,000 */
	long		 timeout;		/* network seconds; 60 */
};

struct conf {
	char			*file;
	char			*conninfo;
	int			 auto_migrate;	/* default 1 */
	int			 log_syslog;	/* log = "syslog" */
	struct conf_limits	 limits;
	struct conf_mailbox	*mailboxes;
	size_t			 nmailboxes;
};

struct conf_msgs {
	char	**errors;
	size_t	  nerrors;
	char	**warnings;
	size_t	  nwarnings;
};

/*
 * Load and check FILE.  Returns the configuration, or NULL when there was
 * any error; msgs is filled either way (free with conf_msgs_free).  Does
 * not exit.
 */
struct conf	*conf_load(const char *file, struct conf_msgs *msgs);
void		 conf_free(struct conf *);
void		 conf_msgs_free(struct conf_msgs *);
const char	*conf_after_name(enum conf_after);
const struct conf_mailbox *conf_find_mailbox(const struct conf *,
		    const char *);

#endif
