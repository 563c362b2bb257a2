#!/usr/bin/env python3
"""Make one mail holding a big DMARC aggregate report, for bench/run.sh.

  mkbig.py RECORDS OUTDIR

Streams the XML through gzip (never whole in memory) and writes
OUTDIR/big.xml (the XML, for the xmllint floor), OUTDIR/big.eml (the mail:
the gzip'd report as a base64 attachment, CRLF line ends) and
OUTDIR/record.csv, OUTDIR/dkim.csv, OUTDIR/spf.csv (the same rows for the
psql \\copy floor; report_pk and record ids are filled in by run.sh).
Each record has one DKIM and one SPF result; addresses come from the
documentation ranges (RFC 5737, RFC 3849).
"""
import base64
import gzip
import os
import sys

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<feedback>
  <report_metadata>
    <org_name>bench.invalid</org_name>
    <email>noreply@bench.invalid</email>
    <report_id>bench-big-%d</report_id>
    <date_range><begin>1700000000</begin><end>1700086399</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.com</domain><adkim>r</adkim><aspf>r</aspf>
    <p>none</p><sp>none</sp><pct>100</pct>
  </policy_published>
"""
REC = """  <record>
    <row><source_ip>%s</source_ip><count>%d</count>
      <policy_evaluated><disposition>none</disposition><dkim>%s</dkim><spf>%s</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.com</header_from></identifiers>
    <auth_results>
      <dkim><domain>example.com</domain><selector>s%d</selector><result>%s</result></dkim>
      <spf><domain>example.com</domain><result>%s</result></spf>
    </auth_results>
  </record>
"""


def ip(i):
    if i % 5 == 4:
        return "2001:db8::%x:%x" % (i >> 16, i & 0xffff)
    nets = ("192.0.2", "198.51.100", "203.0.113")
    return "%s.%d" % (nets[i % 3], i % 256)


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: mkbig.py RECORDS OUTDIR")
    n, out = int(sys.argv[1]), sys.argv[2]
    os.makedirs(out, exist_ok=True)
    gzpath = os.path.join(out, "big.xml.gz")
    with open(os.path.join(out, "big.xml"), "w") as x, \
            gzip.open(gzpath, "wt", compresslevel=6) as z, \
            open(os.path.join(out, "record.csv"), "w") as rc, \
            open(os.path.join(out, "dkim.csv"), "w") as dc, \
            open(os.path.join(out, "spf.csv"), "w") as sc:
        head = HEAD % n
        x.write(head)
        z.write(head)
        for i in range(n):
            a, res = ip(i), ("pass" if i % 7 else "fail")
            cnt = 1 + i % 13
            chunk = REC % (a, cnt, res, res, i % 4, res, res)
            x.write(chunk)
            z.write(chunk)
            rc.write("%d,%s,%d,none,%s,%s,example.com\n" % (i + 1, a, cnt,
                                                         res, res))
            dc.write("%d,1,example.com,s%d,%s\n" % (i + 1, i % 4, res))
            sc.write("%d,1,example.com,%s\n" % (i + 1, res))
        x.write("</feedback>\n")
        z.write("</feedback>\n")
    with open(os.path.join(out, "big.eml"), "wb") as m, \
            open(gzpath, "rb") as g:
        m.write(b"From: noreply@bench.invalid\r\nTo: dmarc@example.com\r\n"
                b"Subject: Report Domain: example.com Submitter:"
                b" bench.invalid Report-ID: <bench-big>\r\n"
                b"Message-ID: <bench-big@bench.invalid>\r\n"
                b"Date: Wed, 15 Nov 2023 00:00:00 +0000\r\n"
                b"MIME-Version: 1.0\r\n"
                b"Content-Type: application/gzip;"
                b" name=\"bench.invalid!example.com!1700000000!1700086399.xml.gz\"\r\n"
                b"Content-Disposition: attachment;"
                b" filename=\"bench.invalid!example.com!1700000000!1700086399.xml.gz\"\r\n"
                b"Content-Transfer-Encoding: base64\r\n\r\n")
        while True:
            blk = g.read(57 * 1024)
            if not blk:
                break
            enc = base64.b64encode(blk)
            for k in range(0, len(enc), 76):
                m.write(enc[k:k + 76] + b"\r\n")
    os.unlink(gzpath)


if __name__ == "__main__":
    main()
