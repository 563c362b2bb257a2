/*
 * sink-enrich.c: the enrichment's side of the store (ip_info).
 *
 * Nothing here runs inside ingestion.  An enrichment pass first discovers
 * new addresses: one statement inserts a 'pending' ip_info row for every
 * source address of the records past enrich_state.safe_watermark and moves
 * the watermarks (the highest record id seen becomes safe only an hour
 * later, because ids are handed out before their transactions commit).
 * Then it asks for the addresses due (pending, stale or whose retry
 * backoff elapsed, and not looked up since the pass started, so a pass
 * ends even when every lookup fails) and stores the results, a batch per
 * statement: the rows are updated in place (a failure keeps the last
 * definitive answer's data) and rows that do not exist yet are inserted.
 *
 * Each call is one statement in autocommit mode; the statements are rare
 * (a few per pass), so they are not prepared.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "common/common.h"
#include "sink/sink.h"
#include "sink/sink_p.h"

/* Columns of a stored batch, in parameter order. */
enum {
	E_IP, E_STATUS, E_PTR, E_CONF, E_BASE, E_GEO, E_ASN, E_ORG, E_CC,
	E_DETAIL, E_NCOLS
};

static const char sink_sql_discover[] =
	"WITH st AS (SELECT safe_watermark AS safe,"
	" candidate_watermark AS cand,"
	" coalesce(candidate_at < now() - interval '1 hour', true) AS ripe"
	" FROM dmarc.enrich_state),"
	" hi AS (SELECT coalesce(max(id), 0) AS m FROM dmarc.record),"
	" ins AS (INSERT INTO dmarc.ip_info (ip)"
	" SELECT DISTINCT r.source_ip FROM dmarc.record r, st"
	" WHERE r.id > st.safe AND r.source_ip IS NOT NULL"
	" ORDER BY 1 ON CONFLICT (ip) DO NOTHING RETURNING 1),"
	" upd AS (UPDATE dmarc.enrich_state e SET"
	" safe_watermark = CASE WHEN st.ripe AND st.cand IS NOT NULL"
	" THEN greatest(e.safe_watermark, st.cand) ELSE e.safe_watermark END,"
	" candidate_watermark = CASE WHEN st.ripe THEN hi.m"
	" ELSE e.candidate_watermark END,"
	" candidate_at = CASE WHEN st.ripe THEN now() ELSE e.candidate_at END,"
	" discovered_at = now() FROM st, hi RETURNING 1)"
	" SELECT (SELECT count(*) FROM ins), (SELECT count(*) FROM upd),"
	" (extract(epoch FROM now()) * 1000000)::bigint";

/*
 * $1 pass start (microseconds since the epoch, compared exactly), $2 ttl
 * and $3 retry (seconds), $4 limit.  The backoff after n failures is
 * retry * 2^(n-1), at most ttl.
 */
static const char sink_sql_due[] =
	"SELECT host(ip) FROM dmarc.ip_info"
	" WHERE (looked_up_at IS NULL"
	" OR looked_up_at < to_timestamp(0)"
	" + $1::bigint * interval '1 microsecond')"
	" AND (status = 'pending' OR looked_up_at IS NULL"
	" OR (status IN ('ok', 'nxdomain', 'no_ptr')"
	" AND looked_up_at <= now() - make_interval(secs => $2::bigint))"
	" OR (status NOT IN ('pending', 'ok', 'nxdomain', 'no_ptr')"
	" AND looked_up_at <= now() - make_interval(secs =>"
	" least($2::double precision, $3::double precision"
	" * power(2, least(greatest(attempts, 1), 40) - 1)))))"
	" ORDER BY looked_up_at NULLS FIRST, ip LIMIT $4";

static const char sink_sql_store[] =
	"WITH d AS (SELECT t.*, t.status IN ('ok', 'nxdomain', 'no_ptr') AS def"
	" FROM unnest($1::inet[], $2::text[], $3::text[], $4::boolean[],"
	" $5::text[], $6::boolean[], $7::bigint[], $8::text[], $9::text[],"
	" $10::text[])"
	" AS t(ip, status, ptr, conf, base, geo, asn, org, cc, detail)),"
	" upd AS (UPDATE dmarc.ip_info i SET status = d.status,"
	" ptr = CASE WHEN d.def OR d.ptr IS NOT NULL THEN d.ptr ELSE i.ptr END,"
	" ptr_confirmed = CASE WHEN d.def OR (d.ptr IS NOT NULL"
	" AND d.ptr IS DISTINCT FROM i.ptr) THEN d.conf"
	" ELSE coalesce(d.conf, i.ptr_confirmed) END,"
	" base_domain = CASE WHEN d.def OR d.ptr IS NOT NULL THEN d.base"
	" ELSE i.base_domain END,"
	" asn = CASE WHEN d.geo THEN d.asn ELSE i.asn END,"
	" as_org = CASE WHEN d.geo THEN d.org ELSE i.as_org END,"
	" country = CASE WHEN d.geo THEN d.cc ELSE i.country END,"
	" detail = d.detail, looked_up_at = now(),"
	" resolved_at = CASE WHEN d.def THEN now() ELSE i.resolved_at END,"
	" attempts = CASE WHEN d.def THEN 0 ELSE i.attempts + 1 END"
	" FROM d WHERE i.ip = d.ip RETURNING i.ip),"
	" ins AS (INSERT INTO dmarc.ip_info (ip, status, ptr, ptr_confirmed,"
	" base_domain, asn, as_org, country, detail, looked_up_at,"
	" resolved_at, attempts)"
	" SELECT d.ip, d.status, d.ptr, d.conf, d.base, d.asn, d.org, d.cc,"
	" d.detail, now(), CASE WHEN d.def THEN now() END,"
	" CASE WHEN d.def THEN 0 ELSE 1 END"
	" FROM d WHERE d.ip NOT IN (SELECT ip FROM upd)"
	" ON CONFLICT (ip) DO NOTHING RETURNING ip)"
	" SELECT (SELECT count(*) FROM upd) + (SELECT count(*) FROM ins)";

