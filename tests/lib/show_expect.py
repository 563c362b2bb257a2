#!/usr/bin/env python3
"""The figures `dmarc-agent report` must show, computed without it.

  show_expect.py expect --from DAY --until DAY [--base DIR --list LIST]
                 -o EXPECT.json FILE...
  show_expect.py check EXPECT.json [--text T] [--json J] [--html H]
  show_expect.py dom EXPECT.json

expect: runs tests/lib/oracle.py (Python's own email, zlib, zipfile and
XML parsers; nothing of dmarc-agent) on the report files and mails given
(FILE..., then the paths in LIST, relative to DIR), and adds up, for every
policy domain with records in the window (a report counts on the UTC day
its period begins), what the report command shows: messages, DMARC
pass/fail (DKIM or SPF aligned pass), aligned DKIM and SPF passes,
quarantined and rejected, distinct source addresses, reports; the same per
day of the window; per source address; the sources failing DMARC; the
forwarding (aligned DKIM pass, SPF fail) and spoofing (both fail) suspects;
per reporter its reports, messages, last period end and last report ID.
Sources are named by their address (no enrichment).

check: compares the text, JSON and HTML outputs with those figures: every
number shown (counts and rates), every row of every table, the domains and
their order; over a long window the text bars and the chart by week or
month (added up here from the days, weeks beginning on Monday).  dom: the "domain|messages|pass|fail" lines show_dom.py reads.
Prints what differs; exit 1 when anything does.
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = 10        # rows of the top, failing, forwarding and spoofing tables


def unescape(v):
    r"""A field of oracle.py's output: \N is None, COPY escapes undone."""
    if v == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: {"t": "\t", "n": "\n", "r": "\r"}.get(
        m.group(1), m.group(1)), v)


def oracle_rows(paths):
    out = subprocess.run([sys.executable, os.path.join(HERE, "oracle.py")] +
                         paths, check=True, stdout=subprocess.PIPE,
                         universal_newlines=True).stdout
    return [[unescape(f) for f in line.split("\t")]
            for line in out.splitlines()]


def day_of(epoch):
    return datetime.datetime.fromtimestamp(
        epoch, datetime.timezone.utc).strftime("%Y-%m-%d")


def load(rows, first, last):
    """Reports and records in the window, from the oracle's rows."""
    reports, orgs, records = {}, {}, []
    for r in rows:
        if r[0] == "report":
            key = (r[1], r[2])
            if key in reports:
                raise SystemExit("show_expect: report %r twice" % (key,))
            reports[key] = {"reporter": r[1], "id": r[2], "domain": r[3],
                            "begin": int(r[4]), "end": int(r[5]),
                            "total": int(r[7])}
        elif r[0] == "meta":
            orgs[(r[1], r[2])] = r[3]
    for key, rep in reports.items():
        rep["org"] = orgs.get(key)
        rep["day"] = day_of(rep["begin"])
    for r in rows:
        if r[0] != "record":
            continue
        rep = reports[(r[1], r[2])]
        if first <= rep["day"] <= last:
            records.append({"rep": rep, "ip": r[4], "count": int(r[5]),
                            "disp": r[6], "dkim": r[7], "spf": r[8],
                            "from": r[9], "envfrom": r[10]})
    return [p for p in reports.values() if first <= p["day"] <= last], records


def passed(c):
    return c["dkim"] == "pass" or c["spf"] == "pass"


def tally(recs):
    """The counts every table shows, over some records."""
    t = {"messages": 0, "dmarc_pass": 0, "dmarc_fail": 0,
         "dkim_aligned_pass": 0, "spf_aligned_pass": 0, "quarantined": 0,
         "rejected": 0}
    for c in recs:
        n = c["count"]
        t["messages"] += n
        t["dmarc_pass" if passed(c) else "dmarc_fail"] += n
        t["dkim_aligned_pass"] += n if c["dkim"] == "pass" else 0
        t["spf_aligned_pass"] += n if c["spf"] == "pass" else 0
        t["quarantined"] += n if c["disp"] == "quarantine" else 0
        t["rejected"] += n if c["disp"] == "reject" else 0
    return t


