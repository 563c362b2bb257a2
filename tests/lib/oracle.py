#!/usr/bin/env python3
"""A second opinion for the end-to-end tests.

Reads report mails with Python's own email, zlib, zipfile and ElementTree
modules (nothing of dmarc-agent's code) and prints, sorted, the rows the
database must hold afterwards, in the format of tests/lib/dump.sql:

  report  reporter_key report_id policy_domain begin end records messages
  record  reporter_key report_id n source_ip count disposition dkim spf header_from envelope_from
  dkim    reporter_key report_id n m domain selector result
  spf     reporter_key report_id n m domain scope result
  bump    reporter_key report_id      (a duplicate that raises seen_count)

Mails are taken in the order given, as they are delivered; a report seen
again (same reporter_key, report_id, policy_domain, date_begin) counts as a
duplicate, as the agent's natural key says.  The last line gives the
expected message outcomes.
"""
import email
import hashlib
import email.policy
import io
import ipaddress
import re
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib

N = "\\N"
DISPOSITION = {"none", "quarantine", "reject", "pass"}
ALIGNED = {"pass", "fail"}
DKIM = {"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"}
SPF = {"none", "neutral", "pass", "fail", "softfail", "policy", "temperror",
       "permerror"}
SCOPE = {"mfrom", "helo"}


def local(tag):
    return tag.rsplit("}", 1)[-1].lower()


def child(el, name):
    if el is None:
        return None
    for c in el:
        if local(c.tag) == name:
            return c
    return None


def children(el, name):
    return [c for c in el if local(c.tag) == name] if el is not None else []


def text(el, name=None):
    if name is not None:
        el = child(el, name)
    if el is None:
        return None
    return (el.text or "").strip()


def enum(value, allowed):
    if value is None:
        return N
    v = value.strip().lower()
    return v if v in allowed else N


def domain(value):
    if value is None:
        return N
    v = value.strip().lower()
    return v[:-1] if v.endswith(".") else v


def inflate(data):
    out = []
    while data[:2] == b"\x1f\x8b" or (data[:1] == b"\x78" and not out):
        d = zlib.decompressobj(47)
        out.append(d.decompress(data))
        data = d.unused_data
        if not d.eof or not data:
            break
    return b"".join(out)


class Unusable(Exception):
    """A part that looks like a report but is not one: the mail is invalid."""


def payloads(data, inner=False):
    """Yield XML documents found in raw bytes (gzip, zlib, zip, plain).

    Inside a container, content that is neither XML nor JSON is unusable.
    """
    s = data.lstrip()
    if data[:2] == b"\x1f\x8b" or data[:1] == b"\x78":
        yield from payloads(inflate(data), True)
    elif data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for info in z.infolist():
                name = info.filename
                if info.is_dir() or name.startswith("__MACOSX/") or \
                        name.rsplit("/", 1)[-1].startswith(".") or \
                        info.file_size == 0:
                    continue
                yield from payloads(z.read(info), True)
    elif s[:1] == b"<" or s[:3] == b"\xef\xbb\xbf":
        yield data
    elif s[:1] == b"{":
        pass        # an SMTP TLS report: not an aggregate report
    elif inner:
        raise Unusable("container holds neither XML nor JSON")


REPORT_TYPES = {"application/zip", "application/gzip", "application/x-gzip",
                "application/x-zip-compressed", "text/xml",
                "application/xml"}


def mail_payloads(raw):
    if raw.lstrip()[:1] in (b"<",) or raw[:2] == b"\x1f\x8b" or \
            raw[:4] == b"PK\x03\x04":
        yield from payloads(raw)
        return
    msg = email.message_from_bytes(raw.lstrip(), policy=email.policy.compat32)
    for part in msg.walk():
        if part.is_multipart() or part.get_content_type() == "text/html":
            continue
        body = part.get_payload(decode=True)
        if not body:
            continue
        if part.get_content_type() == "text/plain" and \
                not body.lstrip().startswith(b"<") and not part.get_filename():
            continue
        name = (part.get_filename() or "").lower()
        labelled = part.get_content_type() in REPORT_TYPES or \
            name.endswith((".zip", ".gz", ".xml"))
        yield from payloads(body, labelled)


