#!/usr/bin/env python3
"""Run every panel query of a Grafana dashboard against PostgreSQL.

  grafana_sql.py [--from T] [--to T] [--var NAME=V1,V2 ...]
                 [--optional REGEX] [--timing] DASHBOARD.json

Expands the PostgreSQL data source's macros the way Grafana does
($__timeFilter(col), $__timeFrom(), $__timeTo(), $__timeGroup(col, '1d'),
$__timeGroupAlias(col, '1d'), $__time(col), $__timeEpoch(col),
$__unixEpochFilter(col)) for a fixed time range, and the template
variables ($v, ${v}, ${v:sqlstring}, ${v:csv}, ${v:raw}, [[v]]) as Grafana
formats a multi-value variable for SQL (quoted, comma separated), then runs
each rawSql with psql (connection from the PG* environment) and counts the
rows.  Prints one line per panel; exit 1 when a panel fails or returns no
row.  A panel that reads a dmarc relation missing from the database is
skipped when the relation's name matches --optional (a migration not there
yet), and fails otherwise.  --timing adds each query's time as psql's
\timing measures it (the round trip, no connection set-up), and the
slowest panel's at the end (bench/run.sh year).
"""
import argparse
import json
import re
import subprocess
import sys

INTERVALS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def split_args(s, start):
    """Arguments of the call whose '(' is at s[start]; (args, end)."""
    depth, i, cur, args, quote = 0, start, [], [], None
    while i < len(s):
        c = s[i]
        if quote:
            cur.append(c)
            if c == quote:
                quote = None
        elif c in "'\"":
            quote = c
            cur.append(c)
        elif c == "(":
            depth += 1
            if depth > 1:
                cur.append(c)
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
            cur.append(c)
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    raise ValueError("unbalanced parentheses in macro call")


def seconds(iv):
    m = re.fullmatch(r"'?(\d+)([smhdw])'?", iv.strip())
    if not m:
        raise ValueError("interval %r not understood" % iv)
    return int(m.group(1)) * INTERVALS[m.group(2)]


def epoch(ts):
    from datetime import datetime
    return int(datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=__import__("datetime").timezone.utc).timestamp())


def expand_macros(sql, t0, t1):
    out, i = [], 0
    pat = re.compile(r"\$__(\w+)\(")
    while True:
        m = pat.search(sql, i)
        if not m:
            out.append(sql[i:])
            return "".join(out)
        out.append(sql[i:m.start()])
        name = m.group(1)
        args, i = split_args(sql, m.end() - 1)
        if name == "timeFilter":
            rep = "%s BETWEEN '%s' AND '%s'" % (args[0], t0, t1)
        elif name == "timeFrom":
            rep = "'%s'" % t0
        elif name == "timeTo":
            rep = "'%s'" % t1
        elif name in ("timeGroup", "timeGroupAlias"):
            n = seconds(args[1])
            rep = "floor(extract(epoch from %s)/%d)*%d" % (args[0], n, n)
            if name == "timeGroupAlias":
                rep += ' AS "time"'
        elif name == "time":
            rep = '%s AS "time"' % args[0]
        elif name == "timeEpoch":
            rep = 'extract(epoch from %s) AS "time"' % args[0]
        elif name == "unixEpochFilter":
            rep = "%s >= %d AND %s <= %d" % (args[0], epoch(t0), args[0],
                                            epoch(t1))
        else:
            raise ValueError("macro $__%s not supported" % name)
        out.append(rep)


def quote(v):
    return "'" + v.replace("'", "''") + "'"


def expand_vars(sql, vars_):
    def fmt(name, how):
        if name not in vars_:
            raise ValueError("variable $%s has no value" % name)
        vals = vars_[name]
        if how in ("raw", "csv"):
            return ",".join(vals)
        return ",".join(quote(v) for v in vals)
    sql = re.sub(r"\$\{(\w+)(?::(\w+))?\}", lambda m: fmt(m.group(1), m.group(2)), sql)
    sql = re.sub(r"\[\[(\w+)(?::(\w+))?\]\]", lambda m: fmt(m.group(1), m.group(2)), sql)
    return re.sub(r"\$(?!__)(\w+)", lambda m: fmt(m.group(1), None), sql)


