#!/bin/sh
# bench/brin.sh: does a BRIN index on record's date serve the BI views as
# well as a B-tree?  Builds a throwaway cluster with tests/lib/pg.sh, loads
# the schema (sink/migrations/*.sql) and ROWS synthetic record rows
# (default 3,000,000) in date order, as the agent appends them, then times
# representative view queries with three index set-ups on record:
#   btree: the schema's own B-tree (report_day, policy_domain), plus a
#          B-tree (date_begin)
#   brin:  BRIN (report_day) and BRIN (date_begin) instead
#   none:  no index with a date in it (record_hfrom_day_idx dropped too),
#          for scale
# and prints the index sizes.  Each query runs RUNS times (default 5) after
# one warm-up; the median is reported, in milliseconds, server-side
# (clock_timestamp around EXECUTE), so client transfer is not counted.
#
#	sh bench/brin.sh [ROWS [RUNS]]
#
# Takes about 3 minutes on two cores for 3 million rows.  Results for the
# shipped figures: doc/partitioning.md.

set -eu
srcdir=$(cd "$(dirname "$0")/.." && pwd)
rows=${1:-3000000}
runs=${2:-5}
. "$srcdir/tests/lib/pg.sh"

dir=$(mktemp -d "${TMPDIR:-/tmp}/brin-bench.XXXXXX")
trap 'pg_stop "$dir"; rm -rf "$dir"' EXIT
trap 'exit 1' HUP INT TERM
pg_start "$dir" || { echo "brin.sh: cannot start PostgreSQL" >&2; exit 1; }
# A bit more memory than the test cluster, still small.
pg_admin_psql -c "ALTER SYSTEM SET shared_buffers = '256MB'" \
    -c "ALTER SYSTEM SET work_mem = '32MB'" \
    -c "ALTER SYSTEM SET max_parallel_workers_per_gather = 0" >/dev/null
pg_as_owner "$PG_BINDIR/pg_ctl" -D "$dir/data" -l "$dir/log" -w restart \
    >/dev/null

q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

