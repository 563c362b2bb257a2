#!/usr/bin/env python3
# fakeimap.py: a small scripted IMAP server for tests/server/imap-fake.test.
#
#   fakeimap.py --port-file F --log F [options]
#
# Listens on 127.0.0.1 on a free port (written to --port-file once it
# listens), serves one connection at a time (the mailboxes live as long as
# the server) and appends every line a client sends, exactly as received (CRLF removed), to
# --log; "-- end" follows each connection.  Plain TCP; STARTTLS when
# --tls-cert and --tls-key are given.  Python 3 standard library only.
#
# Options that shape the server:
#   --caps "IMAP4rev1 UIDPLUS ..."  capabilities (AUTH=... included)
#   --user U --password P            accepted LOGIN, PLAIN and LOGIN SASL
#   --token T                        accepted XOAUTH2 / OAUTHBEARER token
#   --ns-prefix P --ns-delim D       the personal namespace NAMESPACE gives
#                                    (needs NAMESPACE in --caps); D NIL:
#                                    none
#   --delim D                        the LIST "" "" delimiter (default ".")
#   --msg SIZE[:ANNOUNCED]           one message of SIZE bytes in INBOX,
#                                    with RFC822.SIZE ANNOUNCED (a liar)
#   --max-fetch N                    answer NO to a body FETCH of more than
#                                    N messages
#   --drop-fetch UID                 close the connection half-way through
#                                    the body of UID
#   --folder NAME                    a folder that exists already
#   --deleted UID                    INBOX's message UID starts flagged
#                                    \Deleted, as another client leaves it
#   --spool DIR                      before each connection, every file
#                                    of DIR (in name order) becomes a new
#                                    message in INBOX and is removed: mail
#                                    delivered between two sessions; a
#                                    file named uidN-... gets UID N, even
#                                    below UIDs already there (a server
#                                    that numbered it before it became
#                                    visible), and one named
#                                    undelete-N (empty) clears \Deleted
#                                    on UID N (another client's doing)
#
# With CONDSTORE in --caps, every message has a mod-sequence (one more
# than the folder's highest at each arrival and flag change), SELECT
# answers HIGHESTMODSEQ, UID SEARCH takes MODSEQ n (answering with
# "(MODSEQ m)"), and FETCH responses carry MODSEQ once it is enabled.
# UID SEARCH takes UID set, UNSEEN, UNDELETED and SINCE (ignored) in any
# order.
#   --state F                        after each connection, write each
#                                    mailbox as "NAME: UIDflags ..." (flags
#                                    as letters: d deleted, s seen; another
#                                    account's as "USER/NAME: ...")
#   --account USER:PASSWORD          another account (LOGIN, PLAIN and
#                                    LOGIN SASL), with mailboxes of its own
#   --put USER:FOLDER:PATH           one more message in FOLDER (made if
#                                    need be) of USER's account, PATH's
#                                    bytes; UIDs count from 1 in each folder
#   --threads                        serve connections at once, a thread
#                                    each (one command at a time overall)
#
# Scenarios for tests/server/hostile.test and tests/server/faults.test:
#   --msg-file PATH                  one more message in INBOX, PATH's bytes
#   --huge-literal UID:SIZE          the body literal of UID announces SIZE
#                                    bytes (RFC822.SIZE stays honest) and
#                                    the server sends that many, until the
#                                    client hangs up
#   --stall-fetch UID                the first time the body of UID is
#                                    fetched, send half of it and then
#                                    nothing until the client hangs up
#
# Only what tests need is implemented; anything else gets BAD.

import argparse
import base64
import os
import re
import socket
import ssl
import sys
import threading

UIDVALIDITY = 1700000001


def message(uid, size):
    head = ("From: fake@example.org\r\nSubject: message %d\r\n\r\n" % uid)
    body = head.encode()
    fill = b"0123456789abcdefghijklmnopqrstuvwxyz\r\n"
    while len(body) < size:
        body += fill
    return body[:size]


