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
	if (sink_exec(s, SINK_ST_ENRICH_DISCOVER, NULL, &res, cause) != 0)
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
	rc = sink_exec(s, SINK_ST_ENRICH_DUE, &p, &res, cause);
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
		rc = sink_exec(s, SINK_ST_ENRICH_STORE, &p, NULL, cause);
	sink_params_free(&p);
	return (rc);
}