for f in "$srcdir"/sink/migrations/*.sql; do
	q -1 -f "$f" >/dev/null
done

echo "loading $rows records ..."
t0=$(date +%s)
# 1 year, 200 policy domains, 40 reporters; about 8 records per report.
# Reports and records are inserted in date order, like the agent's appends.
q <<EOF
SET search_path = dmarc;
INSERT INTO report (format, reporter_key, report_id, date_begin, date_end,
    policy_domain, record_count)
SELECT 'rfc7489', 'reporter' || (i % 40), 'r' || i,
       timestamptz '2024-01-01 00:00+00' + (i * 365 / n) * interval '1 day',
       timestamptz '2024-01-01 00:00+00' + (i * 365 / n) * interval '1 day'
           + interval '86399 s',
       'd' || (i % 200) || '.example', 8
FROM (SELECT generate_series(0, $rows / 8 - 1) AS i, $rows / 8 AS n) g;
INSERT INTO record (report_pk, ord, policy_domain, date_begin, source_ip,
    message_count, disposition, dkim_aligned, spf_aligned, header_from,
    envelope_from)
SELECT rp.id, o, rp.policy_domain, rp.date_begin,
       ('10.' || (rp.id % 250) || '.' || o || '.' || (rp.id * o % 250))::inet,
       1 + (rp.id * o) % 50,
       (ARRAY['none','none','none','quarantine','reject'])[1 + (rp.id + o) % 5],
       CASE WHEN (rp.id + o) % 7 = 0 THEN 'fail' ELSE 'pass' END,
       CASE WHEN (rp.id * o) % 5 = 0 THEN 'fail' ELSE 'pass' END,
       rp.policy_domain, 'bounce.' || rp.policy_domain
FROM report rp, generate_series(1, 8) o
ORDER BY rp.id, o;
UPDATE report SET message_total = 8;
VACUUM ANALYZE report, record;
EOF
t1=$(date +%s)
echo "loaded in $((t1 - t0)) s: $(q -At -c 'SELECT count(*) FROM dmarc.record') records," \
    "table $(q -At -c "SELECT pg_size_pretty(pg_table_size('dmarc.record'))")"

# The timing harness: median of runs after one warm-up.
q >/dev/null <<'EOF'
CREATE FUNCTION public.bench(sql text, runs int) RETURNS numeric
LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; ms numeric[] := '{}'; i int;
BEGIN
    EXECUTE sql;
    FOR i IN 1 .. runs LOOP
        t0 := clock_timestamp();
        EXECUTE sql;
        ms := ms || (extract(epoch FROM clock_timestamp() - t0) * 1000)::numeric;
    END LOOP;
    RETURN round((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY m)
                  FROM unnest(ms) m)::numeric, 1);
END $$;
EOF

# Queries: name|SQL.  Dates are in the middle of the loaded year.
queries='daily_1dom_30d|SELECT * FROM dmarc.v_daily_volume WHERE policy_domain = '"'"'d7.example'"'"' AND day BETWEEN '"'"'2024-06-01'"'"' AND '"'"'2024-06-30'"'"'
daily_all_7d|SELECT day, sum(messages), sum(dmarc_fail) FROM dmarc.v_daily_volume WHERE day BETWEEN '"'"'2024-06-01'"'"' AND '"'"'2024-06-07'"'"' GROUP BY day
daily_all_1d|SELECT * FROM dmarc.v_daily_volume WHERE day = '"'"'2024-06-15'"'"'
fwd_7d|SELECT * FROM dmarc.v_forwarding_suspects WHERE report_day BETWEEN '"'"'2024-06-01'"'"' AND '"'"'2024-06-07'"'"'
spoof_30d|SELECT policy_domain, sum(messages) FROM dmarc.v_spoofing_suspects WHERE report_day BETWEEN '"'"'2024-06-01'"'"' AND '"'"'2024-06-30'"'"' GROUP BY 1
detail_1dom_1d|SELECT * FROM dmarc.v_source_detail WHERE policy_domain = '"'"'d7.example'"'"' AND report_day = '"'"'2024-06-15'"'"'
begin_range_1d|SELECT count(*), sum(message_count) FROM dmarc.record WHERE date_begin >= '"'"'2024-06-15'"'"' AND date_begin < '"'"'2024-06-16'"'"''

setup_btree='CREATE INDEX record_begin_btree ON dmarc.record (date_begin);
ANALYZE dmarc.record'
setup_brin='DROP INDEX IF EXISTS dmarc.record_day_domain_idx;
DROP INDEX IF EXISTS dmarc.record_begin_btree;
CREATE INDEX record_day_brin ON dmarc.record USING brin (report_day);
CREATE INDEX record_begin_brin ON dmarc.record USING brin (date_begin);
ANALYZE dmarc.record'
setup_none='DROP INDEX IF EXISTS dmarc.record_day_brin;
DROP INDEX IF EXISTS dmarc.record_begin_brin;
DROP INDEX IF EXISTS dmarc.record_hfrom_day_idx;
ANALYZE dmarc.record'

printf '%-16s %10s %10s %10s\n' query btree_ms brin_ms none_ms >"$dir/res"
for setup in btree brin none; do
	eval "sql=\$setup_$setup"
	t0=$(date +%s)
	q -c "$sql" >/dev/null
	t1=$(date +%s)
	[ "$setup" = btree ] || echo "$setup indexes built in $((t1 - t0)) s"
	q -At -c "SELECT c.relname || ' ' || pg_size_pretty(pg_relation_size(c.oid))
	    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	    WHERE i.indrelid = 'dmarc.record'::regclass
	    AND c.relname ~ '(day|begin)' ORDER BY 1" |
	    sed "s/^/  $setup index: /"
	echo "$queries" | while IFS='|' read -r name sql; do
		ms=$(q -At -c "SELECT public.bench(\$q\$$sql\$q\$, $runs)")
		plan=$(q -At -c "EXPLAIN $sql" | grep -o \
		    'Bitmap Index Scan on [a-z_]*\|Index Scan using [a-z_]*\|Index Only Scan using [a-z_]*\|Seq Scan on record' |
		    head -1)
		echo "$setup $name $ms $plan" >>"$dir/raw"
	done
done
echo "$queries" | while IFS='|' read -r name sql; do
	b=$(awk -v n="$name" '$1 == "btree" && $2 == n { print $3 }' "$dir/raw")
	r=$(awk -v n="$name" '$1 == "brin" && $2 == n { print $3 }' "$dir/raw")
	s=$(awk -v n="$name" '$1 == "none" && $2 == n { print $3 }' "$dir/raw")
	printf '%-16s %10s %10s %10s\n' "$name" "$b" "$r" "$s" >>"$dir/res"
done
cat "$dir/res"
echo "plans (first scan node):"
awk '{ $3 = ""; print "  " $0 }' "$dir/raw"
