#!/usr/bin/env python3
r"""A second opinion for the end-to-end tests.

Reads report mails with Python's own email, zlib, zipfile, ElementTree and
expat modules (nothing of dmarc-agent's code) and prints, sorted, the rows
the database must hold afterwards, in the format of tests/lib/dump.sql:

  report  reporter_key report_id policy_domain begin end records messages
  meta    reporter_key report_id org_name email extra_contact_info
          extra_contact_info_lang
  policy  reporter_key report_id p p_raw sp sp_raw np np_raw adkim adkim_raw
          aspf aspf_raw pct pct_raw fo testing testing_raw
          discovery_method discovery_method_raw
  error   reporter_key report_id m message lang
  rep_ext reporter_key report_id m ns_uri local_name xml
  record  reporter_key report_id n source_ip count disposition dkim spf
          header_from envelope_from envelope_to
  reason  reporter_key report_id n m type type_raw comment comment_lang
  dkim    reporter_key report_id n m domain selector result
  spf     reporter_key report_id n m domain scope result
  rec_ext reporter_key report_id n m ns_uri local_name xml
  bump    reporter_key report_id      (a duplicate that raises seen_count)

One row a line, fields separated by tabs; NULL is \N, and in a value a
backslash, tab, line feed or carriage return is written \\, \t, \n, \r
(as in PostgreSQL's COPY text format), so that a multi-line value (an
extension's XML) stays on its line.  n is the record's position in the
report, m the position of the row among its siblings (the record's
reasons, the report's errors ...), all from 1.

What meta, policy, error, reason, rep_ext, rec_ext and envelope_to hold,
by the meaning the schema gives the columns (sink/migrations/
001_initial.sql, report/report.h, standards.md 3.3).  "The text" of an
element is all its text, CDATA included (XPath's string-value); trimmed
means of XML white space (space, tab, CR, LF); absent is NULL, present
but empty "".
  meta    report_metadata's org_name, email: the text, trimmed, case kept;
          extra_contact_info the same, and its lang attribute
          (langAttrString's unqualified lang, else xml:lang), trimmed.
  policy  policy_published's enumerations p sp np (none quarantine
          reject), adkim aspf (r s), testing (y n), discovery_method (psl
          treewalk): the word, trimmed and lower-cased (ASCII letters), or
          NULL when that is not one of the words; *_raw the text as sent
          when it is not exactly the word, else NULL.  pct: a plain
          integer 0..100 once trimmed, else NULL with pct_raw the text as
          sent.  fo: the text, trimmed.
  error   report_metadata's <error> elements, in order: the text, trimmed,
          and its lang.
  reason  policy_evaluated's <reason> elements, in order: type (forwarded
          sampled_out trusted_forwarder mailing_list local_policy other
          policy_test_mode) and type_raw by the enumeration rule above;
          comment trimmed, and its lang.
  record  envelope_to: a domain: trimmed, lower-cased (ASCII), one
          trailing dot dropped.
  rep_ext, rec_ext: what the agent keeps "so that nothing is lost": the
          children of an <extension> (the <extension> itself when it has no
          child element), elements the format does not define, and a
          repeat of an element that appears once (the first counts; a
          repeated report_metadata or policy_published is kept whole), at
          report level (feedback, report_metadata, date_range,
          policy_published) or in a record (record, row, policy_evaluated,
          reason, identifiers, auth_results, dkim, spf), in document order.
          Each with its namespace URI, local name, and its XML as libxml2
          writes one element (serialise).
Element names are matched by local name, in any case, as the agent
documents (report/xml.c; standards.md 3.3: "match by local name").

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
from xml.parsers import expat
import zipfile
import zlib

N = None        # printed \N
DISPOSITION = {"none", "quarantine", "reject", "pass"}
ALIGNED = {"pass", "fail"}
DKIM = {"none", "pass", "fail", "policy", "neutral", "temperror", "permerror"}
SPF = {"none", "neutral", "pass", "fail", "softfail", "policy", "temperror",
       "permerror"}
SCOPE = {"mfrom", "helo"}
POLICY = ("none", "quarantine", "reject")
ALIGNMENT = ("r", "s")
TESTING = ("y", "n")
DISCOVERY = ("psl", "treewalk")
# RFC 7489's override types, and RFC 9990's policy_test_mode.
REASON = ("forwarded", "sampled_out", "trusted_forwarder", "mailing_list",
          "local_policy", "other", "policy_test_mode")
XML_NS = "http://www.w3.org/XML/1998/namespace"


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


def tsv(*fields):
    r"""One output line: tab-separated, NULL as \N, COPY-style escapes."""
    return "\t".join("\\N" if f is None else str(f).replace("\\", "\\\\")
                     .replace("\t", "\\t").replace("\n", "\\n")
                     .replace("\r", "\\r") for f in fields)


# The fields beyond the natural key, read from a tree of their own: expat
# keeps what ElementTree drops and an extension's XML needs (prefixes,
# namespace declarations, comments).

WS = " \t\n\r\f\v"      # XML white space is " \t\n\r"; \f \v cannot occur
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                            "abcdefghijklmnopqrstuvwxyz")


def lower(s):
    """Case folding of ASCII letters only: the enumerations' words and
    DNS names (RFC 4343) are ASCII; other letters are kept as sent."""
    return s.translate(ASCII_LOWER)


class Node:
    """An element: namespace URI (None: none), local name, prefix as
    written (None: none), its namespace declarations [(prefix, uri)] and
    attributes [(uri, local, prefix, value)] in document order, and its
    content: Nodes and ("text", s), ("comment", s), ("pi", target, data)."""
    __slots__ = ("uri", "local", "prefix", "decls", "attrs", "content")

    def __init__(self, name, decls, attrs):
        self.uri, self.local, self.prefix = split_name(name)
        self.decls = decls
        self.attrs = [split_name(attrs[i]) + (attrs[i + 1],)
                      for i in range(0, len(attrs), 2)]
        self.content = []


def split_name(name):
    """expat's "uri local prefix" (namespace_prefixes) into a triple."""
    parts = name.split(" ")
    return tuple(parts + [None] * (3 - len(parts))) if len(parts) > 1 \
        else (None, name, None)


