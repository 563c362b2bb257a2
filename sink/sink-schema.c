/*
 * sink-schema.c: the schema version and migrations.
 *
 * The migrations are sink/migrations/NNN_name.sql, embedded at build time
 * into sink-migrations.c (see sink/embed-sql.awk).  The schema's version is
 * the highest version in dmarc.schema_version (0 when the table is missing).
 * sink_migrate takes a session advisory lock, so that two agents started at
 * once do not both migrate, then applies each missing step in its own
 * transaction and records it there; a step that fails leaves the schema at
 * the previous version.  Running it again is a no-op.
 *
 * A database newer than the program is never touched: an old binary must
 * not write into a schema it does not know.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

static int	sink_db_version(struct sink *, int *, char **);
static void	sink_too_new(int, char **);
static int	sink_migrate_step(struct sink *,
		    const struct sink_migration *, char **);
static int	sink_migrate_all(struct sink *, int, char **);

/* The schema version this program writes. */
int
sink_schema_version(void)
{
	size_t	i;
	int	v = 0;

	for (i = 0; i < sink_nmigrations; i++)
		if (sink_migrations[i].version > v)
			v = sink_migrations[i].version;
	return (v);
}

/* The database's schema version, 0 when there is none. */
static int
sink_db_version(struct sink *s, int *v, char **cause)
{
	PGresult	*res;
	int		 exists;

	if (sink_exec(s, SINK_ST_SCHEMA_EXISTS, NULL, &res, cause) != 0)
		return (-1);
	exists = PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) == 't';
	PQclear(res);
	*v = 0;
	if (!exists)
		return (0);
	if (sink_exec(s, SINK_ST_SCHEMA_VERSION, NULL, &res, cause) != 0)
		return (-1);
	if (PQntuples(res) == 1)
		*v = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return (0);
}

static void
sink_too_new(int v, char **cause)
{
	xasprintf(cause, "database schema version %d is newer than this"
	    " program's (%d): upgrade dmarc-agent", v, sink_schema_version());
}

/* Compare the database's schema version with ours (enum sink_schema). */
enum sink_schema
sink_schema_check(struct sink *s, char **cause)
{
	int	v;

	if (sink_db_version(s, &v, cause) != 0)
		return (SINK_SCHEMA_ERROR);
	if (v > sink_schema_version()) {
		sink_too_new(v, cause);
		return (SINK_SCHEMA_ERROR);
	}
	if (v < sink_schema_version())
		return (SINK_SCHEMA_OLD);
	return (SINK_SCHEMA_CURRENT);
}

/* Apply one migration in its own transaction, unless already there. */
static int
sink_migrate_step(struct sink *s, const struct sink_migration *m,
    char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 v, rc;

	if (sink_cmd(s, SINK_ST_BEGIN, cause) != 0)
		return (-1);
	if (sink_db_version(s, &v, cause) != 0)
		goto fail;
	if (v > sink_schema_version()) {
		sink_too_new(v, cause);
		goto fail;
	}
	if (v >= m->version) {
		sink_cmd_quiet(s, SINK_ST_ROLLBACK);
		return (0);
	}
	/*
	 * Fixed SQL from the source tree, several statements: PQexec, not
	 * the statement table.
	 */
	res = PQexec(s->conn, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK) {
		sink_error(s, res, m->name, cause);
		PQclear(res);
		goto fail;
	}
	PQclear(res);
	sink_params_init(&p);
	sink_param_int(&p, m->version);
	sink_param_str(&p, m->name);
	sink_param_str(&p, PACKAGE_NAME " " PACKAGE_VERSION);
	rc = sink_exec(s, SINK_ST_SCHEMA_RECORD, &p, NULL, cause);
	sink_params_free(&p);
	if (rc != 0 || sink_cmd(s, SINK_ST_COMMIT, cause) != 0)
		goto fail;
	log_info("database schema migrated to version %d (%s)", m->version,
	    m->name);
	return (0);
fail:
	sink_cmd_quiet(s, SINK_ST_ROLLBACK);
	return (-1);
}

/* Apply the missing steps up to version. */
static int
sink_migrate_all(struct sink *s, int version, char **cause)
{
	size_t	i;

	for (i = 0; i < sink_nmigrations; i++) {
		if (i > 0 && sink_migrations[i].version <=
		    sink_migrations[i - 1].version)
			fatalx("%s: migrations out of order", __func__);
		if (sink_migrations[i].version > version)
			break;
		if (sink_migrate_step(s, &sink_migrations[i], cause) != 0)
			return (-1);
	}
	return (0);
}

/* Create or upgrade the schema. */
int
sink_migrate(struct sink *s, char **cause)
{
	return (sink_migrate_to(s, sink_schema_version(), cause));
}

/* Create or upgrade the schema up to a version (tests). */
int
sink_migrate_to(struct sink *s, int version, char **cause)
{
	PGresult	*res;
	int		 rc;

	if (s->in_msg)
		fatalx("%s: inside a message transaction", __func__);
	if (version < 1 || version > sink_schema_version())
		fatalx("%s: no schema version %d", __func__, version);
	if (sink_exec(s, SINK_ST_MIGRATE_LOCK, NULL, &res, cause) != 0)
		return (-1);
	PQclear(res);
	rc = sink_migrate_all(s, version, cause);
	sink_cmd_quiet(s, SINK_ST_MIGRATE_UNLOCK);
	return (rc);
}

/* Compare the rollup tables with the records (contract in sink.h). */
int
sink_rollup_check(struct sink *s, size_t max, char ***lines, size_t *nlines,
    size_t *n, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	int			 i, rc;

	*lines = NULL;
	*nlines = *n = 0;
	if (s->in_msg || s->in_batch)
		fatalx("%s: inside a transaction", __func__);
	sink_params_init(&p);
	sink_param_int(&p, (long long)max);
	rc = sink_exec(s, SINK_ST_ROLLUP_CHECK, &p, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	if (PQntuples(res) > 0) {
		*n = (size_t)strtoull(PQgetvalue(res, 0, 3), NULL, 10);
		*lines = xcalloc((size_t)PQntuples(res), sizeof **lines);
	}
	for (i = 0; i < PQntuples(res); i++)
		xasprintf(&(*lines)[(*nlines)++], "%s: %s has %s",
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 1),
		    PQgetvalue(res, i, 2));
	PQclear(res);
	return (0);
}