class Store:
    """The mailboxes; they live as long as the server."""

    def __init__(self, args):
        self.lock = threading.Lock()
        self.boxes = {"INBOX": []}
        self.passwords = {args.user: args.password}
        self.accounts = {args.user: self.boxes}
        for spec in args.account:
            user, _, pw = spec.partition(":")
            self.passwords[user] = pw
            self.accounts[user] = {"INBOX": []}
        for f in args.folder:
            self.boxes[f] = []
        for i, spec in enumerate(args.msg):
            size, _, ann = spec.partition(":")
            size = int(size)
            self.boxes["INBOX"].append({
                "uid": i + 1, "data": message(i + 1, size),
                "announced": int(ann) if ann else size, "flags": set()})
        for path in args.msg_file:
            with open(path, "rb") as f:
                data = f.read()
            uid = len(self.boxes["INBOX"]) + 1
            self.boxes["INBOX"].append({"uid": uid, "data": data,
                                        "announced": len(data),
                                        "flags": set()})
        for m in self.boxes["INBOX"]:
            if m["uid"] in args.deleted:
                m["flags"].add("\\Deleted")
        for spec in args.put:
            user, folder, path = spec.split(":", 2)
            with open(path, "rb") as f:
                data = f.read()
            box = self.accounts[user].setdefault(folder, [])
            box.append({"uid": len(box) + 1, "data": data,
                        "announced": len(data), "flags": set()})
        self.uidnexts = {u: {b: len(m) + 1 for b, m in boxes.items()}
                         for u, boxes in self.accounts.items()}
        self.uidnext = self.uidnexts[args.user]
        self.stalled = False
        self.modseq = 0
        for boxes in self.accounts.values():
            for box in boxes.values():
                for m in box:
                    self.touch(m)

    def touch(self, m):
        """A change to m: its mod-sequence goes above every other."""
        self.modseq += 1
        m["modseq"] = self.modseq

    def deliver(self, spool):
        """Mail that arrived in spool since the last session."""
        box = self.boxes["INBOX"]
        for name in sorted(os.listdir(spool)):
            path = os.path.join(spool, name)
            with open(path, "rb") as f:
                data = f.read()
            os.remove(path)
            und = re.match(r"undelete-(\d+)$", name)
            if und:
                for m in box:
                    if m["uid"] == int(und.group(1)):
                        m["flags"].discard("\\Deleted")
                        self.touch(m)
                continue
            given = re.match(r"uid(\d+)-", name)
            uid = int(given.group(1)) if given else self.uidnext["INBOX"]
            m = {"uid": uid, "data": data, "announced": len(data),
                 "flags": set()}
            self.touch(m)
            box.append(m)
            box.sort(key=lambda x: x["uid"])
            self.uidnext["INBOX"] = max(self.uidnext["INBOX"], uid + 1)

    def highest(self, box):
        return max([m["modseq"] for m in box] + [self.modseq])

    def dump(self, path):
        with open(path, "w") as f:
            for user in sorted(self.accounts):
                boxes = self.accounts[user]
                prefix = "" if boxes is self.boxes else user + "/"
                for b in sorted(boxes):
                    f.write("%s%s:%s\n" % (prefix, b, "".join(
                        " %d%s" % (m["uid"], "".join(sorted(
                            x[1].lower() for x in m["flags"])))
                        for m in boxes[b])))