def tree(xml):
    """The document element and the encoding the XML declaration names."""
    p = expat.ParserCreate(namespace_separator=" ")
    p.namespace_prefixes = True
    p.ordered_attributes = True
    p.buffer_text = True
    stack, decls, doc = [], [], {"root": None, "encoding": None}

    def add(item):
        if not stack:
            return              # outside the document element
        c = stack[-1].content
        if item[0] == "text" and c and isinstance(c[-1], tuple) and \
                c[-1][0] == "text":
            c[-1] = ("text", c[-1][1] + item[1])
        else:
            c.append(item)

    def start(name, attrs):
        n = Node(name, decls[:], attrs)
        decls.clear()
        if stack:
            stack[-1].content.append(n)
        elif doc["root"] is None:
            doc["root"] = n
        stack.append(n)

    def decl(version, encoding, standalone):
        doc["encoding"] = encoding

    p.XmlDeclHandler = decl
    p.StartNamespaceDeclHandler = \
        lambda prefix, uri: decls.append((prefix, uri or ""))
    p.StartElementHandler = start
    p.EndElementHandler = lambda name: stack.pop()
    p.CharacterDataHandler = lambda data: add(("text", data))
    p.CommentHandler = lambda data: add(("comment", data))
    p.ProcessingInstructionHandler = \
        lambda target, data: add(("pi", target, data))
    p.Parse(xml, True)
    return doc["root"], doc["encoding"]


def elements(n):
    return [c for c in n.content if isinstance(c, Node)]


def name_of(n):
    return lower(n.local)


def string(n):
    """The text of an element and its descendants (XPath's string-value;
    comments and processing instructions are not text)."""
    return "".join(string(c) if isinstance(c, Node) else
                   c[1] if c[0] == "text" else "" for c in n.content)


def trim(s):
    return s.strip(WS)


def lang(n):
    """The lang attribute of RFC 9990's langAttrString (unqualified; also
    xml:lang, standards.md 3.3), trimmed, or None."""
    for want in (None, XML_NS):
        for uri, name, prefix, value in n.attrs:
            if uri == want and name == "lang":
                return trim(value)
    return None


