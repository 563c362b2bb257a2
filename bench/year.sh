# bench/year.sh: the year scenario of bench/run.sh (`sh bench/run.sh year`),
# sourced by it once PostgreSQL runs (as in production: fsync,
# synchronous_commit and full_page_writes on, 128 MB of shared buffers).
#
# A year of one busy domain's reports (bench/mkyear.py) is ingested from
# disk, against the floor: `xmllint --stream` of its XML plus psql \copy of
# every row the ingest stored, into the same tables with the same indexes
# (the rollup tables included), in one transaction.  Then the reads a user
# makes of that year: `report` over 30 and 365 days in each format, and
# every Grafana panel's query over the last 30 days for all domains,
# beside their targets.  Each figure gives the wall time and the CPU
# seconds: the machine is shared, wall time moves with the neighbours'
# load, the CPU much less.  Uses $agent, $srcdir, $dir, $DMARC_CONNINFO and
# the PG* variables of run.sh.

yr_days=${YEAR_DAYS:-365}
yr_repeat=${REPEAT:-1}
yr_jobs=${YEAR_JOBS:-}

yr_sql() { psql -X -At -q -v ON_ERROR_STOP=1 "$@"; }

# yr_cpu OUT CMD...: run CMD under bench/cpu.py; yr_get OUT KEY reads it.
yr_cpu()
{
	_o=$1
	shift
	python3 "$srcdir/bench/cpu.py" "$_o" "$@"
	tr ' ' '\n' <"$_o" >"$_o.vars"
}
yr_get() { sed -n "s/^$2=//p" "$1.vars"; }

yr_reset()
{
	yr_sql -c "DROP SCHEMA IF EXISTS dmarc CASCADE" 2>/dev/null
	"$agent" -c "$dir/year.conf" migrate >/dev/null
	if [ -n "${BENCH_SQL:-}" ]; then yr_sql -c "$BENCH_SQL" >/dev/null; fi
	pg_admin_psql -d "$PGDATABASE" -c CHECKPOINT >/dev/null
}

printf 'database = { conninfo = "%s"; };\n' "$DMARC_CONNINFO" >"$dir/year.conf"
chmod 600 "$dir/year.conf"
echo "machine: $(nproc) x $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1); load average $(cut -d' ' -f1-3 /proc/loadavg) at the start"
echo "server:  PostgreSQL $(yr_sql -c 'SHOW server_version'), fsync $(yr_sql -c 'SHOW fsync'), synchronous_commit $(yr_sql -c 'SHOW synchronous_commit'), full_page_writes $(yr_sql -c 'SHOW full_page_writes'), shared_buffers $(yr_sql -c 'SHOW shared_buffers')"
python3 "$srcdir/bench/mkyear.py" --days "$yr_days" "$dir/year" >"$dir/mkyear.out" ||
    { echo "run.sh: mkyear.py failed" >&2; exit 1; }
echo "year: $(cat "$dir/mkyear.out") (bench/mkyear.py)"
yr_recs=$(sed -n 's/^[0-9]* files, \([0-9]*\) records.*/\1/p' "$dir/mkyear.out")

# The backfill, REPEAT times on an empty schema; the median shown.
: >"$dir/yr.walls"
r=1
while [ "$r" -le "$yr_repeat" ]; do
	yr_reset
	yr_cpu "$dir/ingest.$r" "$agent" -c "$dir/year.conf" ingest \
	    ${yr_jobs:+-j "$yr_jobs"} "$dir/year"
	[ "$(yr_get "$dir/ingest.$r" rc)" = 0 ] ||
	    { echo "run.sh: ingest failed: $(tail -n 3 "$dir/ingest.$r.err")" >&2; exit 1; }
	echo "$(yr_get "$dir/ingest.$r" wall) $r" >>"$dir/yr.walls"
	r=$((r + 1))
done
med=$(sort -n "$dir/yr.walls" | awk '{ v[NR] = $2 } END { print v[int((NR + 1) / 2)] }')
ing=$dir/ingest.$med
wall=$(yr_get "$ing" wall)
got=$(yr_sql -c "SELECT count(*) FROM dmarc.record")
[ "$got" = "$yr_recs" ] || { echo "run.sh: ingest stored $got records, not $yr_recs" >&2; exit 1; }
echo "ingest: ${wall} s, $(awk -v n="$yr_recs" -v t="$wall" 'BEGIN { printf "%.0f", n / t }') records/s, peak RSS $(($(yr_get "$ing" peak_kb) / 1024)) MB ($(sed -n 's/^files: //p' "$ing.out"))"
[ "$yr_repeat" -gt 1 ] &&
    echo "  $yr_repeat ingests: $(sort -n "$dir/yr.walls" | awk '{ printf "%s%s", (NR > 1 ? " " : ""), $1 }') s; the median shown"
echo "  CPU meanwhile: agent $(yr_get "$ing" cmd) s, PostgreSQL $(yr_get "$ing" postgres) s, rest of the machine $(yr_get "$ing" other) s; idle $(yr_get "$ing" idle) core-s"

# The rollup equals the records after the backfill (CHECK_DB=0: skip).
if [ "${CHECK_DB:-1}" != 0 ]; then
	yr_cpu "$dir/check" "$agent" -c "$dir/year.conf" check-db
	echo "  $(tail -n 1 "$dir/check.out") ($(yr_get "$dir/check" wall) s)"
