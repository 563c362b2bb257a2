#!/usr/bin/env python3
"""Make N report mails with unique report IDs from the corpus's real
aggregate reports, for bench/run.sh.

  mkcorpus.py [--ar AUTHSERV-ID] CORPUS N OUTDIR

Takes every aggregate report of CORPUS/CATALOG.tsv that is a mail (eml) or
a bare xml, gz or zip file and whose XML has a <report_id>.  For mail
number i (0 .. N-1, cycling through the templates) the report_id text
becomes "bench-<i>" (decompressed, replaced, compressed again the same
way: gzip or zip with the member's own compression) and the Message-ID
"<bench-<i>@bench.invalid>"; a mail is rebuilt with Python's email
package, and a bare file is wrapped into a mail as an attachment.  Writes
OUTDIR/<i>.eml (CRLF line ends, as on the wire) and prints the number of
templates and of records per cycle on stderr.

With --ar, each mail gets on top an Authentication-Results field of that
authserv-id saying that DKIM passed for the domain of the report's
<email>, as a receiving server trusted by the agent would write it
(verification.trusted_authserv_ids): its reports are then "verified", as
most of a real mailbox's are (the big reporters sign their mail).
"""
import csv
import email
import email.utils
import email.encoders
import email.policy
import gzip
import io
import os
import re
import sys
import zipfile
import zlib
from email.mime.application import MIMEApplication
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

RID = re.compile(rb"(<(?:[\w.-]+:)?report_id\s*>)(.*?)(</(?:[\w.-]+:)?report_id\s*>)",
                 re.S)
REC = re.compile(rb"<(?:[\w.-]+:)?record[\s>]")


def xml_sub(data, rid):
    """The XML with its first report_id replaced, or None."""
    new, n = RID.subn(lambda m: m.group(1) + rid + m.group(3), data, count=1)
    return new if n else None


def payload_sub(data, rid):
    """Rewrite a payload (xml, gzip or zip); None when it has no report."""
    if data[:2] == b"\x1f\x8b":
        try:
            inner = gzip.decompress(data)
        except (OSError, EOFError, ValueError, zlib.error):
            return None
        new = xml_sub(inner, rid)
        return gzip.compress(new, mtime=0) if new is not None else None
    if data[:2] == b"PK":
        try:
            zin = zipfile.ZipFile(io.BytesIO(data))
            out = io.BytesIO()
            found = False
            with zipfile.ZipFile(out, "w") as zout:
                for info in zin.infolist():
                    body = zin.read(info)
                    new = xml_sub(body, rid)
                    if new is not None:
                        found = True
                        body = new
                    zout.writestr(info, body, compress_type=info.compress_type)
        except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError,
                ValueError, zlib.error):
            return None
        return out.getvalue() if found else None
    return xml_sub(data, rid)


EMAIL = re.compile(rb"<(?:[\w.-]+:)?email\s*>\s*(?:mailto:)?[^<@]*@([^<\s]+)\s*<")


def payload_xml(data):
    """A payload's XML (decompressed; the members of a zip joined)."""
    try:
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:2] == b"PK":
            z = zipfile.ZipFile(io.BytesIO(data))
            return b"".join(z.read(i) for i in z.infolist())
    except Exception:
        return b""
    return data


