#!/usr/bin/env python3
"""Make a year of DMARC aggregate reports for one busy domain, for
bench/run.sh year.

  mkyear.py [--reporters 20] [--days 365] [--records 300] [--sources 2000]
            [--seed 1] [--first 2025-01-01] OUTDIR

Writes OUTDIR/DAY/REPORTER!example.com!BEGIN!END.xml.gz: one gzip'd report
per reporter and day, so that a walk in name order goes day by day, as an
archive of report mail does.  Each report has RECORDS records, each from
another of SOURCES source addresses drawn with Zipf-like weights (a few
big senders in every report, a long tail seen now and then); a source
keeps its From and MAIL FROM domains, DKIM selector and way of failing:
most pass, some are forwarders (aligned DKIM, SPF fails), some fail DKIM,
some are spoofers (both fail, quarantined or rejected); now and then a
result flips.  Forwarders' records carry a reason (forwarded or
mailing_list) and a second DKIM signature.  Addresses: 10.0.0.0/8 (RFC
1918) and 2001:db8::/32 (RFC 3849).  The same seed gives the same bytes.
Prints what it wrote.
"""
import argparse
import datetime
import gzip
import heapq
import os
import random

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <version>1.0</version>
  <report_metadata>
    <org_name>%(org)s</org_name>
    <email>noreply-dmarc@%(org)s</email>
    <report_id>%(rid)s</report_id>
    <date_range><begin>%(begin)d</begin><end>%(end)d</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.com</domain><adkim>r</adkim><aspf>r</aspf>
    <p>quarantine</p><sp>quarantine</sp><pct>100</pct>
  </policy_published>
"""
REC = """  <record>
    <row><source_ip>%(ip)s</source_ip><count>%(n)d</count>
      <policy_evaluated><disposition>%(disp)s</disposition><dkim>%(dkim)s</dkim><spf>%(spf)s</spf>%(reason)s</policy_evaluated>
    </row>
    <identifiers><header_from>%(hfrom)s</header_from><envelope_from>%(efrom)s</envelope_from></identifiers>
    <auth_results>
%(dkimres)s      <spf><domain>%(efrom)s</domain><result>%(spfres)s</result></spf>
    </auth_results>
  </record>
"""
DKIM = ("      <dkim><domain>%s</domain><selector>%s</selector>"
        "<result>%s</result></dkim>\n")


def sources(n, rnd):
    """Each source's address, weight and ways."""
    out = []
    for i in range(n):
        if i % 9 == 8:
            ip = "2001:db8:%x::%x" % (i >> 8, (i & 0xff) + 1)
        else:
            ip = "10.%d.%d.%d" % (i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff)
        kind = rnd.choices(("pass", "forward", "dkimfail", "spoof"),
                           (80, 8, 6, 6))[0]
        out.append({
            "ip": ip, "w": 1.0 / (i + 1) ** 0.9, "kind": kind,
            "hfrom": "example.com" if i % 23 else "mail.example.com",
            "efrom": ("bounce%d.example.net" % (i % 40)
                      if kind != "spoof" else "spoof%d.example.org" % i),
            "sel": "s%d" % (i % 7), "list": "list%d.example.org" % (i % 5),
        })
    return out


def record(s, rnd):
    pass_dkim = s["kind"] in ("pass", "forward")
    pass_spf = s["kind"] in ("pass", "dkimfail")
    if rnd.random() < 0.03:
        pass_dkim = not pass_dkim
    dkim = "pass" if pass_dkim else "fail"
    spf = "pass" if pass_spf else "fail"
    disp = "none"
    if not pass_dkim and not pass_spf:
        disp = "reject" if rnd.random() < 0.5 else "quarantine"
    dkimres = DKIM % ("example.com", s["sel"], dkim)
    reason = ""
    if s["kind"] == "forward":
        dkimres += DKIM % (s["list"], "list", "pass")
        reason = ("<reason><type>%s</type><comment>%s</comment></reason>" %
                  (("forwarded", "mailing_list")[len(s["list"]) % 2],
                   s["list"]))
    return REC % {
        "ip": s["ip"], "n": max(1, int(s["w"] * 400 * rnd.random())),
        "disp": disp, "dkim": dkim, "spf": spf, "reason": reason,
        "hfrom": s["hfrom"], "efrom": s["efrom"], "dkimres": dkimres,
        "spfres": "pass" if pass_spf else "softfail"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reporters", type=int, default=20)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--records", type=int, default=300)
    ap.add_argument("--sources", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", default="2025-01-01")
    ap.add_argument("outdir")
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    src = sources(a.sources, rnd)
    first = datetime.datetime.fromisoformat(a.first).replace(
        tzinfo=datetime.timezone.utc)
    nfiles = nrec = nbytes = 0
    for d in range(a.days):
        day = first + datetime.timedelta(days=d)
        begin = int(day.timestamp())
        ddir = os.path.join(a.outdir, day.strftime("%Y-%m-%d"))
        os.makedirs(ddir, exist_ok=True)
        for r in range(a.reporters):
            org = "reporter%02d.example" % r
            # Weighted sampling without replacement (Efraimidis-Spirakis).
            pick = heapq.nlargest(a.records, src,
                                  key=lambda s: rnd.random() ** (1 / s["w"]))
            body = [HEAD % {"org": org, "rid": "%s-%d" % (org, begin),
                            "begin": begin, "end": begin + 86399}]
            body += [record(s, rnd) for s in pick]
            body.append("</feedback>\n")
            xml = "".join(body).encode()
            path = os.path.join(ddir, "%s!example.com!%d!%d.xml.gz" % (
                org, begin, begin + 86399))
            with open(path, "wb") as f:
                f.write(gzip.compress(xml, compresslevel=6, mtime=0))
            nfiles += 1
            nrec += len(pick)
            nbytes += len(xml)
    print("%d files, %d records, %d MB of XML, %d sources, %d reporters,"
          " %d days" % (nfiles, nrec, nbytes >> 20, a.sources, a.reporters,
                        a.days))


if __name__ == "__main__":
    main()
