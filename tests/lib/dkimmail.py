#!/usr/bin/python3
# dkimmail.py: report mail for tests/server/dkim.test, signed at test time
# with Debian's python3-dkim (run it with /usr/bin/python3: a python from
# elsewhere does not see Debian's modules).
#
#   dkimmail.py OUT REPORT_ID [options]
#     --sign DOMAIN:SELECTOR:KEYFILE   sign (rsa-sha256, relaxed/simple)
#     --length                         with an l= tag
#     --append TEXT                    append TEXT to the body after signing
#     --tamper OLD=NEW                 replace OLD by NEW after signing
#     --ar VALUE                       an Authentication-Results field, on top
#     --from ADDR                      From (default the reporter's address)
#     --extra-from ADDR                a second From field, on top
#     --junk-sigs N                    N bogus DKIM-Signature fields of
#                                      junk.test (after signing)
#     --huge-h N                       one more bogus signature whose h=
#                                      lists N fields
#     --org ORG --email ADDR           the reporter the report names
#                                      (default google.com and
#                                      noreply-dmarc-support@google.com)
#     --count N                        the message count of the one record
#
# The report is a Google-style aggregate report for example.net, attached
# as text/xml in 7bit so that a tampered byte leaves it parseable.
import argparse
import sys

import dkim


def report(rid, org, email, count):
    return ("""<?xml version="1.0" encoding="UTF-8" ?>
<feedback>
  <report_metadata>
    <org_name>%s</org_name>
    <email>%s</email>
    <report_id>%s</report_id>
    <date_range><begin>1700006400</begin><end>1700092799</end></date_range>
  </report_metadata>
  <policy_published>
    <domain>example.net</domain><adkim>r</adkim><aspf>r</aspf>
    <p>reject</p><sp>reject</sp><pct>100</pct>
  </policy_published>
  <record>
    <row>
      <source_ip>192.0.2.25</source_ip><count>%d</count>
      <policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated>
    </row>
    <identifiers><header_from>example.net</header_from></identifiers>
    <auth_results>
      <dkim><domain>example.net</domain><result>pass</result><selector>s1</selector></dkim>
      <spf><domain>example.net</domain><result>pass</result></spf>
    </auth_results>
  </record>
</feedback>
""" % (org, email, rid, count)).replace("\n", "\r\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("rid")
    ap.add_argument("--sign")
    ap.add_argument("--length", action="store_true")
    ap.add_argument("--append")
    ap.add_argument("--tamper")
    ap.add_argument("--ar", action="append", default=[])
    ap.add_argument("--from", dest="frm")
    ap.add_argument("--extra-from")
    ap.add_argument("--junk-sigs", type=int, default=0)
    ap.add_argument("--huge-h", type=int, default=0)
    ap.add_argument("--org", default="google.com")
    ap.add_argument("--email", default="noreply-dmarc-support@google.com")
    ap.add_argument("--count", type=int, default=5)
    a = ap.parse_args()

    frm = a.frm or a.email
    name = "%s!example.net!1700006400!1700092799!%s.xml" % (a.org, a.rid)
    head = ("From: %s\r\nTo: dmarc@example.net\r\n"
            "Subject: Report domain: example.net Submitter: %s "
            "Report-ID: <%s>\r\n"
            "Date: Wed, 15 Nov 2023 12:00:00 +0000\r\n"
            "Message-ID: <%s@reports.test>\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
            % (frm, a.org, a.rid, a.rid))
    body = ("\r\n--b1\r\nContent-Type: text/plain\r\n\r\n"
            "This is an aggregate report from %s.\r\n"
            "--b1\r\nContent-Type: text/xml; name=\"%s\"\r\n"
            "Content-Disposition: attachment; filename=\"%s\"\r\n"
            "Content-Transfer-Encoding: 7bit\r\n\r\n%s"
            "--b1--\r\n" % (a.org, name, name,
                            report(a.rid, a.org, a.email, a.count)))
    msg = (head + body).encode()
    if a.sign:
        d, s, keyfile = a.sign.split(":", 2)
        key = open(keyfile, "rb").read()
        sig = dkim.sign(msg, s.encode(), d.encode(), key,
                        include_headers=[b"from", b"to", b"subject",
                                         b"date", b"message-id"],
                        length=a.length)
        msg = sig + msg
    if a.tamper:
        old, new = a.tamper.split("=", 1)
        if old.encode() not in msg:
            sys.exit("dkimmail.py: %r not in the message" % old)
        msg = msg.replace(old.encode(), new.encode(), 1)
    if a.append:
        msg += a.append.encode() + b"\r\n"
    top = b""
    # The oversized signature first, so that it counts against the cap.
    if a.huge_h:
        top += (b"DKIM-Signature: v=1; a=rsa-sha256; d=junk.test; s=huge;"
                b" h=" + b":".join(b"x-h%d" % i for i in range(a.huge_h)) +
                b"; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;"
                b" b=AAAA\r\n")
    for i in range(a.junk_sigs):
        top += (b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; "
                b"d=junk.test; s=j%d; h=from; "
                b"bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; "
                b"b=AAAA\r\n" % i)
    if a.extra_from:
        top += b"From: %s\r\n" % a.extra_from.encode()
    for ar in a.ar:
        top += b"Authentication-Results: %s\r\n" % ar.encode()
    msg = top + msg
    with open(a.out, "wb") as f:
        f.write(msg)


main()