def enum_raw(s, words):
    """(canonical word or None, the text as sent when not exactly it)."""
    w = lower(trim(s))
    if w in words:
        return w, (None if w == s else s)
    return None, s


def pct_raw(s):
    """pct: (0..100 or None, the text as sent when not a plain integer in
    that range)."""
    t = trim(s)
    if re.fullmatch("[0-9]+", t) and int(t) <= 100:
        return int(t), None
    return None, s


def dns(s):
    d = lower(trim(s))
    return d[:-1] if d.endswith(".") else d


# How each known leaf element is read, per parent.  Where the value is
# compared by the rows ElementTree gives (record, dkim, spf), only the
# names matter here: which elements are known, so that the others (and
# repeats) are extensions.
F_TEXT = lambda n: trim(string(n))
F_DOMAIN = lambda n: dns(string(n))
F_LANG = lambda n: (trim(string(n)), lang(n))


def f_enum(words):
    return lambda n: enum_raw(string(n), words)


METADATA = {"org_name": F_TEXT, "email": F_TEXT, "extra_contact_info": F_LANG,
            "report_id": F_TEXT, "generator": F_TEXT}
DATE_RANGE = {"begin": F_TEXT, "end": F_TEXT}
POLICY_PUBLISHED = {
    "domain": F_DOMAIN, "adkim": f_enum(ALIGNMENT), "aspf": f_enum(ALIGNMENT),
    "p": f_enum(POLICY), "sp": f_enum(POLICY), "np": f_enum(POLICY),
    "pct": lambda n: pct_raw(string(n)), "fo": F_TEXT,
    "testing": f_enum(TESTING), "discovery_method": f_enum(DISCOVERY)}
ROW = {"source_ip": F_TEXT, "count": F_TEXT}
EVALUATED = {"disposition": F_TEXT, "dkim": F_TEXT, "spf": F_TEXT}
REASON_FIELDS = {"type": f_enum(REASON), "comment": F_LANG}
IDENTIFIERS = {"header_from": F_DOMAIN, "envelope_from": F_DOMAIN,
               "envelope_to": F_DOMAIN}
DKIM_FIELDS = {"domain": F_TEXT, "selector": F_TEXT, "result": F_TEXT,
               "human_result": F_LANG}
SPF_FIELDS = {"domain": F_TEXT, "scope": F_TEXT, "result": F_TEXT,
              "human_result": F_LANG}


def leaf(c, table, into, ext):
    """A known leaf c into the dict: the first of its name counts, a
    repeat is kept as an extension."""
    name = name_of(c)
    if name in into:
        ext.append(c)
    else:
        into[name] = table[name](c)


def leaves(n, table, into, ext):
    """Every child of n: a known leaf (leaf), or an extension."""
    for c in elements(n):
        if name_of(c) in table:
            leaf(c, table, into, ext)
        else:
            ext.append(c)


def extension(n, ext):
    """An <extension>: its child elements, or itself when it has none."""
    ext.extend(elements(n) or [n])


def walk(fb):
    """The report as the schema stores it: metadata, policy, errors,
    report-level extensions, and the records (walk_record).  A container
    that can appear once (report_metadata, policy_published, version) is
    read the first time, and kept whole as an extension when repeated;
    the leaves of a repeated date_range, row, policy_evaluated,
    identifiers or auth_results join those of the first."""
    rep = {"meta": {}, "policy": {}, "errors": [], "ext": [], "records": []}
    once, dates = set(), {}
    for c in elements(fb):
        name = name_of(c)
        if name == "record":
            rep["records"].append(walk_record(c))
        elif name in ("report_metadata", "policy_published", "version") \
                and name in once:
            rep["ext"].append(c)
        elif name == "report_metadata":
            once.add(name)
            for m in elements(c):
                mname = name_of(m)
                if mname in METADATA:
                    leaf(m, METADATA, rep["meta"], rep["ext"])
                elif mname == "date_range":
                    leaves(m, DATE_RANGE, dates, rep["ext"])
                elif mname == "error":
                    rep["errors"].append((trim(string(m)), lang(m)))
                else:
                    rep["ext"].append(m)
        elif name == "policy_published":
            once.add(name)
            leaves(c, POLICY_PUBLISHED, rep["policy"], rep["ext"])
        elif name == "version":
            once.add(name)
        elif name == "extension":
            extension(c, rep["ext"])
        else:
            rep["ext"].append(c)
    return rep


