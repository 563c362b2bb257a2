#!/usr/bin/env python3
"""Hostile input for tests/server/hostile.test: every kind of mail an attacker (or
a broken reporter) may send, written as mails that go through `ingest` and
through IMAP alike.

  hostile.py [--short] [--canary FILE] [--xxe-url URL] OUTDIR

Writes OUTDIR/NN-name.eml and OUTDIR/MANIFEST.tsv, one line per mail:

  file  outcomes  what

outcomes is a comma-separated list of the ledger statuses the agent may
give it (stored, ignored, invalid, too_large); stored-warned: stored, with a
parse warning on the report that says what was wrong (the reason).  Also OUTDIR/good-NN.eml and
OUTDIR/goodimap-NN.eml: good report mails, each with a new report, to send
after each hostile one (through ingest, through IMAP).
--short makes the bombs smaller (CI under sanitizers); --canary names a
file whose contents must never reach the database (the XXE target);
--xxe-url is a URL whose server must never be asked.
"""
import argparse
import email.utils
import gzip
import io
import os
import struct
import zipfile
import zlib
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

SQL = "x'); DROP TABLE dmarc.report; --\"; SELECT pg_sleep(30); \\"
FIELDS = ["org_name", "email", "extra_contact_info", "report_id", "domain",
          "source_ip", "count", "disposition", "header_from",
          "envelope_from", "dkim_domain", "selector", "spf_domain",
          "reason_type", "comment"]
MB = 1 << 20


def report(n, over=None, doctype="", raw=None):
    """A small report; over maps a field to its raw (bytes) value."""
    v = {
        "org_name": b"Hostile Org", "email": b"dmarc@hostile.example",
        "extra_contact_info": b"https://hostile.example/dmarc",
        "report_id": b"hostile-%d" % n, "domain": b"example.com",
        "source_ip": b"192.0.2.%d" % (n % 250 + 1), "count": b"3",
        "disposition": b"none", "header_from": b"example.com",
        "envelope_from": b"example.com", "dkim_domain": b"example.com",
        "selector": b"s1", "spf_domain": b"example.com",
        "reason_type": b"other", "comment": b"fine",
    }
    v.update(over or {})
    v = {k.encode(): val for k, val in v.items()}
    begin = 1767225600 + 86400 * (n % 30)
    x = (b'<?xml version="1.0" encoding="UTF-8"?>\n' + doctype.encode() +
         b"<feedback><version>1.0</version><report_metadata>"
         b"<org_name>%(org_name)s</org_name><email>%(email)s</email>"
         b"<extra_contact_info>%(extra_contact_info)s</extra_contact_info>"
         b"<report_id>%(report_id)s</report_id>" % v +
         b"<date_range><begin>%d</begin><end>%d</end></date_range>"
         % (begin, begin + 86399) +
         b"</report_metadata><policy_published><domain>%(domain)s</domain>"
         b"<adkim>r</adkim><aspf>r</aspf><p>none</p><sp>none</sp>"
         b"<pct>100</pct></policy_published>"
         b"<record><row><source_ip>%(source_ip)s</source_ip>"
         b"<count>%(count)s</count><policy_evaluated>"
         b"<disposition>%(disposition)s</disposition><dkim>pass</dkim>"
         b"<spf>pass</spf><reason><type>%(reason_type)s</type>"
         b"<comment>%(comment)s</comment></reason></policy_evaluated></row>"
         b"<identifiers><header_from>%(header_from)s</header_from>"
         b"<envelope_from>%(envelope_from)s</envelope_from></identifiers>"
         b"<auth_results><dkim><domain>%(dkim_domain)s</domain>"
         b"<selector>%(selector)s</selector><result>pass</result></dkim>"
         b"<spf><domain>%(spf_domain)s</domain><scope>mfrom</scope>"
         b"<result>pass</result></spf></auth_results></record>" % v)
    if raw is not None:
        x += raw
    return x + b"</feedback>\n"


def mail(n, payload, ctype="application/gzip", name="report.xml.gz",
         headers=None, encode=True):
    msg = MIMEMultipart()
    msg["From"] = "Hostile <dmarc@hostile.example>"
    msg["To"] = "dmarc@example.com"
    msg["Subject"] = "Report Domain: example.com Submitter: hostile %d" % n
    msg["Date"] = email.utils.formatdate(1767225600 + 90000)
    msg["Message-ID"] = "<hostile-%d@hostile.example>" % n
    msg.attach(MIMEText("hostile test mail %d\n" % n))
    main, sub = ctype.split("/")
    part = MIMEApplication(payload, sub, Name=name)
    part.set_type(ctype)
    part["Content-Disposition"] = 'attachment; filename="%s"' % name
    msg.attach(part)
    out = msg.as_bytes()
    for h, val in (headers or {}).items():
        out = out.replace(b"\n" + h + b": ", b"\n" + h + b": " + val, 1)
    return out