fi

# The reads, on the year as the ingest left it (vacuumed and analysed, as
# autovacuum leaves a table, not compacted): the report in each format,
# REPEAT times.
yr_sql -c "VACUUM ANALYZE" 2>/dev/null
last=$(yr_sql -c "SELECT max(day) FROM dmarc.rollup_volume")
for d in 30 365; do
	line=""
	for f in text html json; do
		runs=""
		r=1
		while [ "$r" -le "$yr_repeat" ]; do
			yr_cpu "$dir/rep" "$agent" -c "$dir/year.conf" report \
			    --until "$last" --days "$d" --format "$f" \
			    -o "$dir/report.$f"
			[ "$(yr_get "$dir/rep" rc)" = 0 ] ||
			    { echo "run.sh: report failed: $(tail -n 2 "$dir/rep.err")" >&2; exit 1; }
			runs="$runs $(yr_get "$dir/rep" wall)/$(yr_get "$dir/rep" postgres)"
			r=$((r + 1))
		done
		line="$line; $f$runs"
	done
	[ "$d" = 30 ] && want=0.3 || want=1
	echo "report --days $d (target <= $want s), wall/PostgreSQL CPU s of each run${line#;}"
done
r=1
while [ "$r" -le "$yr_repeat" ]; do
	python3 "$srcdir/tests/lib/grafana_sql.py" --timing \
	    --from "$(date -u -d "$last - 29 days" +%Y-%m-%d)T00:00:00Z" \
	    --to "${last}T23:59:59Z" --optional '^(v_)?tlsrpt' \
	    "$srcdir/etc/grafana/dmarc-agent.json" >"$dir/grafana.$r" 2>&1 ||
	    :	# the TLS and mailbox panels have no rows here
	r=$((r + 1))
done
echo "grafana, 30 days, all domains (target <= 200 ms a panel), ms of each run:"
cat "$dir"/grafana.* | sed -n 's/^ok \(.*\): [0-9]* rows, \([0-9.]*\) ms$/\1|\2/p' |
    awk -F'|' '{ t[$1] = t[$1] " " $2; if (!($1 in o)) o[$1] = n++ }
    END { for (k in o) printf "%d|  %s:%s\n", o[k], k, t[k] }' |
    sort -n | cut -d'|' -f2-
grep -h '^FAIL' "$dir"/grafana.* | sort -u | sed 's/^/  no rows (no such data in this year): /'
# The floor: the XML parsed without building it, and every row the ingest
# stored copied in again (same tables, indexes, constraints), one
# transaction.
find "$dir/year" -name '*.xml.gz' | sort >"$dir/xml.list"
yr_cpu "$dir/xmllint" sh -c 'xargs xmllint --stream --noout <"$0"' "$dir/xml.list"
: >"$dir/yfloor.sql"
for t in mail_message report_file report report_delivery report_raw \
    report_error report_extension record record_dkim record_spf \
    record_reason record_extension rollup_volume rollup_source \
    rollup_source_month; do
	cols=$(yr_sql -c "SELECT string_agg(quote_ident(column_name), ','
	    ORDER BY ordinal_position) FROM information_schema.columns
	    WHERE table_schema = 'dmarc' AND table_name = '$t'
	    AND is_generated = 'NEVER'")
	yr_sql -c "\\copy (SELECT $cols FROM dmarc.$t) TO '$dir/yfloor-$t.copy'"
	printf '%s dmarc.%s (%s) FROM %s\n' '\copy' "$t" "$cols" \
	    "'$dir/yfloor-$t.copy'" >>"$dir/yfloor.sql"
done
PGOPTIONS='-c client_min_messages=warning' yr_sql -c "TRUNCATE
    dmarc.mail_message, dmarc.report_file, dmarc.report, dmarc.rollup_volume,
    dmarc.rollup_source, dmarc.rollup_source_month CASCADE"
pg_admin_psql -d "$PGDATABASE" -c CHECKPOINT >/dev/null
yr_cpu "$dir/yfloor" psql -X -q -v ON_ERROR_STOP=1 -1 -f "$dir/yfloor.sql"
[ "$(yr_get "$dir/yfloor" rc)" = 0 ] ||
    { echo "run.sh: the copy floor failed: $(tail -n 3 "$dir/yfloor.err")" >&2; exit 1; }
rm -f "$dir"/yfloor-*.copy
xw=$(yr_get "$dir/xmllint" wall)
fw=$(yr_get "$dir/yfloor" wall)
awk -v x="$xw" -v xc="$(yr_get "$dir/xmllint" cmd)" -v f="$fw" \
    -v fc="$(yr_get "$dir/yfloor" postgres)" -v w="$wall" \
    -v ic="$(yr_get "$ing" cmd)" -v ip="$(yr_get "$ing" postgres)" \
    'BEGIN { printf "  floor: xmllint --stream %.2f s (CPU %.2f s) + psql \\copy of every row stored, same tables, one transaction %.2f s (PostgreSQL CPU %.2f s) = %.2f s\n  ingest/floor: %.2f in wall time (target <= 1.5), %.2f in CPU seconds (%.1f against %.1f)\n", x, xc, f, fc, x + f, w / (x + f), (ic + ip) / (xc + fc), ic + ip, xc + fc }'