def walk_record(n):
    """One record: its row fields, identifiers (also as <identities>,
    standards.md Q16), reasons (one dict each) and extensions."""
    rec = {"row": {}, "evaluated": {}, "ids": {}, "reasons": [], "ext": []}
    ext = rec["ext"]
    for c in elements(n):
        name = name_of(c)
        if name == "row":
            for r in elements(c):
                if name_of(r) in ROW:
                    leaf(r, ROW, rec["row"], ext)
                elif name_of(r) == "policy_evaluated":
                    walk_evaluated(r, rec)
                else:
                    ext.append(r)
        elif name in ("identifiers", "identities"):
            leaves(c, IDENTIFIERS, rec["ids"], ext)
        elif name == "auth_results":
            for a in elements(c):
                if name_of(a) == "dkim":
                    leaves(a, DKIM_FIELDS, {}, ext)
                elif name_of(a) == "spf":
                    leaves(a, SPF_FIELDS, {}, ext)
                else:
                    ext.append(a)
        elif name == "extension":
            extension(c, ext)
        else:
            ext.append(c)
    return rec


def walk_evaluated(n, rec):
    """policy_evaluated: disposition, dkim, spf, and the reasons."""
    for e in elements(n):
        if name_of(e) in EVALUATED:
            leaf(e, EVALUATED, rec["evaluated"], rec["ext"])
        elif name_of(e) == "reason":
            reason = {}
            leaves(e, REASON_FIELDS, reason, rec["ext"])
            rec["reasons"].append(reason)
        else:
            rec["ext"].append(e)


def serialise(top, encoding):
    """One element as libxml2 writes a copy of it (xmlDocCopyNode, then
    xmlNodeDumpOutput): the schema keeps "the element serialised as XML"
    and names no canonical form, so this follows that writer's form; what
    is in it (names, prefixes, namespaces, attributes, text) comes from the
    document.  The form: each element with the prefix it was written
    with; its own namespace declarations, then (on the element written
    only) those of prefixes that it, its attributes or its descendants
    use but that were declared outside it, in the order they are met;
    attributes in order; an element without content as <a/>; comments and
    processing instructions kept; no white space added; text with & < >
    and CR escaped, attribute values with & < > " TAB LF CR; characters
    otherwise as UTF-8, except in attribute values when the XML
    declaration names no encoding (libxml2 then writes them as character
    references)."""
    top_decls = list(top.decls)
    raw_attrs = encoding is not None

    def need(prefix, uri, scopes):
        if prefix == "xml" or any(p == prefix for d in scopes for p, _ in d):
            return
        top_decls.append((prefix, uri))

    def reconcile(n, scopes):
        scopes = scopes + [n.decls] if scopes else [top_decls]
        if n.uri is not None:
            need(n.prefix, n.uri, scopes)
        for uri, _, prefix, _ in n.attrs:
            if uri is not None:
                need(prefix, uri, scopes)
        for c in elements(n):
            reconcile(c, scopes)

    def quoted(v):
        if '"' not in v:
            return '"' + v + '"'
        if "'" not in v:
            return "'" + v + "'"
        return '"' + v.replace('"', "&quot;") + '"'

    def attr(v):
        out = []
        for ch in v:
            if ch in ATTR_ESC:
                out.append(ATTR_ESC[ch])
            elif ord(ch) >= 0x80 and not raw_attrs:
                out.append("&#x%X;" % ord(ch))
            else:
                out.append(ch)
        return "".join(out)

    def emit(n, out):
        qname = (n.prefix + ":" if n.prefix else "") + n.local
        out.append("<" + qname)
        for prefix, uri in (top_decls if n is top else n.decls):
            if prefix != "xml":
                out.append(" xmlns" + (":" + prefix if prefix else "") + "=" +
                           quoted(uri))
        for uri, name, prefix, value in n.attrs:
            out.append(" " + (prefix + ":" if uri is not None and prefix
                              else "") + name + '="' + attr(value) + '"')
        if not n.content:
            out.append("/>")
            return
        out.append(">")
        for c in n.content:
            if isinstance(c, Node):
                emit(c, out)
            elif c[0] == "text":
                out.append("".join(TEXT_ESC.get(ch, ch) for ch in c[1]))
            elif c[0] == "comment":
                out.append("<!--" + c[1] + "-->")
            else:
                out.append("<?" + c[1] + (" " + c[2] if c[2] else "") + "?>")
        out.append("</" + qname + ">")

    reconcile(top, [])
    out = []
    emit(top, out)
    return "".join(out)