def org_domain(raw):
    """The domain of the first report <email> in a mail, or None."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    for part in msg.walk():
        if part.is_multipart():
            continue
        m = EMAIL.search(payload_xml(part.get_payload(decode=True) or b""))
        if m:
            return m.group(1).decode("ascii", "replace").rstrip(">").lower()
    return None


def count_records(data):
    """Records in a payload (for the records/s figure)."""
    try:
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data[:2] == b"PK":
            z = zipfile.ZipFile(io.BytesIO(data))
            data = b"".join(z.read(i) for i in z.infolist())
    except Exception:
        return 0
    return len(REC.findall(data))


def mail_sub(raw, rid, msgid):
    """A mail with every report payload rewritten, or None."""
    msg = email.message_from_bytes(raw, policy=email.policy.compat32)
    done = False
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if not data:
            continue
        new = payload_sub(data, rid)
        if new is None:
            continue
        del part["Content-Transfer-Encoding"]
        part.set_payload(new)
        email.encoders.encode_base64(part)
        done = True
    if not done:
        return None
    del msg["Message-ID"]
    msg["Message-ID"] = msgid
    return msg.as_bytes()


def wrap(name, data, rid, msgid):
    """A bare report file as a mail with it attached."""
    new = payload_sub(data, rid)
    if new is None:
        return None
    msg = MIMEMultipart()
    msg["From"] = "dmarc-reports@bench.invalid"
    msg["To"] = "dmarc@example.com"
    msg["Subject"] = "Report Domain: example.com Submitter: bench" \
        " Report-ID: <%s>" % rid.decode()
    msg["Message-ID"] = msgid
    msg["Date"] = email.utils.formatdate(1700000000)
    msg.attach(MIMEText("A DMARC aggregate report.\n"))
    base = os.path.basename(name)
    if new[:2] == b"\x1f\x8b":
        att = MIMEApplication(new, "gzip")
    elif new[:2] == b"PK":
        att = MIMEApplication(new, "zip")
    else:
        att = MIMEApplication(new, "xml")
    att.add_header("Content-Disposition", "attachment", filename=base)
    msg.attach(att)
    return msg.as_bytes()


def templates(corpus):
    out = []
    with open(os.path.join(corpus, "CATALOG.tsv"), newline="") as f:
        for row in csv.DictReader(f, delimiter="\t"):
            if row["kind"] != "aggregate" or \
                    row["format"] not in ("eml", "xml", "gz", "zip"):
                continue
            path = os.path.join(corpus, row["path"])
            with open(path, "rb") as g:
                data = g.read()
            probe = b"bench-probe"
            if row["format"] == "eml":
                if mail_sub(data, probe, "<p@bench.invalid>") is None:
                    continue
                msg = email.message_from_bytes(data,
                                               policy=email.policy.compat32)
                nrec = sum(count_records(p.get_payload(decode=True) or b"")
                           for p in msg.walk() if not p.is_multipart())
            else:
                if payload_sub(data, probe) is None:
                    continue
                nrec = count_records(data)
            out.append((row["format"], path, data, nrec))
    return out


def main():
    args = sys.argv[1:]
    ar = None
    if len(args) == 5 and args[0] == "--ar":
        ar, args = args[1], args[2:]
    if len(args) != 3:
        sys.exit("usage: mkcorpus.py [--ar AUTHSERV-ID] CORPUS N OUTDIR")
    corpus, n, outdir = args[0], int(args[1]), args[2]
    tpl = templates(corpus)
    if not tpl:
        sys.exit("mkcorpus.py: no usable aggregate report in %s" % corpus)
    os.makedirs(outdir, exist_ok=True)
    records = 0
    for i in range(n):
        fmt, path, data, nrec = tpl[i % len(tpl)]
        rid = ("bench-%d" % i).encode()
        msgid = "<bench-%d@bench.invalid>" % i
        if fmt == "eml":
            mail = mail_sub(data, rid, msgid)
        else:
            mail = wrap(path, data, rid, msgid)
        if ar is not None and mail is not None:
            dom = org_domain(mail)
            if dom:
                mail = (b"Authentication-Results: %s; dkim=pass"
                        b" header.d=%s\r\n" % (ar.encode(), dom.encode())
                        + mail)
        mail = re.sub(rb"\r?\n", b"\r\n", mail)
        with open(os.path.join(outdir, "%06d.eml" % i), "wb") as f:
            f.write(mail)
        records += nrec
    print("%d templates, %d records in %d mails" % (len(tpl), records, n),
          file=sys.stderr)
    print(records)


if __name__ == "__main__":
    main()