def gz(data):
    return gzip.compress(data, mtime=0)


def deflate_repeat(chunk, times):
    """Raw deflate of chunk repeated times, without compressing it all:
    each full-flushed block stands alone, so its bytes can be repeated."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    end = zlib.compressobj(9, zlib.DEFLATED, -15).flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(times):
        crc = zlib.crc32(chunk, crc)
    return block * times + end, crc


def gzip_bomb(total_mb):
    body, crc = deflate_repeat(b"\0" * MB, total_mb)
    head = b"\x1f\x8b\x08\x00\0\0\0\0\x02\xff"
    return head + body + struct.pack("<II", crc, (total_mb * MB) & 0xffffffff)


def zip_one_huge(total_mb):
    """A zip with one member of total_mb MiB of zeros (zip64 sizes)."""
    body, crc = deflate_repeat(b"\0" * MB, total_mb)
    name = b"report.xml"
    usize = total_mb * MB
    extra = struct.pack("<HHQQ", 1, 16, usize, len(body))
    local = struct.pack("<IHHHHHIIIHH", 0x04034b50, 45, 0, 8, 0, 0x21, crc,
                        0xffffffff, 0xffffffff, len(name), len(extra))
    cextra = struct.pack("<HHQQQ", 1, 24, usize, len(body), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014b50, 45, 45, 0, 8, 0,
                          0x21, crc, 0xffffffff, 0xffffffff, len(name),
                          len(cextra), 0, 0, 0, 0, 0xffffffff)
    data = local + name + extra + body
    cd = central + name + cextra
    off = len(data)
    z64end = struct.pack("<IQHHIIQQQQ", 0x06064b50, 44, 45, 45, 0, 0, 1, 1,
                         len(cd), off)
    z64loc = struct.pack("<IIQI", 0x07064b50, 0, off + len(cd), 1)
    end = struct.pack("<IHHHHIIH", 0x06054b50, 0, 0, 0xffff, 0xffff,
                      0xffffffff, 0xffffffff, 0)
    return data + cd + z64end + z64loc + end


def zip_many(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for i in range(members):
            z.writestr("r%05d.xml" % i, b"<a/>")
    return buf.getvalue()


def nested(depth, inner):
    """depth levels of multipart/mixed around one report part."""
    b = [b"b%d" % i for i in range(depth)]
    head = (b"From: Hostile <dmarc@hostile.example>\nTo: dmarc@example.com\n"
            b"Subject: nested\nMessage-ID: <nested@hostile.example>\n"
            b"MIME-Version: 1.0\n")
    parts = [head]
    for i in range(depth):
        if i:
            parts.append(b"--%s\n" % b[i - 1])
        parts.append(b'Content-Type: multipart/mixed; boundary="%s"\n\n'
                     % b[i])
    parts.append(b"--%s\nContent-Type: application/gzip\n"
                 b"Content-Transfer-Encoding: base64\n\n" % b[-1])
    import base64
    parts.append(base64.encodebytes(gz(inner)))
    for i in reversed(range(depth)):
        parts.append(b"--%s--\n" % b[i])
    return b"".join(parts)


def cases(a):
    """(name, bytes, outcomes, what)"""
    bomb = 2048 if a.short else 4096
    n = 100
    canary = "file://" + os.path.abspath(a.canary) if a.canary else \
        "file:///etc/passwd"
    url = a.xxe_url or "http://127.0.0.1:9/x.dtd"
    dt = {
        "xxe-file": ('<!DOCTYPE feedback [<!ENTITY x SYSTEM "%s">]>' % canary,
                     {"org_name": b"&x;"}),
        "xxe-network": ('<!DOCTYPE feedback [<!ENTITY x SYSTEM "%s">]>' % url,
                        {"org_name": b"&x;"}),
        "xxe-external-dtd": ('<!DOCTYPE feedback SYSTEM "%s">' % url, {}),
        "parameter-entities": (
            '<!DOCTYPE feedback [<!ENTITY %% p SYSTEM "%s"> %%p;'
            '<!ENTITY %% q SYSTEM "%s"> %%q;]>' % (canary, url),
            {"org_name": b"pe"}),
        "billion-laughs": (
            '<!DOCTYPE feedback [<!ENTITY l0 "lol">' + "".join(
                '<!ENTITY l%d "%s">' % (i, ("&l%d;" % (i - 1)) * 10)
                for i in range(1, 10)) + "]>", {"org_name": b"&l9;"}),
        "quadratic-entity": (
            '<!DOCTYPE feedback [<!ENTITY a "%s">]>' % ("A" * 100000),
            {"comment": b"&a;" * 20000}),
    }
    for name, (doctype, over) in dt.items():
        n += 1
        yield (name, mail(n, gz(report(n, over, doctype))),
               "stored,invalid", "DTD: " + name)
    n += 1
    yield ("gzip-bomb", mail(n, gzip_bomb(bomb)), "invalid",
           "gzip of %d MiB of zeros" % bomb)
    n += 1
    yield ("zip-bomb-one-member", mail(n, zip_one_huge(bomb),
           "application/zip", "report.zip"), "invalid",
           "zip, one member of %d MiB of zeros" % bomb)
    n += 1
    yield ("zip-bomb-20000-members", mail(n, zip_many(20000),
           "application/zip", "report.zip"), "invalid",
           "zip of 20,000 members")
    n += 1
    yield ("mime-nesting-3000", nested(3000, report(n)), "invalid,ignored",
           "3,000 nested multiparts")
    n += 1
    yield ("header-line-8mb", mail(n, gz(report(n)), headers={
        b"Subject": b"A" * (8 * MB)}), "invalid,stored",
        "an 8 MB Subject line")
    for f in FIELDS:
        n += 1
        yield ("nul-in-" + f, mail(n, gz(report(n, {f: b"a\0b"}))),
               "invalid,stored", "NUL byte in <%s>" % f)
        n += 1
        yield ("bad-utf8-in-" + f, mail(n, gz(report(n, {
            f: b"a\xff\xfe\xc0\xafb"}))), "invalid,stored",
            "invalid UTF-8 in <%s>" % f)
    n += 1
    yield ("nul-in-headers", mail(n, gz(report(n)), headers={
        b"From": b"a\0b ", b"Subject": b"\0\0", b"Message-ID": b"x\0"}),
        "invalid,stored", "NUL bytes in From, Subject, Message-ID")
    n += 1
    yield ("bad-utf8-in-headers", mail(n, gz(report(n)), headers={
        b"From": b"\xff\xfe ", b"Subject": b"\xc0\xaf\xed\xa0\x80",
        b"Message-ID": b"\xff"}), "invalid,stored",
        "invalid UTF-8 in From, Subject, Message-ID")
    n += 1
    yield ("count-over-2^64", mail(n, gz(report(n, {
        "count": b"18446744073709551616"}))), "invalid,stored-warned",
        "a count that overflows 64 bits")
    n += 1
    yield ("count-negative", mail(n, gz(report(n, {"count": b"-5"}))),
           "invalid,stored-warned", "a negative count")
    for f in FIELDS:
        if f in ("count", "source_ip"):
            continue
        n += 1
        yield ("sql-in-" + f, mail(n, gz(report(n, {
            f: SQL.replace("&", "&amp;").replace("<", "&lt;").encode()}))),
            "stored,invalid", "SQL in <%s>" % f)
    n += 1
    yield ("truncated-gzip", mail(n, gz(report(n))[:-40]), "invalid",
           "a truncated gzip")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--canary")
    ap.add_argument("--xxe-url")
    ap.add_argument("outdir")
    a = ap.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    man = []
    for i, (name, data, outs, what) in enumerate(cases(a), 1):
        fn = "%02d-%s.eml" % (i, name)
        with open(os.path.join(a.outdir, fn), "wb") as f:
            f.write(data)
        man.append("%s\t%s\t%s\n" % (fn, outs, what))
        for pre, base in (("good", 1000), ("goodimap", 2000)):
            with open(os.path.join(a.outdir, "%s-%02d.eml" % (pre, i)),
                      "wb") as f:
                f.write(mail(base + i, gz(report(base + i))))
    with open(os.path.join(a.outdir, "MANIFEST.tsv"), "w") as f:
        f.writelines(man)


if __name__ == "__main__":
    main()