def psql(sql, timing=False):
    pre = ["-c", "\\timing on"] if timing else []
    return subprocess.run(["psql", "-X", "-At", "-v", "ON_ERROR_STOP=1"] +
                          pre + ["-c", sql], capture_output=True, text=True)


def took(out):
    """The rows of psql's output, and the ms its \\timing line gives."""
    rows, ms = [], None
    for line in out.splitlines():
        m = re.fullmatch(r"Time: ([0-9.]+) ms.*", line)
        if m:
            ms = float(m.group(1))
        elif line and line != "Timing is on.":
            rows.append(line)
    return rows, ms


def panels(dash):
    for p in dash.get("panels", []):
        yield p
        for q in p.get("panels", []):
            yield q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="t0", default="2026-01-02T00:00:00Z")
    ap.add_argument("--to", dest="t1", default="2026-01-31T23:59:59Z")
    ap.add_argument("--var", action="append", default=[])
    ap.add_argument("--optional", default=r"^$")
    ap.add_argument("--show-sql", action="store_true")
    ap.add_argument("--timing", action="store_true")
    ap.add_argument("dashboard")
    a = ap.parse_args()
    dash = json.load(open(a.dashboard))
    vars_ = {}
    for v in a.var:
        k, _, vals = v.partition("=")
        vars_[k] = vals.split(",")
    for v in dash.get("templating", {}).get("list", []):
        if v["name"] not in vars_ and v.get("type") == "query":
            r = psql(expand_macros(v["query"], a.t0, a.t1))
            if r.returncode != 0:
                print("FAIL variable %s: %s" % (v["name"], r.stderr.strip()))
                return 1
            vars_[v["name"]] = [l for l in r.stdout.splitlines() if l]
            if not vars_[v["name"]]:
                print("FAIL variable %s has no values" % v["name"])
                return 1
    fails = ok = skipped = 0
    slowest = (0.0, None)
    for p in panels(dash):
        for t in p.get("targets", []):
            sql = expand_vars(expand_macros(t["rawSql"], a.t0, a.t1), vars_)
            if a.show_sql:
                print("-- %s\n%s;" % (p["title"], sql))
            # Relations only: a call such as dmarc.counted(...) is a function.
            rels = sorted(set(re.findall(r"\bdmarc\.(\w+)\b(?!\s*\()", sql)))
            missing = [r for r in rels if psql(
                "SELECT to_regclass('dmarc.%s') IS NULL" % r).stdout.strip() == "t"]
            if missing:
                if all(re.search(a.optional, r) for r in missing):
                    print("SKIP %s: dmarc.%s missing (its migration is not"
                          " there yet)" % (p["title"], ", dmarc.".join(missing)))
                    skipped += 1
                    continue
                print("FAIL %s: dmarc.%s missing" % (p["title"], ", dmarc.".join(missing)))
                fails += 1
                continue
            r = psql(sql, a.timing)
            rows, ms = took(r.stdout)
            if r.returncode != 0:
                print("FAIL %s: %s" % (p["title"], r.stderr.strip()))
                fails += 1
            elif not rows:
                print("FAIL %s: no rows" % p["title"])
                fails += 1
            else:
                print("ok %s: %d rows%s" % (p["title"], len(rows),
                      ", %.1f ms" % ms if ms is not None else ""))
                ok += 1
                if ms is not None and ms > slowest[0]:
                    slowest = (ms, p["title"])
    print("panels: %d ok, %d skipped, %d failed" % (ok, skipped, fails))
    if a.timing and slowest[1] is not None:
        print("slowest panel: %s, %.1f ms" % (slowest[1], slowest[0]))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
