# postfix.sh: run a private Postfix for tests, delivering into the test
# Dovecot over LMTP.
#
# Source it (after dovecot.sh) from a POSIX shell, then:
#
#   postfix_start DIR LMTP_PORT
#                  start a Postfix with its own configuration, queue and
#                  log in DIR (created; root only, as Postfix's master is):
#                  SMTP on 127.0.0.1:SMTP_PORT (exported, a free high
#                  port) with STARTTLS required before any mail (its
#                  certificate from a CA made for the run, SMTP_CA,
#                  exported), mail for example.com handed to LMTP on
#                  127.0.0.1:LMTP_PORT, nothing relayed anywhere else.
#                  Returns non-zero (and says why) when it cannot start.
#   postfix_set DIR NAME=VALUE...
#                  change main.cf settings and reload.  The reload takes
#                  effect a moment later (the master rereads its files
#                  when it gets the signal; running smtpd processes finish
#                  their sessions first): wait with postfix_wait_rcpt.
#   postfix_rcpt ADDR
#                  the reply code Postfix gives to RCPT TO:<ADDR> now, in
#                  a session (STARTTLS first) that sends no mail
#   postfix_wait_rcpt SECONDS CODE ADDR
#                  until postfix_rcpt ADDR answers CODE; non-zero (and the
#                  last code) when it still does not after SECONDS
#   postfix_stop DIR
#                  stop it; safe to call more than once, or when start
#                  failed half-way (use it in a trap)
#   postfix_skip_or_fail MESSAGE
#                  print MESSAGE, exit 77 (skip), or 1 when CI=true
#
# The system's Postfix (/etc/postfix, port 25) is never touched: every
# command names DIR with -c.  The master runs in the foreground (postfix
# start-fg, in the background of the test), logging to its standard
# output, DIR/maillog: without a syslog daemon, which a container may not
# have, that is the one way to see Postfix's messages.

postfix_skip_or_fail()
{
	echo "$*" >&2
	if [ "${CI:-}" = true ]; then
		exit 1
	fi
	exit 77
}

# Debian's master.cf with nothing chrooted (the queue is a plain
# directory) and the smtpd on 127.0.0.1:PORT instead of port 25.
postfix_master_cf()
{
	awk -v port="$2" '
	/^#/ || /^[ \t]/ || NF < 8 { print; next }
	$1 == "smtp" && $2 == "inet" { $1 = "127.0.0.1:" port }
	$1 == "submission" || $1 == "smtps" || $1 == "628" { next }
	{ $5 = "n"; print }' /etc/postfix/master.cf >"$1/master.cf"
}

postfix_main_cf()
{
	cat >"$1/main.cf" <<EOF
# Private Postfix for dmarc-agent tests (tests/lib/postfix.sh).
compatibility_level = 3.6
queue_directory = $1/queue
data_directory = $1/data
mail_owner = postfix
setgid_group = postdrop
maillog_file = /dev/stdout
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
myhostname = mx.test.example
mydomain = test.example
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
relayhost =
mynetworks = 127.0.0.0/8
virtual_mailbox_domains = example.com
virtual_mailbox_maps = static:ok
virtual_transport = lmtp:inet:127.0.0.1:$2
default_transport = error:test mail server: no mail leaves it
smtpd_tls_cert_file = $1/server.crt
smtpd_tls_key_file = $1/server.key
smtpd_tls_security_level = encrypt
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_recipient_restrictions = permit_mynetworks, reject
biff = no
smtputf8_enable = no
delay_warning_time = 0
queue_run_delay = 2s
minimal_backoff_time = 2s
maximal_backoff_time = 4s
EOF
}