def message_id(raw):
    if raw.lstrip()[:1] in (b"<", b"{") or raw[:2] == b"\x1f\x8b" or \
            raw[:4] == b"PK\x03\x04":
        return None
    msg = email.message_from_bytes(raw.lstrip(), policy=email.policy.compat32)
    v = msg.get("Message-ID")
    return str(v).strip().strip("<>").strip() if v else None


def epoch(value):
    return int(value.split(".")[0])


def parse(xml, out, seen, ident):
    root = ET.fromstring(xml)
    fb = root if local(root.tag) == "feedback" else \
        next((e for e in root.iter() if local(e.tag) == "feedback"), None)
    if fb is None:
        return None
    meta = child(fb, "report_metadata")
    pol = child(fb, "policy_published")
    org = text(meta, "org_name") or ""
    mail = text(meta, "email") or ""
    rkey = org.lower() if org else (mail.rsplit("@", 1)[-1].lower() if "@" in mail else "")
    rid = text(meta, "report_id")
    dr = child(meta, "date_range")
    begin, end = epoch(text(dr, "begin")), epoch(text(dr, "end"))
    pdom = domain(text(pol, "domain"))
    if pdom in (N, "") or not rid or dr is None:
        # The agent's natural key needs these: such a report is invalid.
        raise ValueError("no policy domain, report_id or date_range")
    key = (rkey, rid, pdom, begin)
    if key in seen:
        # seen_count grows when no earlier delivery came in the same message
        # (same SHA-256, or the same non-empty Message-ID).
        msgid, sha = ident
        same = any(s2 == sha or (m2 and m2 == msgid) for m2, s2 in seen[key])
        seen[key].append(ident)
        if not same:
            out.append("bump\t%s\t%s" % (rkey, rid))
        return "duplicate"
    seen[key] = [ident]
    total = 0
    records = children(fb, "record")
    for n, rec in enumerate(records, 1):
        row = child(rec, "row")
        pe = child(row, "policy_evaluated")
        ids = child(rec, "identifiers") or child(rec, "identities")
        ip = text(row, "source_ip")
        ip = str(ipaddress.ip_address(ip.strip("[]"))) if ip else N
        count = int(text(row, "count"))
        total += count
        ef = text(ids, "envelope_from")
        out.append("\t".join(map(str, [
            "record", rkey, rid, n, ip, count,
            enum(text(pe, "disposition"), DISPOSITION),
            enum(text(pe, "dkim"), ALIGNED), enum(text(pe, "spf"), ALIGNED),
            domain(text(ids, "header_from")),
            N if ef is None else domain(ef)])))
        ar = child(rec, "auth_results")
        for m, d in enumerate(children(ar, "dkim"), 1):
            sel = text(d, "selector")
            out.append("\t".join(map(str, [
                "dkim", rkey, rid, n, m, domain(text(d, "domain")),
                N if sel is None else sel,
                enum(text(d, "result"), DKIM)])))
        for m, s in enumerate(children(ar, "spf"), 1):
            out.append("\t".join(map(str, [
                "spf", rkey, rid, n, m, domain(text(s, "domain")),
                enum(text(s, "scope"), SCOPE),
                enum(text(s, "result"), SPF)])))
    out.append("\t".join(map(str, [
        "report", rkey, rid, pdom, begin, end, len(records), total])))
    return "stored"


def main():
    out, seen = [], {}
    counts = {"stored": 0, "duplicate": 0, "invalid": 0, "ignored": 0}
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            raw = f.read()
        outcome = "ignored"     # no DMARC report in it
        ident = (message_id(raw), hashlib.sha256(raw).hexdigest())
        try:
            for xml in mail_payloads(raw):
                r = parse(xml, out, seen, ident)
                if r == "stored" or (r == "duplicate" and outcome != "stored"):
                    outcome = r
        except Exception as e:  # the agent must call these invalid too
            print("oracle: %s: %s" % (path, e), file=sys.stderr)
            outcome = "invalid"
        counts[outcome] += 1
    for line in sorted(out):
        print(line)
    line = "%d fetched, %d stored, %d duplicate, %d invalid" % (
        len(sys.argv) - 1, counts["stored"], counts["duplicate"],
        counts["invalid"])
    if counts["ignored"]:
        line += ", %d ignored" % counts["ignored"]
    print("outcome\t" + line)


if __name__ == "__main__":
    main()
