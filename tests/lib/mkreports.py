#!/usr/bin/env python3
"""Make realistic DMARC aggregate report mails, for the quick start and the
benchmarks, without the corpus.

  mkreports.py [--count N] [--seed S] [--records R] [--domain D] OUTDIR

Writes OUTDIR/NNNNNN.eml: one report per mail from a rotating set of
reporters, in the containers real providers use (gzip and zip attachments,
plain XML, RFC 7489 and RFC 9990 namespaced XML), with addresses from the
documentation ranges (RFC 5737, RFC 3849) only.  The same seed gives the
same bytes.
"""
import argparse
import email.utils
import gzip
import io
import os
import random
import zipfile
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

REPORTERS = [
    # org_name, email, container, schema
    ("google.com", "noreply-dmarc-support@google.com", "zip", "7489"),
    ("Yahoo", "dmarchelp@yahooinc.com", "gzip", "7489"),
    ("Enterprise Outlook", "dmarcreport@microsoft.com", "gzip", "7489"),
    ("Mail.Ru", "dmarc_support@corp.mail.ru", "gzip", "7489"),
    ("AMAZON-SES", "postmaster@amazonses.com", "gzip-octet", "7489"),
    ("GMX", "noreply-dmarc@gmx.net", "gzip", "9990"),
    ("Fastmail Pty Ltd", "noreply-dmarc@fastmail.com", "xml", "7489"),
]
SOURCES = [
    # ip, header_from-aligned dkim?, spf?, sender domain, selector
    ("192.0.2.10", "pass", "pass", None, "s1"),
    ("192.0.2.11", "pass", "pass", None, "s1"),
    ("198.51.100.7", "pass", "fail", "lists.example.net", "s2"),
    ("203.0.113.99", "fail", "fail", "spoofer.example", None),
    ("2001:db8::25", "pass", "pass", None, "s1"),
    ("198.51.100.200", "fail", "pass", "esp.example.net", "esp"),
]


def record(rng, domain, src):
    ip, dkim, spf, other, sel = src
    count = rng.choice([1, 1, 2, 3, 5, 8, 13, 40, 120])
    disp = "none" if "pass" in (dkim, spf) else rng.choice(["none", "quarantine", "reject"])
    envfrom = other or domain
    parts = ["<record><row><source_ip>%s</source_ip><count>%d</count>"
             "<policy_evaluated><disposition>%s</disposition><dkim>%s</dkim>"
             "<spf>%s</spf>" % (ip, count, disp, dkim, spf)]
    if other == "lists.example.net":
        parts.append("<reason><type>mailing_list</type><comment>list"
                     "</comment></reason>")
    parts.append("</policy_evaluated></row><identifiers><header_from>%s"
                 "</header_from><envelope_from>%s</envelope_from>"
                 "</identifiers><auth_results>" % (domain, envfrom))
    if sel:
        parts.append("<dkim><domain>%s</domain><selector>%s</selector>"
                     "<result>%s</result></dkim>" % (domain, sel, dkim))
    if other and sel:
        parts.append("<dkim><domain>%s</domain><selector>x</selector>"
                     "<result>pass</result></dkim>" % other)
    parts.append("<spf><domain>%s</domain><scope>mfrom</scope><result>%s"
                 "</result></spf></auth_results></record>" % (
                     envfrom, "pass" if spf == "pass" else "softfail"))
    return "".join(parts), count


def report_xml(rng, n, org, mail, schema, domain, begin, nrec):
    rid = "%d.%d" % (begin, rng.randrange(10 ** 9))
    ns = ' xmlns="urn:ietf:params:xml:ns:dmarc-2.0"' if schema == "9990" else ""
    head = ('<?xml version="1.0" encoding="UTF-8"?>\n<feedback%s>'
            "<version>%s</version><report_metadata><org_name>%s</org_name>"
            "<email>%s</email><report_id>%s</report_id><date_range>"
            "<begin>%d</begin><end>%d</end></date_range></report_metadata>"
            "<policy_published><domain>%s</domain><adkim>r</adkim>"
            "<aspf>r</aspf><p>quarantine</p><sp>none</sp>%s"
            "</policy_published>" % (
                ns, "1.0", org, mail, rid, begin, begin + 86399, domain,
                "<np>reject</np><testing>n</testing>"
                "<discovery_method>treewalk</discovery_method>"
                if schema == "9990" else "<pct>100</pct>"))
    recs = [record(rng, domain, rng.choice(SOURCES)) for _ in range(nrec)]
    xml = head + "".join(r for r, _ in recs) + "</feedback>\n"
    return rid, xml.encode()


def make_mail(rng, n, domain, nrec, begin):
    org, mail, container, schema = REPORTERS[n % len(REPORTERS)]
    rid, xml = report_xml(rng, n, org, mail, schema, domain, begin, nrec)
    base = "%s!%s!%d!%d" % (mail.split("@")[1], domain, begin, begin + 86399)
    msg = MIMEMultipart()
    msg["From"] = "%s <%s>" % (org, mail)
    msg["To"] = "dmarc-reports@%s" % domain
    msg["Subject"] = "Report Domain: %s Submitter: %s Report-ID: <%s>" % (
        domain, mail.split("@")[1], rid)
    msg["Date"] = email.utils.formatdate(begin + 90000)
    msg["Message-ID"] = "<%s.%d@%s>" % (rid, n, mail.split("@")[1])
    msg.attach(MIMEText("This is an aggregate report from %s.\n" % org))
    if container == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr(base + ".xml", xml)
        part = MIMEApplication(buf.getvalue(), "zip", Name=base + ".zip")
        part["Content-Disposition"] = 'attachment; filename="%s.zip"' % base
    elif container.startswith("gzip"):
        data = gzip.compress(xml, mtime=0)
        sub = "octet-stream" if container == "gzip-octet" else "gzip"
        part = MIMEApplication(data, sub, Name=base + ".xml.gz")
        part["Content-Disposition"] = 'attachment; filename="%s.xml.gz"' % base
    else:
        part = MIMEApplication(xml, "xml", Name=base + ".xml")
        part["Content-Disposition"] = 'attachment; filename="%s.xml"' % base
    msg.attach(part)
    return msg.as_bytes()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--records", type=int, default=0,
                    help="records per report (default: 1 to 20 at random)")
    ap.add_argument("--domain", default="example.com")
    ap.add_argument("outdir")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    os.makedirs(a.outdir, exist_ok=True)
    day0 = 1767225600  # 2026-01-01 UTC
    for n in range(a.count):
        nrec = a.records or rng.randint(1, 20)
        dom = a.domain if n % 3 else "example.org"
        begin = day0 + 86400 * (n // len(REPORTERS) % 30)
        with open(os.path.join(a.outdir, "%06d.eml" % n), "wb") as f:
            f.write(make_mail(rng, n, dom, nrec, begin))


if __name__ == "__main__":
    main()