static void	sink_enrich_row(struct sink_array *,
		    const struct sink_ip_info *);

/* Discover the addresses of new records: 'pending' rows. */
int
sink_enrich_discover(struct sink *s, size_t *added, int64_t *pass_start,
    char **cause)
{
	PGresult		*res;
	unsigned long long	 added_ll;
	long long		 start_ll;

	if (s->in_msg)
		fatalx("%s: inside a message transaction", __func__);
	if (sink_exec(s, "discover source addresses", sink_sql_discover, NULL,
	    PGRES_TUPLES_OK, &res, cause) != 0)
		return (-1);
	if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 1), "1") != 0) {
		xasprintf(cause, "discover source addresses: no enrich_state"
		    " row");
		sink_fail_data(s);
		PQclear(res);
		return (-1);
	}
	added_ll = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
	start_ll = strtoll(PQgetvalue(res, 0, 2), NULL, 10);
	PQclear(res);
	*added = added_ll;
	*pass_start = start_ll;
	return (0);
}

/* The addresses due for a lookup, oldest first. */
int
sink_enrich_due(struct sink *s, int64_t pass_start, long ttl, long retry,
    size_t limit, char ***ips, size_t *n, char **cause)
{
	struct sink_params	 p;
	PGresult		*res;
	char			**v;
	int			 i, rc, rows;

	*ips = NULL;
	*n = 0;
	if (s->in_msg)
		fatalx("%s: inside a message transaction", __func__);
	if (limit == 0)
		return (0);
	sink_params_init(&p);
	sink_param_int(&p, (long long)pass_start);
	sink_param_int(&p, ttl < 0 ? 0 : ttl);
	sink_param_int(&p, retry < 0 ? 0 : retry);
	sink_param_int(&p, limit > INT32_MAX ? INT32_MAX : (long long)limit);
	rc = sink_exec(s, "list addresses to look up", sink_sql_due, &p,
	    PGRES_TUPLES_OK, &res, cause);
	sink_params_free(&p);
	if (rc != 0)
		return (-1);
	rows = PQntuples(res);
	v = xcalloc(rows + 1, sizeof *v);
	for (i = 0; i < rows; i++)
		v[i] = xstrdup(PQgetvalue(res, i, 0));
	PQclear(res);
	*ips = v;
	*n = (size_t)rows;
	return (0);
}

/* Free what sink_enrich_due returned. */
void
sink_enrich_free(char **ips, size_t n)
{
	size_t	i;

	if (ips == NULL)
		return;
	for (i = 0; i < n; i++)
		free(ips[i]);
	free(ips);
}

/* One result's elements of the batch arrays. */
static void
sink_enrich_row(struct sink_array *a, const struct sink_ip_info *r)
{
	sink_array_add(&a[E_IP], r->ip);
	sink_array_add(&a[E_STATUS], r->status);
	sink_array_add(&a[E_PTR], r->ptr);
	sink_array_add(&a[E_CONF], r->ptr_confirmed < 0 ? NULL :
	    r->ptr_confirmed ? "t" : "f");
	sink_array_add(&a[E_BASE], r->base_domain);
	sink_array_add(&a[E_GEO], r->have_geo ? "t" : "f");
	if (r->have_geo && r->asn > 0)
		sink_array_addint(&a[E_ASN], r->asn);
	else
		sink_array_add(&a[E_ASN], NULL);
	sink_array_add(&a[E_ORG], r->have_geo ? r->as_org : NULL);
	sink_array_add(&a[E_CC], r->have_geo ? r->country : NULL);
	sink_array_add(&a[E_DETAIL], r->detail);
}

/* Store a batch of lookup results: one statement. */
int
sink_enrich_store(struct sink *s, const struct sink_ip_info *r, size_t n,
    char **cause)
{
	struct sink_array	 a[E_NCOLS];
	struct sink_params	 p;
	char			*lit;
	size_t			 i;
	int			 j, rc = 0;

	if (s->in_msg)
		fatalx("%s: inside a message transaction", __func__);
	if (n == 0)
		return (0);
	for (j = 0; j < E_NCOLS; j++)
		sink_array_init(&a[j]);
	for (i = 0; i < n; i++) {
		if (r[i].ip == NULL || r[i].status == NULL)
			fatalx("%s: result without address or status",
			    __func__);
		sink_enrich_row(a, &r[i]);
	}
	sink_params_init(&p);
	for (j = 0; j < E_NCOLS; j++) {
		if (rc != 0) {
			sink_array_free(&a[j]);
			continue;
		}
		if ((lit = sink_array_end(&a[j], cause)) == NULL)
			rc = -1;
		else
			sink_param_own(&p, lit);
	}
	if (rc != 0)
		sink_fail_data(s);
	else
		rc = sink_exec(s, "store address information", sink_sql_store,
		    &p, PGRES_TUPLES_OK, NULL, cause);
	sink_params_free(&p);
	return (rc);
}
