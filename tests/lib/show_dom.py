#!/usr/bin/env python3
"""Check the HTML report (or the DOM Chromium dumped from it).

  show_dom.py PAGE.html EXPECT

EXPECT has one line per policy domain, "domain|messages|pass|fail", from
the database.  Checks, for every domain: a section with data-domain, the
key figures (data-kpi messages, pass, fail), a verdict banner, the chart
(an <svg> with one <g class="day"> per day whose data-pass and data-fail
add up to the database's numbers, and bars drawn as <rect>); and for the
page: no <script>, no <img>, no on* attribute, no http(s) URL in src or
href, and no http(s) URL in the text but XML namespace declarations.
Prints what is wrong; exit 1 when anything is.
"""
import re
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.domains = {}
        self.cur = None
        self.kpi = None
        self.errors = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "object", "embed"):
            self.errors.append("<%s> element in the page" % tag)
        for k, v in attrs:
            if k.startswith("on"):
                self.errors.append("%s attribute on <%s>" % (k, tag))
            if k in ("src", "href") and v and re.match(r"\s*(https?:)?//", v, re.I):
                self.errors.append("%s=%r on <%s>" % (k, v, tag))
        if tag == "section" and "data-domain" in a:
            self.cur = {"kpi": {}, "pass": 0, "fail": 0, "days": 0,
                        "rects": 0, "svg": 0, "verdict": None}
            self.domains[a["data-domain"]] = self.cur
        if self.cur is None:
            return
        if tag == "span" and "data-kpi" in a:
            self.kpi = a["data-kpi"]
            self.cur["kpi"][self.kpi] = ""
        if tag == "svg":
            self.cur["svg"] += 1
        if tag == "g" and a.get("class") == "day":
            self.cur["days"] += 1
            self.cur["pass"] += int(a["data-pass"])
            self.cur["fail"] += int(a["data-fail"])
        if tag == "rect":
            self.cur["rects"] += 1
        if tag == "div" and "data-verdict" in a:
            self.cur["verdict"] = a["data-verdict"]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "span":
            self.kpi = None
        if tag == "section":
            self.cur = None

    def handle_data(self, data):
        if self.kpi is not None:
            self.cur["kpi"][self.kpi] += data


def main():
    raw = open(sys.argv[1], encoding="utf-8").read()
    p = Page()
    p.feed(raw)
    errs = list(p.errors)
    for m in re.finditer(r"(\w[\w:-]*)=\"(https?://[^\"]*)\"", raw):
        if not m.group(1).startswith("xmlns"):
            errs.append("URL outside a namespace declaration: %s" % m.group(0))
    n = 0
    for line in open(sys.argv[2]):
        dom, msgs, ok, bad = line.rstrip("\n").split("|")
        n += 1
        d = p.domains.get(dom)
        if d is None:
            errs.append("%s: no section" % dom)
            continue
        num = lambda k: int(d["kpi"].get(k, "-1").replace(",", ""))
        for k, want in (("messages", msgs), ("pass", ok), ("fail", bad)):
            if num(k) != int(want):
                errs.append("%s: key figure %s shows %s, database %s" % (
                    dom, k, d["kpi"].get(k), want))
        if d["pass"] != int(ok) or d["fail"] != int(bad):
            errs.append("%s: chart adds up to %d/%d, database %s/%s" % (
                dom, d["pass"], d["fail"], ok, bad))
        if d["svg"] < 1 or d["days"] < 1 or d["rects"] < 1:
            errs.append("%s: no chart (%d svg, %d days, %d bars)" % (
                dom, d["svg"], d["days"], d["rects"]))
        if d["verdict"] not in ("healthy", "needs attention", "action needed"):
            errs.append("%s: verdict %r" % (dom, d["verdict"]))
    if n == 0:
        errs.append("nothing expected")
    for e in errs:
        print("show_dom: " + e)
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