postfix_start()
{
	_ps_d=${1:?usage: postfix_start DIR LMTP_PORT}
	_ps_lmtp=${2:?usage: postfix_start DIR LMTP_PORT}
	if ! command -v postfix >/dev/null 2>&1; then
		echo "postfix_start: postfix not installed (apt-get install" \
		    "postfix)" >&2
		return 1
	fi
	if [ "$(id -u)" != 0 ]; then
		echo "postfix_start: Postfix's master runs as root only" >&2
		return 1
	fi
	mkdir -p "$_ps_d" || return 1
	_ps_d=$(cd "$_ps_d" && pwd) || return 1
	chmod 755 "$_ps_d"
	mkdir -p "$_ps_d/queue" "$_ps_d/data" || return 1
	chown postfix "$_ps_d/data"
	if [ ! -f "$_ps_d/server.crt" ] && ! dovecot_make_certs "$_ps_d"; then
		echo "postfix_start: openssl failed:" >&2
		cat "$_ps_d/openssl.log" >&2
		return 1
	fi
	SMTP_CA=$_ps_d/ca.crt
	SMTP_PORT=$(dovecot_free_port) || return 1
	export SMTP_CA SMTP_PORT
	postfix_main_cf "$_ps_d" "$_ps_lmtp"
	postfix_master_cf "$_ps_d" "$SMTP_PORT"
	postfix -c "$_ps_d" start-fg >"$_ps_d/maillog" 2>&1 </dev/null &
	POSTFIX_PID=$!
	_ps_i=0
	while [ $_ps_i -lt 200 ]; do
		dovecot_listening "$SMTP_PORT" && return 0
		kill -0 "$POSTFIX_PID" 2>/dev/null || break
		sleep 0.1
		_ps_i=$((_ps_i + 1))
	done
	postfix_stop "$_ps_d"
	echo "postfix_start: nothing listens on port $SMTP_PORT; its log:" >&2
	grep -v 'not owned by root\|group or other writable' \
	    "$_ps_d/maillog" | tail -20 >&2
	return 1
}

postfix_set()
{
	_pset_d=${1:?usage: postfix_set DIR NAME=VALUE...}
	shift
	postconf -c "$_pset_d" -e "$@" && postfix -c "$_pset_d" reload \
	    >/dev/null 2>&1
}

postfix_rcpt()
{
	python3 - "$SMTP_PORT" "$SMTP_CA" "${1:?usage: postfix_rcpt ADDR}" <<'PY'
import smtplib, ssl, sys
port, ca, rcpt = sys.argv[1:]
try:
    s = smtplib.SMTP("127.0.0.1", int(port), timeout=10)
    s.starttls(context=ssl.create_default_context(cafile=ca))
    s.ehlo()
    s.mail("probe@example.com")
    print(s.rcpt(rcpt)[0])
    s.rset()
    s.quit()
except (OSError, smtplib.SMTPException) as e:
    print("error:", e)
PY
}

postfix_wait_rcpt()
{
	_pwr_end=$(($(date +%s) + ${1:?usage: postfix_wait_rcpt SECONDS CODE ADDR}))
	_pwr_code=${2:?} _pwr_addr=${3:?}
	while :; do
		_pwr_got=$(postfix_rcpt "$_pwr_addr")
		[ "$_pwr_got" = "$_pwr_code" ] && return 0
		[ "$(date +%s)" -lt "$_pwr_end" ] || break
		sleep 0.2
	done
	echo "postfix_wait_rcpt: RCPT TO:<$_pwr_addr> answers $_pwr_got, want $_pwr_code" >&2
	return 1
}

postfix_stop()
{
	_pst_d=${1:?usage: postfix_stop DIR}
	[ -f "$_pst_d/main.cf" ] || return 0
	[ -f "$_pst_d/queue/pid/master.pid" ] || return 0
	postfix -c "$_pst_d" stop >/dev/null 2>&1
	_pst_pid=$(tr -d ' ' <"$_pst_d/queue/pid/master.pid" 2>/dev/null)
	case $_pst_pid in
	''|*[!0-9]*)
		return 0;;
	esac
	_pst_i=0
	while kill -0 "$_pst_pid" 2>/dev/null && [ $_pst_i -lt 50 ]; do
		sleep 0.1
		_pst_i=$((_pst_i + 1))
	done
	# Only a master of this DIR: a stale pid file may name another process.
	if kill -0 "$_pst_pid" 2>/dev/null &&
	    tr '\0' ' ' <"/proc/$_pst_pid/cmdline" 2>/dev/null |
	    grep -q 'postfix/sbin/master' &&
	    tr '\0' '\n' <"/proc/$_pst_pid/environ" 2>/dev/null |
	    grep -qx "MAIL_CONFIG=$_pst_d"; then
		kill -KILL "$_pst_pid" 2>/dev/null
	fi
	rm -f "$_pst_d/queue/pid/master.pid"
	return 0
}