def source(c):
    return c["ip"] if c["ip"] is not None else "(unreadable)"


def group(recs, key):
    g = {}
    for c in recs:
        g.setdefault(key(c), []).append(c)
    return g


def days(first, last):
    d = datetime.date.fromisoformat(first)
    while d.isoformat() <= last:
        yield d.isoformat()
        d += datetime.timedelta(days=1)


# Over more than BIN_DAYS days the report bins the days by week (from
# Monday), over more than BIN_WEEKS by calendar month.
BIN_DAYS, BIN_WEEKS, TEXT_ALL = 90, 731, 45


def bin_kind(ndays):
    if ndays <= BIN_DAYS:
        return "day"
    return "week" if ndays <= BIN_WEEKS else "month"


def bins(daily, kind):
    """The daily rows added up per bin; each bin named by its first day."""
    out = []
    for r in daily:
        d = datetime.date.fromisoformat(r["day"])
        key = {"day": d, "week": d - datetime.timedelta(days=d.weekday()),
               "month": (d.year, d.month)}[kind]
        if not out or out[-1][0] != key:
            out.append((key, dict((k, 0) for k in r if k != "day"),
                        r["day"]))
        for k, v in r.items():
            if k != "day":
                out[-1][1][k] += v
    return [dict(b[1], day=b[2]) for b in out]


def domain_expect(dom, reps, recs, first, last):
    e = tally(recs)
    e["domain"] = dom
    e["source_ips"] = len({c["ip"] for c in recs if c["ip"] is not None})
    e["reports"] = len(reps)
    byday = group(recs, lambda c: c["rep"]["day"])
    e["daily"] = [dict(tally(byday.get(d, [])), day=d)
                  for d in days(first, last)]
    e["sources"] = {s: dict(tally(v), ip_count=len({c["ip"] for c in v
                                                   if c["ip"]}))
                    for s, v in group(recs, source).items()}
    e["failing"] = {s: {"messages": t["messages"], "dmarc_fail":
                        t["dmarc_fail"], "header_from": ", ".join(sorted(
                            {c["from"] or "?" for c in v})),
                        "reporters": ", ".join(sorted(
                            {c["rep"]["reporter"] for c in v}))}
                    for s, v in group(recs, source).items()
                    for t in [tally(v)] if t["dmarc_fail"] > 0}
    fwd = [c for c in recs if c["dkim"] == "pass" and c["spf"] == "fail"]
    e["forwarding"] = {"|".join(k): sum(c["count"] for c in v)
                       for k, v in group(fwd, lambda c: (
                           source(c), c["from"] or "?",
                           c["envfrom"] or "(none)")).items()}
    spoof = [c for c in recs if c["dkim"] == "fail" and c["spf"] == "fail"]
    e["spoofing"] = {"|".join(k): [tally(v)["messages"],
                                   tally(v)["quarantined"] +
                                   tally(v)["rejected"]]
                     for k, v in group(spoof, lambda c: (
                         source(c), c["from"] or "?")).items()}
    e["reporters"] = {}
    for rk, v in group(reps, lambda p: p["reporter"]).items():
        last_rep = sorted(v, key=lambda p: (-p["end"], p["id"]))[0]
        e["reporters"][rk] = {
            "org_name": last_rep["org"], "reports": len(v),
            "messages": sum(p["total"] for p in v),
            "last_period_end": datetime.datetime.fromtimestamp(
                max(p["end"] for p in v), datetime.timezone.utc).strftime(
                    "%Y-%m-%d %H:%M"),
            "last_report_id": last_rep["id"]}
    return e