class Conn:
    def __init__(self, sock, args, log, store):
        self.sock = sock
        self.args = args
        self.log = log
        self.rf = sock.makefile("rb")
        self.caps = args.caps
        self.selected = None
        self.modseqs = False  # CONDSTORE enabled in this session
        self.authed = False
        self.store = store
        self.boxes = store.boxes
        self.uidnext = store.uidnext

    def send(self, text):
        if isinstance(text, str):
            text = text.encode()
        self.sock.sendall(text)

    def line(self):
        raw = self.rf.readline(1 << 20)
        if not raw:
            return None
        text = raw.rstrip(b"\r\n").decode("latin-1")
        self.log.write(text + "\n")
        self.log.flush()
        return text

    def run(self):
        self.send("* OK fake IMAP ready\r\n")
        while True:
            text = self.line()
            if text is None:
                return
            m = re.match(r"(\S+) (\S+)(?: (.*))?$", text)
            if not m:
                self.send("* BAD no tag\r\n")
                continue
            tag, cmd, rest = m.group(1), m.group(2).upper(), m.group(3) or ""
            if cmd == "UID":
                sub, _, rest = rest.partition(" ")
                cmd = "UID " + sub.upper()
            fn = getattr(self, "c_" + cmd.replace(" ", "_"), None)
            if fn is None:
                self.send("%s BAD unknown command\r\n" % tag)
                continue
            with self.store.lock:
                if fn(tag, rest) == "close":
                    return

    # Argument helpers.
    def strings(self, rest):
        out = []
        for m in re.finditer(r'"((?:[^"\\]|\\.)*)"|(\S+)', rest):
            if m.group(1) is not None:
                out.append(re.sub(r"\\(.)", r"\1", m.group(1)))
            else:
                out.append(m.group(2))
        return out

    def uidset(self, spec, box):
        uids = [m["uid"] for m in self.boxes[box]]
        top = max(uids) if uids else 0
        want = set()
        for part in spec.split(","):
            a, _, b = part.partition(":")
            a = top if a == "*" else int(a)
            b = a if not b else (top if b == "*" else int(b))
            lo, hi = min(a, b), max(a, b)
            want.update(u for u in uids if lo <= u <= hi)
        return [m for m in self.boxes[box] if m["uid"] in want]

    def seq(self, msg):
        return self.boxes[self.selected].index(msg) + 1

    # Commands before login.
    def c_CAPABILITY(self, tag, rest):
        self.send("* CAPABILITY %s\r\n%s OK done\r\n" % (self.caps, tag))

    def c_NOOP(self, tag, rest):
        self.send("%s OK done\r\n" % tag)

    def c_LOGOUT(self, tag, rest):
        self.send("* BYE bye\r\n%s OK done\r\n" % tag)
        return "close"

    def c_STARTTLS(self, tag, rest):
        if not self.args.tls_cert:
            self.send("%s BAD no STARTTLS here\r\n" % tag)
            return None
        self.send("%s OK begin TLS\r\n" % tag)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.args.tls_cert, self.args.tls_key)
        self.sock = ctx.wrap_socket(self.sock, server_side=True)
        self.rf = self.sock.makefile("rb")
        return None

    def login_ok(self, tag, ok, extra="", user=None):
        if ok:
            self.authed = True
            user = self.args.user if user is None else user
            self.boxes = self.store.accounts[user]
            self.uidnext = self.store.uidnexts[user]
            self.send("%s OK logged in\r\n" % tag)
        else:
            self.send("%s%s NO [AUTHENTICATIONFAILED] refused\r\n" %
                      (extra, tag))

    def password_ok(self, user, password):
        return self.store.passwords.get(user) == password

    def c_LOGIN(self, tag, rest):
        a = self.strings(rest)
        ok = len(a) == 2 and self.password_ok(a[0], a[1])
        self.login_ok(tag, ok, user=a[0] if ok else None)

    def b64(self, text):
        try:
            return base64.b64decode(text, validate=True)
        except ValueError:
            return b""

    def sasl_response(self, initial):
        if initial is not None:
            return initial
        self.send("+ \r\n")
        return self.line() or ""

    def c_AUTHENTICATE(self, tag, rest):
        mech, _, ir = rest.partition(" ")
        mech = mech.upper()
        ir = ir if ir else None
        user = self.args.user.encode()
        if mech == "PLAIN":
            blob = self.b64(self.sasl_response(ir)).split(b"\0")
            who = blob[1].decode("latin-1") if len(blob) == 3 else None
            ok = (who is not None and blob[0] in (b"", blob[1]) and
                  self.password_ok(who, blob[2].decode("latin-1")))
            self.login_ok(tag, ok, user=who if ok else None)
        elif mech == "LOGIN":
            if ir is None:
                self.send("+ VXNlcm5hbWU6\r\n")
                ir = self.line() or ""
            u = self.b64(ir).decode("latin-1")
            self.send("+ UGFzc3dvcmQ6\r\n")
            p = self.b64(self.line() or "").decode("latin-1")
            ok = self.password_ok(u, p)
            self.login_ok(tag, ok, user=u if ok else None)
        elif mech in ("XOAUTH2", "OAUTHBEARER"):
            blob = self.b64(self.sasl_response(ir))
            want = b"auth=Bearer " + self.args.token.encode() + b"\x01"
            ok = want in blob and (b"user=" + user in blob or
                                   b"a=" + user in blob)
            if not ok:
                err = base64.b64encode(b'{"status":"401","schemes":'
                                       b'"bearer","scope":"mail"}')
                self.send(b"+ " + err + b"\r\n")
                self.line()
            self.login_ok(tag, ok)
        else:
            self.send("%s NO unsupported mechanism\r\n" % tag)

    # Commands after login.
    def c_NAMESPACE(self, tag, rest):
        if " NAMESPACE " not in " %s " % self.caps.upper():
            self.send("%s BAD no NAMESPACE here\r\n" % tag)
            return
        d = self.args.ns_delim
        d = "NIL" if d == "NIL" else '"%s"' % d
        self.send('* NAMESPACE (("%s" %s)) NIL NIL\r\n%s OK done\r\n' %
                  (self.args.ns_prefix, d, tag))

    def c_LIST(self, tag, rest):
        a = self.strings(rest)
        if a == ["", ""]:
            d = "NIL" if self.args.delim == "NIL" else '"%s"' % self.args.delim
            self.send('* LIST (\\Noselect) %s ""\r\n' % d)
        self.send("%s OK done\r\n" % tag)

    def c_CREATE(self, tag, rest):
        name = self.strings(rest)[0]
        if name in self.boxes:
            self.send("%s NO [ALREADYEXISTS] exists\r\n" % tag)
            return
        self.boxes[name] = []
        self.uidnext[name] = 1
        self.send("%s OK created\r\n" % tag)

    def c_SELECT(self, tag, rest):
        name = self.strings(rest)[0]
        if name not in self.boxes:
            self.send("%s NO [NONEXISTENT] no such mailbox\r\n" % tag)
            return
        self.selected = name
        if "(CONDSTORE)" in rest.upper() and self.condstore():
            self.modseqs = True
        hms = ""
        if self.condstore():
            hms = "* OK [HIGHESTMODSEQ %d] ok\r\n" % self.store.highest(
                self.boxes[name])
        self.send("* %d EXISTS\r\n* OK [UIDVALIDITY %d] ok\r\n"
                  "* OK [UIDNEXT %d] ok\r\n%s%s OK [READ-WRITE] selected\r\n" %
                  (len(self.boxes[name]), UIDVALIDITY, self.uidnext[name],
                   hms, tag))

    def condstore(self):
        return " CONDSTORE " in " %s " % self.caps.upper()

    def c_UID_SEARCH(self, tag, rest):
        words = rest.upper().split()
        box = self.boxes[self.selected]
        want = box
        since = None
        i = 0
        while i < len(words):
            w = words[i]
            if w == "UID":
                want = self.uidset(words[i + 1], self.selected)
                i += 1
            elif w in ("SINCE",):
                i += 1
            elif w == "MODSEQ":
                if not self.condstore():
                    self.send("%s BAD no CONDSTORE here\r\n" % tag)
                    return
                since = int(words[i + 1])
                self.modseqs = True
                i += 1
            elif w not in ("UNSEEN", "UNDELETED"):
                self.send("%s BAD unknown search key\r\n" % tag)
                return
            i += 1
        found = []
        top = 0
        for m in want:
            if "UNSEEN" in words and "\\Seen" in m["flags"]:
                continue
            if "UNDELETED" in words and "\\Deleted" in m["flags"]:
                continue
            if since is not None and m["modseq"] < since:
                continue
            found.append(str(m["uid"]))
            top = max(top, m["modseq"])
        tail = " (MODSEQ %d)" % top if since is not None and found else ""
        self.send("* SEARCH%s%s\r\n%s OK done\r\n" %
                  ("".join(" " + u for u in found), tail, tag))

    def c_UID_FETCH(self, tag, rest):
        spec, _, items = rest.partition(" ")
        msgs = self.uidset(spec, self.selected)
        body = "BODY.PEEK[]" in items.upper()
        if body and self.args.max_fetch and len(msgs) > self.args.max_fetch:
            self.send("%s NO [LIMIT] too many messages in one FETCH\r\n" %
                      tag)
            return None
        for m in msgs:
            head = "* %d FETCH (UID %d RFC822.SIZE %d" % (
                self.seq(m), m["uid"], m["announced"])
            if self.modseqs:
                head += " MODSEQ (%d)" % m["modseq"]
            if not body:
                self.send(head + ")\r\n")
                continue
            data = m["data"]
            if self.scenario(m, head):
                return "close"
            self.send(head + " BODY[] {%d}\r\n" % len(data))
            if m["uid"] == self.args.drop_fetch:
                self.send(data[:len(data) // 2])
                self.sock.shutdown(socket.SHUT_RDWR)
                return "close"
            self.send(data + b")\r\n")
        self.send("%s OK done\r\n" % tag)
        return None

    def scenario(self, m, head):
        """The hostile fetch scenarios; True when the connection ends."""
        huge = self.args.huge_literal
        if huge and int(huge.split(":")[0]) == m["uid"]:
            size = int(huge.split(":")[1])
            self.send(head + " BODY[] {%d}\r\n" % size)
            chunk = b"x" * 65536
            while size > 0:
                self.send(chunk[:size])
                size -= min(size, len(chunk))
            self.send(")\r\n")
            return False
        if self.args.stall_fetch == m["uid"] and not self.store.stalled:
            self.store.stalled = True
            data = m["data"]
            self.send(head + " BODY[] {%d}\r\n" % len(data))
            self.send(data[:len(data) // 2])
            self.sock.settimeout(600)
            while self.sock.recv(4096):
                pass
            return True
        return False

    def c_UID_STORE(self, tag, rest):
        spec, _, what = rest.partition(" ")
        m = re.match(r"([+-]?)FLAGS(\.SILENT)? \((.*)\)$", what, re.I)
        if not m:
            self.send("%s BAD bad STORE\r\n" % tag)
            return
        flags = set(m.group(3).split())
        for msg in self.uidset(spec, self.selected):
            before = set(msg["flags"])
            if m.group(1) == "+":
                msg["flags"] |= flags
            elif m.group(1) == "-":
                msg["flags"] -= flags
            else:
                msg["flags"] = set(flags)
            if msg["flags"] != before:
                self.store.touch(msg)
                if self.modseqs:
                    self.send("* %d FETCH (UID %d MODSEQ (%d))\r\n" %
                              (self.seq(msg), msg["uid"], msg["modseq"]))
        self.send("%s OK done\r\n" % tag)

    def copy(self, tag, rest, move):
        spec, _, name = rest.partition(" ")
        name = self.strings(name)[0]
        if name not in self.boxes:
            self.send("%s NO [TRYCREATE] no such mailbox\r\n" % tag)
            return
        msgs = self.uidset(spec, self.selected)
        for m in msgs:
            c = dict(m, uid=self.uidnext[name], flags=set(m["flags"]))
            self.store.touch(c)
            self.uidnext[name] += 1
            self.boxes[name].append(c)
        if move:
            for m in msgs:
                self.send("* %d EXPUNGE\r\n" % self.seq(m))
                self.boxes[self.selected].remove(m)
                self.store.modseq += 1
        self.send("%s OK done\r\n" % tag)

    def c_UID_COPY(self, tag, rest):
        self.copy(tag, rest, False)

    def c_UID_MOVE(self, tag, rest):
        if " MOVE " not in " %s " % self.caps.upper():
            self.send("%s BAD no MOVE here\r\n" % tag)
            return
        self.copy(tag, rest, True)

    def expunge(self, tag, msgs):
        for m in msgs:
            if "\\Deleted" in m["flags"]:
                self.send("* %d EXPUNGE\r\n" % self.seq(m))
                self.boxes[self.selected].remove(m)
                self.store.modseq += 1
        self.send("%s OK done\r\n" % tag)

    def c_UID_EXPUNGE(self, tag, rest):
        if " UIDPLUS " not in " %s " % self.caps.upper():
            self.send("%s BAD no UIDPLUS here\r\n" % tag)
            return
        self.expunge(tag, self.uidset(rest, self.selected))

    def c_EXPUNGE(self, tag, rest):
        self.expunge(tag, list(self.boxes[self.selected]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--state")
    ap.add_argument("--spool")
    ap.add_argument("--caps", default="IMAP4rev1 AUTH=PLAIN")
    ap.add_argument("--user", default="dmarc@example.com")
    ap.add_argument("--password", default="")
    ap.add_argument("--token", default="")
    ap.add_argument("--ns-prefix", default="")
    ap.add_argument("--ns-delim", default=".")
    ap.add_argument("--delim", default=".")
    ap.add_argument("--msg", action="append", default=[])
    ap.add_argument("--max-fetch", type=int, default=0)
    ap.add_argument("--drop-fetch", type=int, default=0)
    ap.add_argument("--folder", action="append", default=[])
    ap.add_argument("--deleted", action="append", type=int, default=[])
    ap.add_argument("--msg-file", action="append", default=[])
    ap.add_argument("--huge-literal")
    ap.add_argument("--stall-fetch", type=int, default=0)
    ap.add_argument("--account", action="append", default=[])
    ap.add_argument("--put", action="append", default=[])
    ap.add_argument("--threads", action="store_true")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    args = ap.parse_args()
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    tmp = args.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.getsockname()[1])
    os.rename(tmp, args.port_file)
    store = Store(args)
    with open(args.log, "a") as log:
        while True:
            sock, _ = srv.accept()
            sock.settimeout(30)
            if args.spool:
                store.deliver(args.spool)
            if args.threads:
                threading.Thread(target=serve, daemon=True,
                                 args=(sock, args, log, store)).start()
            else:
                serve(sock, args, log, store)


def serve(sock, args, log, store):
    conn = Conn(sock, args, log, store)
    try:
        conn.run()
    except (OSError, ssl.SSLError) as e:
        log.write("-- error %s\n" % e)
    with store.lock:
        if args.state:
            store.dump(args.state)
        log.write("-- end\n")
        log.flush()
    try:
        conn.sock.close()
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
