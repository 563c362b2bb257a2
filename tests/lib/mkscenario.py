#!/usr/bin/env python3
"""Make the generated days of the alert scenarios (tests/server/alerts.test,
notify.test): DMARC aggregate reports for freitagsrunde.org, the corpus
domain, from 2023-08-01 to 2023-08-20, with exact counts, so that each
alert rule has a case that fires on it and a near miss that does not.

  mkscenario.py [--inject] [--domain D] OUTDIR

Writes OUTDIR/NNN-REPORTER-DAY.xml (and .xml.gz for one reporter, as
providers send them).  Addresses are from the documentation ranges (RFC
5737) beside the corpus's own server.  The evaluation day is 2023-08-20,
looking at 3 days (2023-08-18 to 2023-08-20):

  daily.example  every day: the own server 130.149.246.218, DKIM aligned,
                 98 messages passing; 192.0.2.99 failing 1 a day (under
                 new_failing_source's 5).
    2023-08-19   203.0.113.50 fails 6: new_failing_source fires (case);
                 203.0.113.51 fails 4: it does not (near miss); the day's
                 pass rate falls about 9 points: pass_rate_drop does not
                 fire at 10 (near miss).
    2023-08-20   the own server only 60; esp.example.net (approved) 40, 10
                 passing (25 %): approved_sender_failing fires (case);
                 relay.example.org (approved) 20, 19 passing (95 %): it
                 does not (near miss); 198.51.100.0/24 (approved) 9, all
                 failing: under the 10 messages (near miss); 203.0.113.50
                 fails 7 again (the same episode: not notified again); the
                 day's pass rate falls far under the median:
                 pass_rate_drop fires (case).
  quiet.example  daily to 2023-08-15, then nothing: silent_reporter fires
                 (case, first missing day 2023-08-16).
  late.example   daily to 2023-08-17: silent two days only (near miss).
  sparse.example every other day to 2023-08-13: silent, but it never sent
                 daily (near miss).

--domain makes the same days for another policy domain (report IDs and
records are then its own).  --inject gives 203.0.113.50's records header_from and envelope_from
values with markup, a quote and a line break, and the reporter an
org_name with markup, for the escaping checks (XML cannot carry CR or LF
inside a value other than as a character reference, which we use).
"""
import argparse
import datetime
import gzip
import os

DOMAIN = "freitagsrunde.org"
OWN = "130.149.246.218"


def day_ts(day):
    d = datetime.datetime.strptime(day, "%Y-%m-%d").replace(
        tzinfo=datetime.timezone.utc)
    return int(d.timestamp())


def esc(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;").replace("\n", "&#10;"))


def record(ip, count, dkim_al, spf_al, dkims, spf, hfrom=None,
           envfrom=None, disp="none"):
    """dkims: [(domain, selector, result)]; spf: (domain, result)."""
    if hfrom is None:
        hfrom = DOMAIN
    out = ["<record><row><source_ip>%s</source_ip><count>%d</count>"
           "<policy_evaluated><disposition>%s</disposition><dkim>%s</dkim>"
           "<spf>%s</spf></policy_evaluated></row><identifiers>"
           "<header_from>%s</header_from><envelope_from>%s</envelope_from>"
           "</identifiers><auth_results>" % (
               ip, count, disp, dkim_al, spf_al, esc(hfrom),
               esc(envfrom if envfrom is not None else spf[0]))]
    for d, s, r in dkims:
        out.append("<dkim><domain>%s</domain><selector>%s</selector>"
                   "<result>%s</result></dkim>" % (d, s, r))
    out.append("<spf><domain>%s</domain><scope>mfrom</scope><result>%s"
               "</result></spf></auth_results></record>" % spf)
    return "".join(out)


def own(n):
    return record(OWN, n, "pass", "pass",
                  [(DOMAIN, "freitagsrunde-rsa-1", "pass")], (DOMAIN, "pass"))


def report(org, mail, day, records, n):
    begin = day_ts(day)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feedback>'
            "<version>1.0</version><report_metadata><org_name>%s</org_name>"
            "<email>%s</email><report_id>scn-%s-%s-%s-%d</report_id>"
            "<date_range><begin>%d</begin><end>%d</end></date_range>"
            "</report_metadata><policy_published><domain>%s</domain>"
            "<adkim>r</adkim><aspf>r</aspf><p>quarantine</p><sp>none</sp>"
            "<pct>100</pct></policy_published>%s</feedback>\n" % (
                esc(org), mail, DOMAIN, mail.split("@")[1], day, n, begin,
                begin + 86399, DOMAIN, "".join(records)))


