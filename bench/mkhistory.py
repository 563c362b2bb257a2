#!/usr/bin/env python3
"""Make a maildir folder that years of polls with after = "seen" leave,
for bench/history.sh.

  mkhistory.py MAILDIR UIDVALIDITY FIRST COUNT NEXT

Writes COUNT small messages into MAILDIR/cur, flagged \\Seen (":2,S"),
and MAILDIR/dovecot-uidlist giving them UIDs FIRST .. FIRST + COUNT - 1,
the folder UIDVALIDITY and the next UID NEXT: the messages polled long
ago and left in the folder, above the UIDs of those that went.  Dovecot
reads the uidlist when it first opens the folder, so it must not have
opened it yet.  The messages are never fetched (their ledger rows say
they are settled), so they are tiny.
"""
import os
import sys


def main():
    if len(sys.argv) != 6:
        sys.exit("usage: mkhistory.py MAILDIR UIDVALIDITY FIRST COUNT NEXT")
    md = sys.argv[1]
    uv, first, count, nxt = (int(x) for x in sys.argv[2:])
    if first + count > nxt:
        sys.exit("mkhistory.py: NEXT must be above the last UID")
    for d in ("cur", "new", "tmp"):
        os.makedirs(os.path.join(md, d), exist_ok=True)
    lines = ["3 V%d N%d" % (uv, nxt)]
    for i in range(count):
        uid = first + i
        body = ("From: dmarc-reports@old.bench.invalid\r\n"
                "Subject: Report Domain: example.com Report-ID: <old-%d>\r\n"
                "Message-ID: <old-%d@bench.invalid>\r\n\r\nold\r\n"
                % (uid, uid)).encode()
        base = "1600000000.M%dP1.bench,S=%d" % (uid, len(body))
        with open(os.path.join(md, "cur", base + ":2,S"), "wb") as f:
            f.write(body)
        lines.append("%d :%s" % (uid, base))
    with open(os.path.join(md, "dovecot-uidlist"), "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