TEXT_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
ATTR_ESC = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
            "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}


def feedback(n):
    """The first element named feedback (any case), in document order."""
    if name_of(n) == "feedback":
        return n
    for c in elements(n):
        f = feedback(c)
        if f is not None:
            return f
    return None


def extra_rows(xml, rkey, rid, out):
    """The meta, policy, error and rep_ext rows of a stored report, and per
    record its envelope_to, reason and rec_ext rows (returned: the
    record's envelope_to by position)."""
    root, encoding = tree(xml)
    rep = walk(feedback(root))
    meta, pol = rep["meta"], rep["policy"]
    eci = meta.get("extra_contact_info", (None, None))
    out.append(tsv("meta", rkey, rid, meta.get("org_name"),
                   meta.get("email"), eci[0], eci[1]))
    fields = []
    for name in ("p", "sp", "np", "adkim", "aspf", "pct"):
        fields.extend(pol.get(name, (None, None)))
    fields.append(pol.get("fo"))
    for name in ("testing", "discovery_method"):
        fields.extend(pol.get(name, (None, None)))
    out.append(tsv("policy", rkey, rid, *fields))
    for m, (message, lg) in enumerate(rep["errors"], 1):
        out.append(tsv("error", rkey, rid, m, message, lg))
    for m, e in enumerate(rep["ext"], 1):
        out.append(tsv("rep_ext", rkey, rid, m, e.uri, e.local,
                       serialise(e, encoding)))
    envelope_to = []
    for n, rec in enumerate(rep["records"], 1):
        envelope_to.append(rec["ids"].get("envelope_to"))
        for m, reason in enumerate(rec["reasons"], 1):
            t = reason.get("type", (None, None))
            c = reason.get("comment", (None, None))
            out.append(tsv("reason", rkey, rid, n, m, t[0], t[1], c[0], c[1]))
        for m, e in enumerate(rec["ext"], 1):
            out.append(tsv("rec_ext", rkey, rid, n, m, e.uri, e.local,
                           serialise(e, encoding)))
    return envelope_to


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
            out.append(tsv("bump", rkey, rid))
        return "duplicate"
    seen[key] = [ident]
    total = 0
    records = children(fb, "record")
    envelope_to = extra_rows(xml, rkey, rid, out)
    assert len(envelope_to) == len(records)
    for n, rec in enumerate(records, 1):
        row = child(rec, "row")
        pe = child(row, "policy_evaluated")
        ids = child(rec, "identifiers") or child(rec, "identities")
        ip = text(row, "source_ip")
        ip = str(ipaddress.ip_address(ip.strip("[]"))) if ip else N
        count = int(text(row, "count"))
        total += count
        ef = text(ids, "envelope_from")
        out.append(tsv(
            "record", rkey, rid, n, ip, count,
            enum(text(pe, "disposition"), DISPOSITION),
            enum(text(pe, "dkim"), ALIGNED), enum(text(pe, "spf"), ALIGNED),
            domain(text(ids, "header_from")),
            N if ef is None else domain(ef), envelope_to[n - 1]))
        ar = child(rec, "auth_results")
        for m, d in enumerate(children(ar, "dkim"), 1):
            sel = text(d, "selector")
            out.append(tsv(
                "dkim", rkey, rid, n, m, domain(text(d, "domain")),
                N if sel is None else sel,
                enum(text(d, "result"), DKIM)))
        for m, s in enumerate(children(ar, "spf"), 1):
            out.append(tsv(
                "spf", rkey, rid, n, m, domain(text(s, "domain")),
                enum(text(s, "scope"), SCOPE),
                enum(text(s, "result"), SPF)))
    out.append(tsv("report", rkey, rid, pdom, begin, end, len(records),
                   total))
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
