#!/bin/sh
# seeds.sh TOP CORPUS OUT: seed directories for the libFuzzer targets,
# from the report corpus (copied, never into the repository) and tests/:
# OUT/mime (every corpus file), OUT/report (corpus XML), OUT/tlsrpt
# (corpus JSON), OUT/conf (the configuration files in tests/ and etc/),
# OUT/imap-parse (server responses written here; the first byte of each
# is the target's knob).
set -eu
top=$1 corpus=$2 out=$3
mkdir -p "$out/mime" "$out/report" "$out/conf" "$out/imap-parse" "$out/tlsrpt"
if [ -d "$corpus" ]; then
	find "$corpus" -type f ! -name '*.md' ! -name '*.tsv' -exec cp {} "$out/mime/" \;
	find "$corpus" -type f -name '*.xml' -exec cp {} "$out/report/" \;
	find "$corpus" -type f -name '*.json' -exec cp {} "$out/tlsrpt/" \;
fi
# good/ and bad/ may hold files of the same name: each seed is named after
# its folder too.
for f in "$top"/tests/conf/*/*.conf; do
	d=$(basename "$(dirname "$f")")
	cp "$f" "$out/conf/$d-$(basename "$f")"
done
cp "$top/etc/dmarc-agent.conf.sample" "$out/conf/"
i=0
for r in '* OK [CAPABILITY IMAP4rev1 UIDPLUS MOVE AUTH=PLAIN] ready\r\n' \
    '* 3 EXISTS\r\n* OK [UIDVALIDITY 1700000001] ok\r\n* OK [UIDNEXT 4] ok\r\nA1 OK [READ-WRITE] selected\r\n' \
    '* SEARCH 1 2 3 17 4294967295\r\nA2 OK done\r\n' \
    '* 1 FETCH (UID 4 RFC822.SIZE 7 FLAGS (\\Seen) BODY[] {7}\r\nab\r\ncd\n)\r\nA3 OK done\r\n' \
    '* 2 FETCH (UID 9 RFC822.SIZE 20 BODY[] {20}\r\n0123456789abcdefghij)\r\n' \
    '* NAMESPACE (("INBOX." ".")) NIL NIL\r\n* LIST (\\Noselect) "/" ""\r\n' \
    '* CAPABILITY IMAP4rev1 NAMESPACE\r\nA4 NO [TRYCREATE] no such mailbox\r\n* BYE bye\r\n' \
    '+ eyJzdGF0dXMiOiI0MDEifQ==\r\nA5 NO [AUTHENTICATIONFAILED] refused\r\n'; do
	i=$((i + 1))
	printf "\\$(printf '%03o' $((i * 7)))$r" >"$out/imap-parse/seed$i"
done