def days(first, last, step=1):
    d = datetime.date.fromisoformat(first)
    end = datetime.date.fromisoformat(last)
    while d <= end:
        yield d.isoformat()
        d += datetime.timedelta(days=step)


def daily_records(day, inject):
    recs = [own(98 if day != "2023-08-20" else 60),
            record("192.0.2.99", 1, "fail", "fail", [], ("spam.example",
                                                          "fail"))]
    hfrom = DOMAIN
    envfrom = None
    if inject:
        hfrom = DOMAIN + '"><script>alert(1)</script>\r\nBcc: victim@example.net'
        envfrom = 'bounce.example\r\nX-Injected: yes <b>'
    if day in ("2023-08-19", "2023-08-20"):
        recs.append(record("203.0.113.50", 6 if day == "2023-08-19" else 7,
                           "fail", "fail", [], ("203-0-113-50.example",
                                                "softfail"),
                           hfrom=hfrom, envfrom=envfrom, disp="quarantine"))
    if day == "2023-08-19":
        recs.append(record("203.0.113.51", 4, "fail", "fail", [],
                           ("other.example", "fail")))
    if day == "2023-08-20":
        recs.append(record("198.51.100.20", 10, "pass", "fail",
                           [(DOMAIN, "esp1", "pass"),
                            ("esp.example.net", "e1", "pass")],
                           ("bounces.esp.example.net", "pass")))
        recs.append(record("198.51.100.21", 30, "fail", "fail",
                           [("esp.example.net", "e1", "pass"),
                            (DOMAIN, "esp1", "fail")],
                           ("bounces.esp.example.net", "pass")))
        recs.append(record("192.0.2.40", 19, "pass", "fail",
                           [(DOMAIN, "relay", "pass"),
                            ("relay.example.org", "r", "pass")],
                           ("relay.example.org", "pass")))
        recs.append(record("192.0.2.41", 1, "fail", "fail",
                           [("relay.example.org", "r", "pass")],
                           ("relay.example.org", "pass")))
        recs.append(record("198.51.100.77", 9, "fail", "fail", [],
                           ("mx.partner.example", "fail")))
    return recs


def main():
    global DOMAIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--inject", action="store_true")
    ap.add_argument("--domain", default=DOMAIN)
    ap.add_argument("outdir")
    a = ap.parse_args()
    DOMAIN = a.domain
    os.makedirs(a.outdir, exist_ok=True)
    n = 0
    files = []
    for day in days("2023-08-01", "2023-08-20"):
        files.append(("daily", "Daily Reporter" if not a.inject else
                      'Daily <b onmouseover="x()">Reporter</b>',
                      "noreply@daily.example", day,
                      daily_records(day, a.inject)))
    for day in days("2023-08-01", "2023-08-15"):
        files.append(("quiet", "Quiet Reporter", "dmarc@quiet.example", day,
                      [own(5)]))
    for day in days("2023-08-01", "2023-08-17"):
        files.append(("late", "Late Reporter", "dmarc@late.example", day,
                      [own(5)]))
    for day in days("2023-08-01", "2023-08-13", 2):
        files.append(("sparse", "Sparse Reporter", "dmarc@sparse.example",
                      day, [own(5)]))
    for name, org, mail, day, recs in files:
        n += 1
        xml = report(org, mail, day, recs, n).encode()
        path = os.path.join(a.outdir, "%03d-%s-%s.xml" % (n, name, day))
        if name == "quiet":
            with open(path + ".gz", "wb") as f:
                f.write(gzip.compress(xml, mtime=0))
        else:
            with open(path, "wb") as f:
                f.write(xml)


if __name__ == "__main__":
    main()
