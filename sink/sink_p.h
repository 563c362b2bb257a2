/*
 * sink_p.h: what the sink's files share (sink.c, sink-report.c,
 * sink-schema.c and the generated sink-migrations.c), and tests/tst_sink.c.
 *
 * Every statement goes through sink_exec, which runs PQexecParams with text
 * parameters, checks the result status and turns a failure into a malloc'd
 * cause.  Data never becomes part of an SQL string: arrays travel as text
 * array literals built by sink_array_* (parameter values, not SQL).
 */
#ifndef SINK_P_H
#define SINK_P_H

#include <libpq-fe.h>

#include "agent/agent.h"
#include "sink/sink.h"

/* The ledger's mailbox for files given to the ingest command. */
#define SINK_FILE_MAILBOX	"file"

/* pg_advisory_lock key that serialises migrations: "dmarc" in ASCII. */
#define SINK_MIGRATE_LOCK	"431331832419"

/* Most parameters one statement takes. */
#define SINK_MAXPARAMS	64

/* A PostgreSQL array literal (text[] etc.) can be as large as a field. */
#define SINK_ARRAY_MAX	(1024UL * 1024 * 1024)

struct sink {
	PGconn		*conn;
	int		 in_msg;	/* inside sink_msg_begin ... commit */
	char		 message_pk[24];	/* current ledger row, text */
	char		 file_pk[24];	/* current report_file row, or "" */
	char		 report_pk[24];	/* current new report, or "" */
};

/* One migration step, from sink/migrations/NNN_name.sql. */
struct sink_migration {
	int		 version;
	const char	*name;
	const char	*sql;
};
extern const struct sink_migration sink_migrations[];
extern const size_t sink_nmigrations;

/* Statement parameters: borrowed or owned text values, NULL for SQL NULL. */
struct sink_params {
	const char	*val[SINK_MAXPARAMS];
	char		*own[SINK_MAXPARAMS];
	int		 n;
};
void	sink_params_init(struct sink_params *);
void	sink_params_free(struct sink_params *);
void	sink_param_str(struct sink_params *, const char *);
void	sink_param_own(struct sink_params *, char *);	/* takes it */
void	sink_param_int(struct sink_params *, long long);
void	sink_param_sha(struct sink_params *, const unsigned char *);

/* A text array literal under construction. */
struct sink_array {
	struct buf	 b;
	size_t		 n;
	int		 overflow;
};
void	sink_array_init(struct sink_array *);
void	sink_array_add(struct sink_array *, const char *);	/* NULL ok */
void	sink_array_addint(struct sink_array *, long long);
/* Finish: the literal to sink_param_own, or NULL with *cause on overflow. */
char	*sink_array_end(struct sink_array *, char **);
void	sink_array_free(struct sink_array *);

/*
 * Run sql with the parameters (p may be NULL); want is PGRES_COMMAND_OK or
 * PGRES_TUPLES_OK.  On success returns 0 and the result in *res (the caller
 * PQclears it) or, when res is NULL, clears it.  On failure returns -1 with
 * *cause = "what: server message".
 */
int	sink_exec(struct sink *, const char *what, const char *sql,
	    const struct sink_params *p, ExecStatusType want, PGresult **res,
	    char **);
/* Run a statement without parameters and without result rows. */
int	sink_cmd(struct sink *, const char *, char **);
/* Set *cause from a failed result (or the connection when res is NULL). */
void	sink_error(struct sink *, PGresult *, const char *, char **);

#endif