def cmd_expect(a):
    paths = list(a.files)
    if a.list:
        with open(a.list) as f:
            paths += [os.path.join(a.base, p.rstrip("\n")) for p in f
                      if p.strip()]
    reps, recs = load(oracle_rows(paths), a.first, a.last)
    out = {"from": a.first, "until": a.last, "domains": []}
    for dom, v in group(recs, lambda c: c["rep"]["domain"]).items():
        out["domains"].append(domain_expect(
            dom, [p for p in reps if p["domain"] == dom], v, a.first,
            a.last))
    out["domains"].sort(key=lambda d: (-d["messages"], d["domain"]))
    with open(a.output, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
    return 0


# The checks -----------------------------------------------------------

def pct(num, den):
    """A rate as the report writes it: one decimal, rounded half up, but
    never 100.0% unless all passed nor 0.0% unless none did."""
    if den <= 0:
        return "-"
    t = (min(num, den) * 1000 + den // 2) // den
    if t == 1000 and num < den:
        t = 999
    if t == 0 and num > 0:
        t = 1
    return "%d.%d%%" % (t // 10, t % 10)


def verdict(e):
    p, m = e["dmarc_pass"], e["messages"]
    if p * 100 >= m * 98:
        return "healthy"
    return "needs attention" if p * 10 >= m * 9 else "action needed"


def cut(s, width):
    """A string as a text column of width shows it (cut, then '~')."""
    return s if len(s) <= width else s[:width - 1] + "~"


def top_order(rows, key, what, errs):
    """Rows must come in decreasing order of key."""
    vals = [key(r) for r in rows]
    if vals != sorted(vals, reverse=True):
        errs.append("%s: not in decreasing order: %r" % (what, vals))


def top_n(table, key):
    """Which rows a table of at most TOP rows must show: all when they fit,
    else those whose key reaches the TOP-th largest (ties may go either
    way)."""
    if len(table) <= TOP:
        return set(table), set(table)
    cut_at = sorted((key(v) for v in table.values()), reverse=True)[TOP - 1]
    return ({k for k, v in table.items() if key(v) > cut_at},
            {k for k, v in table.items() if key(v) >= cut_at})


def same_set(shown, table, key, what, errs):
    must, may = top_n(table, key)
    if not must <= set(shown) <= may or len(shown) != min(TOP, len(table)):
        errs.append("%s: rows %s, want %s" % (what, sorted(shown),
                                              sorted(may)))


class Checker:
    def __init__(self, expect):
        self.e = expect
        self.errs = []

    def eq(self, what, got, want):
        """Note a difference: for two lists of one length or two dicts,
        only the items that differ."""
        if got == want:
            return
        if isinstance(got, dict) and isinstance(want, dict):
            for k in sorted(set(got) | set(want), key=str):
                if got.get(k) != want.get(k):
                    self.errs.append("%s: %s: %r, want %r" % (
                        what, k, got.get(k), want.get(k)))
        elif isinstance(got, list) and isinstance(want, list) and \
                len(got) == len(want):
            for i, (g, w) in enumerate(zip(got, want)):
                if g != w:
                    self.errs.append("%s: [%d]: %r, want %r" % (
                        what, i, g, w))
        else:
            self.errs.append("%s: %r, want %r" % (what, got, want))


# JSON: every member of every table.

def check_json(ck, path):
    d = json.load(open(path))
    ck.eq("json: from/until", (d["from"], d["until"]),
          (ck.e["from"], ck.e["until"]))
    ck.eq("json: domains", [x["domain"] for x in d["domains"]],
          [x["domain"] for x in ck.e["domains"]])
    for x in d["domains"]:
        e = next((y for y in ck.e["domains"] if y["domain"] == x["domain"]),
                 None)
        if e is not None:
            json_domain(ck, x, e)


def json_domain(ck, x, e):
    w = "json: %s" % e["domain"]
    for k in ("messages", "dmarc_pass", "dmarc_fail", "dkim_aligned_pass",
              "spf_aligned_pass", "quarantined", "rejected", "source_ips",
              "reports"):
        ck.eq("%s: %s" % (w, k), x[k], e[k])
    ck.eq(w + ": verdict", x["verdict"], verdict(e))
    ck.eq(w + ": dmarc_pass_pct", "%.1f%%" % x["dmarc_pass_pct"],
          pct(e["dmarc_pass"], e["messages"]))
    ck.eq(w + ": daily", [{k: r[k] for k in ("day", "messages", "dmarc_pass",
                                             "dmarc_fail", "quarantined",
                                             "rejected")}
                          for r in x["daily"]],
          [{k: r[k] for k in ("day", "messages", "dmarc_pass", "dmarc_fail",
                              "quarantined", "rejected")}
           for r in e["daily"]])
    json_tables(ck, w, x, e)


def json_tables(ck, w, x, e):
    src = e["sources"]
    same_set([r["source"] for r in x["top_sources"]], src,
             lambda v: v["messages"], w + ": top sources", ck.errs)
    top_order(x["top_sources"], lambda r: r["messages"],
              w + ": top sources", ck.errs)
    for r in x["top_sources"]:
        v = src.get(r["source"], {})
        ck.eq("%s: top source %s" % (w, r["source"]),
              [r["ip_count"], r["messages"], r["dmarc_pass"],
               r["spf_aligned_pass"], r["dkim_aligned_pass"]],
              [v.get("ip_count"), v.get("messages"), v.get("dmarc_pass"),
               v.get("spf_aligned_pass"), v.get("dkim_aligned_pass")])
    fail = e["failing"]
    same_set([r["source"] for r in x["failing_sources"]], fail,
             lambda v: v["dmarc_fail"], w + ": failing sources", ck.errs)
    top_order(x["failing_sources"], lambda r: r["dmarc_fail"],
              w + ": failing sources", ck.errs)
    for r in x["failing_sources"]:
        ck.eq("%s: failing source %s" % (w, r["source"]),
              {k: r[k] for k in ("messages", "dmarc_fail", "header_from",
                                 "reporters")}, fail.get(r["source"]))
    fwd = {"|".join((r["source"], r["header_from"], r["envelope_from"])):
           r["messages"] for r in x["forwarding"]}
    spoof = {"|".join((r["source"], r["header_from"])):
             [r["messages"], r["blocked"]] for r in x["spoofing"]}
    ck.eq(w + ": forwarding", fwd, dict(
        (k, e["forwarding"][k]) for k in fwd if k in e["forwarding"]))
    same_set(list(fwd), e["forwarding"], lambda v: v, w + ": forwarding",
             ck.errs)
    ck.eq(w + ": spoofing", spoof, dict(
        (k, e["spoofing"][k]) for k in spoof if k in e["spoofing"]))
    same_set(list(spoof), e["spoofing"], lambda v: v[0], w + ": spoofing",
             ck.errs)
    ck.eq(w + ": reporters", {r["reporter"]: {k: r[k] for k in (
        "org_name", "reports", "messages", "last_period_end",
        "last_report_id")} for r in x["reporters"]}, e["reporters"])
    top_order(x["reporters"], lambda r: r["messages"], w + ": reporters",
              ck.errs)


# Text: the sections of each domain, parsed back into figures.

def num(s):
    return int(s.replace(",", ""))


def text_sections(lines):
    """{domain: {heading: [lines]}} from the text report."""
    heads = ("Daily volume", "Weekly volume", "Monthly volume",
             "Top sources", "Sources failing DMARC",
             "Suspected forwarding", "Suspected spoofing", "Reporters",
             "SMTP TLS reports", "Mailboxes", "Silent reporters")
    doms, cur, sec = {}, None, None
    for line in lines:
        m = re.match(r"== (.*) =+$", line)
        if m:
            cur = doms.setdefault(m.group(1), {"": []})
            sec = ""
            continue
        if cur is None:
            continue
        if any(line.startswith(h) for h in heads):
            sec = next(h for h in heads if line.startswith(h))
            cur[sec] = []
        elif line:
            cur[sec].append(line)
    return doms


def check_text(ck, path):
    lines = open(path, encoding="utf-8").read().split("\n")
    e0 = ck.e
    ck.eq("text: title", lines[0], "DMARC report, %s to %s (%d days, UTC)" % (
        e0["from"], e0["until"], len(list(days(e0["from"], e0["until"])))))
    doms = text_sections(lines)
    ck.eq("text: domains", [l[3:].rstrip("= ") for l in lines
                            if l.startswith("== ")],
          [d["domain"] for d in e0["domains"]])
    for e in e0["domains"]:
        if e["domain"] in doms:
            text_domain(ck, doms[e["domain"]], e)


def text_domain(ck, sec, e):
    w = "text: %s" % e["domain"]
    ck.eq(w + ": verdict", sec[""][:3], [
        "Verdict: %s of %s messages passed DMARC: %s" % (
            pct(e["dmarc_pass"], e["messages"]), "{:,}".format(
                e["messages"]), verdict(e)),
        "  %s failed.  Aligned DKIM passed for %s, aligned SPF for %s." % (
            "{:,}".format(e["dmarc_fail"]),
            pct(e["dkim_aligned_pass"], e["messages"]),
            pct(e["spf_aligned_pass"], e["messages"])),
        "  Receivers quarantined %s and rejected %s; %s source IPs, %s "
        "reports." % tuple("{:,}".format(e[k]) for k in (
            "quarantined", "rejected", "source_ips", "reports"))])
    kind = bin_kind(len(e["daily"]))
    head = {"day": "Daily volume", "week": "Weekly volume",
            "month": "Monthly volume"}[kind]
    got = [l.split()[:4] for l in sec.get(head, [])[1:]
           if not l.startswith("(")]
    want = bins(e["daily"], kind)
    if len(want) > TEXT_ALL:
        want = [r for r in want if r["messages"] > 0]
    ck.eq(w + ": " + head.lower(), [[g[0]] + [num(x) for x in g[1:]]
                                    for g in got],
          [[r["day"][:7] if kind == "month" else r["day"], r["messages"],
            r["dmarc_pass"], r["dmarc_fail"]] for r in want])
    text_top(ck, w, sec.get("Top sources", []), e)
    text_tables(ck, w, sec, e)


def text_top(ck, w, rows, e):
    shown = []
    for line in rows[1:]:
        f = line.split()
        if len(f) != 6:
            ck.errs.append("%s: top sources: line %r" % (w, line))
            continue
        shown.append(f[0])
        v = e["sources"].get(f[0], {})
        m = v.get("messages", 0)
        ck.eq("%s: top source %s" % (w, f[0]), [num(f[1]), num(f[2])] +
              f[3:], [v.get("ip_count"), m, pct(v.get("dmarc_pass", 0), m),
                      pct(v.get("spf_aligned_pass", 0), m),
                      pct(v.get("dkim_aligned_pass", 0), m)])
    same_set(shown, e["sources"], lambda v: v["messages"],
             w + ": top sources", ck.errs)


def text_tables(ck, w, sec, e):
    got = {}
    for line in sec.get("Sources failing DMARC", [])[1:]:
        m = re.match(r"(\S+) +([\d,]+) +([\d,]+)  (.*)$", line)
        if m:
            got[m.group(1)] = [num(m.group(2)), num(m.group(3)), m.group(4)]
    want = {s: [v["dmarc_fail"], v["messages"], cut(v["header_from"], 27)]
            for s, v in e["failing"].items() if s in got}
    ck.eq(w + ": failing sources", got, want)
    same_set(list(got), e["failing"], lambda v: v["dmarc_fail"],
             w + ": failing sources", ck.errs)
    got = {}
    for line in sec.get("Suspected forwarding", [])[1:]:
        m = re.match(r"(\S+) +([\d,]+)  (\S+) +(\S+)$", line)
        if m:
            got["|".join(m.group(1, 3, 4))] = num(m.group(2))
    ck.eq(w + ": forwarding", got, {k: v for k, v in e["forwarding"].items()
                                    if k in got})
    same_set(list(got), e["forwarding"], lambda v: v, w + ": forwarding",
             ck.errs)
    got = {}
    for line in sec.get("Suspected spoofing", [])[1:]:
        m = re.match(r"(\S+) +([\d,]+) +([\d,]+)  (\S+)$", line)
        if m:
            got["|".join(m.group(1, 4))] = [num(m.group(2)),
                                            num(m.group(3))]
    ck.eq(w + ": spoofing", got, {k: v for k, v in e["spoofing"].items()
                                  if k in got})
    same_set(list(got), e["spoofing"], lambda v: v[0], w + ": spoofing",
             ck.errs)
    text_reporters(ck, w, sec.get("Reporters", []), e)


def text_reporters(ck, w, rows, e):
    got = []
    for line in rows[1:]:
        m = re.match(r"(.{22}) +([\d,]+) +([\d,]+)  (.{16})  (.*)$", line)
        if m is None:
            ck.errs.append("%s: reporters: line %r" % (w, line))
            continue
        got.append([m.group(1).rstrip(), num(m.group(2)), num(m.group(3)),
                    m.group(4), m.group(5)])
    want = [[cut(v["org_name"] or k, 22), v["reports"], v["messages"],
             v["last_period_end"], cut(v["last_report_id"], 20)]
            for k, v in e["reporters"].items()]
    ck.eq(w + ": reporters", sorted(got), sorted(want))
    top_order(got, lambda r: r[2], w + ": reporters", ck.errs)


# HTML: the key figures, the chart's days and the tables' cells.

class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.doms, self.cur, self.kpi = {}, None, None
        self.table, self.row, self.cell = None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" and "data-domain" in a:
            self.cur = self.doms[a["data-domain"]] = {
                "kpi": {}, "days": [], "tables": {}}
        if self.cur is None:
            return
        if tag == "span" and "data-kpi" in a:
            self.kpi = a["data-kpi"]
            self.cur["kpi"][self.kpi] = ""
        elif tag == "g" and a.get("class") == "day":
            self.cur["days"].append([a["data-day"], int(a["data-pass"]),
                                     int(a["data-fail"])])
        elif tag == "table":
            self.table = self.cur["tables"][a.get("class")] = []
        elif tag == "tr" and self.table is not None:
            self.row = []
        elif tag == "td" and self.row is not None:
            self.cell = ""
            self.row.append(self.cell)
        elif tag == "small" and self.row:
            self.row[-1] += " "

    def handle_endtag(self, tag):
        if tag == "span":
            self.kpi = None
        elif tag == "section":
            self.cur = None
        elif tag == "table":
            self.table = None
        elif tag == "tr" and self.row is not None:
            if self.row:
                self.table.append([c.strip() for c in self.row])
            self.row = None

    def handle_data(self, data):
        if self.kpi is not None:
            self.cur["kpi"][self.kpi] += data
        elif self.row:
            self.row[-1] += data


def check_html(ck, path):
    p = Page()
    p.feed(open(path, encoding="utf-8").read())
    ck.eq("html: domains", list(p.doms),
          [d["domain"] for d in ck.e["domains"]])
    for e in ck.e["domains"]:
        d = p.doms.get(e["domain"])
        if d is not None:
            html_domain(ck, d, e)


def html_domain(ck, d, e):
    w = "html: %s" % e["domain"]
    ck.eq(w + ": key figures", d["kpi"], {
        "messages": "{:,}".format(e["messages"]),
        "pass": "{:,}".format(e["dmarc_pass"]),
        "fail": "{:,}".format(e["dmarc_fail"]),
        "pass_pct": pct(e["dmarc_pass"], e["messages"]),
        "sources": "{:,}".format(e["source_ips"])})
    ck.eq(w + ": chart", d["days"], [[r["day"], r["dmarc_pass"],
                                      r["dmarc_fail"]] for r in bins(
                                          e["daily"],
                                          bin_kind(len(e["daily"])))])
    t = d["tables"]
    got = {r[0]: r[1:] for r in t.get("top", [])}
    ck.eq(w + ": top sources", got, {s: [
        "{:,}".format(v["ip_count"]), "{:,}".format(v["messages"]),
        pct(v["dmarc_pass"], v["messages"]),
        pct(v["spf_aligned_pass"], v["messages"]),
        pct(v["dkim_aligned_pass"], v["messages"])]
        for s, v in e["sources"].items() if s in got})
    same_set(list(got), e["sources"], lambda v: v["messages"],
             w + ": top sources", ck.errs)
    got = {r[0]: r[1:] for r in t.get("failing", [])}
    ck.eq(w + ": failing sources", got, {s: [
        "{:,}".format(v["dmarc_fail"]), "{:,}".format(v["messages"]),
        v["header_from"], v["reporters"]]
        for s, v in e["failing"].items() if s in got})
    same_set(list(got), e["failing"], lambda v: v["dmarc_fail"],
             w + ": failing sources", ck.errs)
    html_tables(ck, w, t, e)


def html_tables(ck, w, t, e):
    ck.eq(w + ": forwarding", {"|".join((r[0], r[2], r[3])): num(r[1])
                               for r in t.get("forwarding", [])},
          e["forwarding"] if len(e["forwarding"]) <= TOP else
          {"|".join((r[0], r[2], r[3])): e["forwarding"].get(
              "|".join((r[0], r[2], r[3])))
           for r in t.get("forwarding", [])})
    ck.eq(w + ": spoofing", {"|".join((r[0], r[3])): [num(r[1]), num(r[2])]
                             for r in t.get("spoofing", [])},
          e["spoofing"] if len(e["spoofing"]) <= TOP else
          {"|".join((r[0], r[3])): e["spoofing"].get("|".join((r[0], r[3])))
           for r in t.get("spoofing", [])})
    ck.eq(w + ": reporters", sorted([r[0], num(r[1]), num(r[2]), r[3], r[4]]
                                    for r in t.get("reporters", [])),
          sorted([v["org_name"] or k, v["reports"], v["messages"],
                  v["last_period_end"], v["last_report_id"]]
                 for k, v in e["reporters"].items()))


def cmd_check(a):
    ck = Checker(json.load(open(a.expect)))
    for path, fn in ((a.text, check_text), (a.json, check_json),
                     (a.html, check_html)):
        if path:
            fn(ck, path)
    for e in ck.errs:
        print("show_expect: " + e)
    return 1 if ck.errs else 0


def cmd_dom(a):
    for d in json.load(open(a.expect))["domains"]:
        print("%s|%d|%d|%d" % (d["domain"], d["messages"], d["dmarc_pass"],
                               d["dmarc_fail"]))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("expect")
    p.add_argument("--from", dest="first", required=True)
    p.add_argument("--until", dest="last", required=True)
    p.add_argument("--base", default=".")
    p.add_argument("--list")
    p.add_argument("-o", dest="output", required=True)
    p.add_argument("files", nargs="*")
    p = sub.add_parser("check")
    p.add_argument("expect")
    p.add_argument("--text")
    p.add_argument("--json")
    p.add_argument("--html")
    p = sub.add_parser("dom")
    p.add_argument("expect")
    a = ap.parse_args()
    return {"expect": cmd_expect, "check": cmd_check, "dom": cmd_dom}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
