# dovecot.sh: run a private Dovecot for tests and the quick start.
#
# Source it from a POSIX shell, then:
#
#   dovecot_start DIR        start a Dovecot with its own config in DIR
#                            (DIR is created if missing and must be private
#                            to the caller); exports IMAP_HOST, IMAPS_PORT,
#                            IMAP_PORT, IMAP_USER, IMAP_PASS, IMAP_CA,
#                            IMAP_DIR and DOVECOT_CONF.  Returns non-zero
#                            (and prints why) when it cannot start.
#   dovecot_stop DIR         stop it; safe to call more than once, or when
#                            start failed half-way (use it in a trap)
#   dovecot_deliver FOLDER FILE...
#                            store each FILE, byte for byte, into FOLDER
#                            (created when missing), without the network;
#                            give files CRLF line ends (as mail is on the
#                            wire) to get the same bytes back over IMAP
#   dovecot_deliver_dated FOLDER DATE FILE
#                            store FILE into FOLDER (plain ASCII name,
#                            created when missing) with the internal date
#                            DATE (as touch -d takes it), by writing it
#                            straight into the maildir
#   dovecot_count FOLDER [SEARCH...]
#                            print how many messages in FOLDER match the
#                            doveadm search query (default ALL), e.g.
#                            dovecot_count INBOX SEEN
#   dovecot_lmtp             call before dovecot_start: the Dovecot also
#                            takes mail over LMTP (RFC 2033) on a third free
#                            port, LMTP_PORT (exported), for a test mail
#                            server to deliver into (needs dovecot-lmtpd)
#   dovecot_skip_or_fail MESSAGE
#                            print MESSAGE, exit 77 (skip), or 1 when CI=true
#   dovecot_free_port [NOT]  print a free TCP port on 127.0.0.1 (not NOT)
#
# With DOVECOT_OAUTH2_URL set (an RFC 7662 introspection endpoint, such as
# tests/lib/idp.py's /introspect) the server also takes XOAUTH2 and
# OAUTHBEARER: an oauth2 passdb POSTs each bearer token there
# (introspection_mode = post), trusting the CA in DOVECOT_OAUTH2_CA, and
# logs the user in when the answer is active and its email is the user's.
#
# As root, DIR and its parents must be searchable by the mail user: a
# directory from mktemp -d is not, so chmod 755 it (dovecot_start checks).
#
# The server listens on 127.0.0.1 only, on two free high ports: IMAPS_PORT
# (implicit TLS) and IMAP_PORT (STARTTLS required: plaintext login refused).
# Its certificate is signed by a CA made for the run (IMAP_CA); the server
# name is localhost or 127.0.0.1.  One user: dmarc@example.com with password
# secret-test-pw, mail in maildir DIR/mail/<user>.  As root, mail belongs to
# the system user "dmarcmail" (created when missing); otherwise Dovecot runs
# entirely as the calling user.  A system Dovecot on 143/993 is never touched.

PATH=$PATH:/usr/sbin:/sbin
export PATH

# True when something listens on TCP port $1 of 127.0.0.1 (or of any
# address).  Reads /proc/net/tcp, so it needs no ss (iproute2 is not in
# every minimal Debian); falls back to ss elsewhere.
dovecot_listening()
{
	if [ -r /proc/net/tcp ]; then
		_dl_hex=$(printf '%04X' "$1")
		awk -v p=":$_dl_hex" '$4 == "0A" && substr($2, length($2) - 4) == p &&
		    ($2 ~ /^0100007F:/ || $2 ~ /^00000000:/) { f = 1 }
		    END { exit !f }' /proc/net/tcp
		return
	fi
	command -v ss >/dev/null 2>&1 || return 1
	ss -Hltn "sport = :$1" 2>/dev/null | grep -q .
}

# Print a TCP port on 127.0.0.1 that nothing listens on, other than $1.
dovecot_free_port()
{
	_dfp_i=0
	while [ $_dfp_i -lt 50 ]; do
		_dfp_p=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		_dfp_p=$((20000 + _dfp_p % 40000))
		_dfp_i=$((_dfp_i + 1))
		[ "$_dfp_p" = "${1:-}" ] && continue
		dovecot_listening "$_dfp_p" && continue
		echo "$_dfp_p"
		return 0
	done
	return 1
}

# Make a CA and a server certificate for localhost/127.0.0.1 in $1.
dovecot_make_certs()
{
	_dmc_d=$1
	openssl req -x509 -new -nodes -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 \
	    -keyout "$_dmc_d/ca.key" -out "$_dmc_d/ca.crt" -days 7 \
	    -subj "/CN=dmarc-agent test CA $$" \
	    -addext "basicConstraints=critical,CA:TRUE" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    >"$_dmc_d/openssl.log" 2>&1 || return 1
	openssl req -new -nodes -newkey ec \
	    -pkeyopt ec_paramgen_curve:prime256v1 \
	    -keyout "$_dmc_d/server.key" -out "$_dmc_d/server.csr" \
	    -subj "/CN=localhost" >>"$_dmc_d/openssl.log" 2>&1 || return 1
	cat >"$_dmc_d/server.ext" <<EOF
basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1
EOF
	openssl x509 -req -in "$_dmc_d/server.csr" -CA "$_dmc_d/ca.crt" \
	    -CAkey "$_dmc_d/ca.key" -CAcreateserial -days 7 \
	    -extfile "$_dmc_d/server.ext" -out "$_dmc_d/server.crt" \
	    >>"$_dmc_d/openssl.log" 2>&1 || return 1
	chmod 600 "$_dmc_d/ca.key" "$_dmc_d/server.key"
}

# Write DIR/dovecot.conf.
dovecot_write_conf()
{
	_dwc_d=$1
	{
	cat <<EOF
# Private Dovecot for dmarc-agent tests (tests/lib/dovecot.sh).
instance_name = dmarc-test-$$
base_dir = $_dwc_d/run
state_dir = $_dwc_d/state
log_path = $_dwc_d/dovecot.log
info_log_path = $_dwc_d/dovecot.log
debug_log_path = $_dwc_d/dovecot.log
protocols = imap${LMTP_PORT:+ lmtp}
listen = 127.0.0.1
ssl = required
ssl_cert = <$_dwc_d/server.crt
ssl_key = <$_dwc_d/server.key
disable_plaintext_auth = yes
auth_mechanisms = plain login${DOVECOT_OAUTH2_URL:+ xoauth2 oauthbearer}
auth_failure_delay = 0
mail_location = maildir:$_dwc_d/mail/%u
mail_plugins =
first_valid_uid = $DOVECOT_UID
last_valid_uid = 0
first_valid_gid = $DOVECOT_GID
mail_privileged_group =
default_internal_user = $DOVECOT_INTERNAL
default_internal_group = $DOVECOT_INTERNAL_GROUP
default_login_user = $DOVECOT_LOGIN
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $_dwc_d/passwd
}
EOF
	[ -n "${DOVECOT_OAUTH2_URL:-}" ] && cat <<EOF
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $_dwc_d/dovecot-oauth2.conf.ext
}
EOF
	cat <<EOF
userdb {
  driver = static
  args = uid=$DOVECOT_UID gid=$DOVECOT_GID home=$_dwc_d/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = $IMAPS_PORT
    ssl = yes
  }
EOF
	[ -n "$DOVECOT_NOCHROOT" ] && echo "  chroot ="
	echo "}"
	# No growing delay after failed logins (tests fail logins on purpose).
	echo "service anvil {"
	echo "  unix_listener anvil-auth-penalty {"
	echo "    mode = 0"
	echo "  }"
	[ -n "$DOVECOT_NOCHROOT" ] && echo "  chroot ="
	echo "}"
	if [ -n "$DOVECOT_NOCHROOT" ]; then
		# Not root: no chroot, no privilege changes, no system users.
		for _dwc_s in auth auth-worker imap; do
			echo "service $_dwc_s {"
			echo "  chroot ="
			[ "$_dwc_s" = auth-worker ] && echo "  user = \$default_internal_user"
			echo "}"
		done
	fi
	echo "protocol imap {"
	echo "  mail_max_userip_connections = 50"
	echo "}"
	if [ -n "${LMTP_PORT:-}" ]; then
		# Plain LMTP on loopback: the test's mail server hands over.
		echo "service lmtp {"
		echo "  inet_listener lmtp {"
		echo "    address = 127.0.0.1"
		echo "    port = $LMTP_PORT"
		echo "  }"
		[ -n "$DOVECOT_NOCHROOT" ] && echo "  chroot ="
		echo "}"
		echo "protocol lmtp {"
		echo "  postmaster_address = postmaster@example.com"
		echo "}"
	fi
	} >"$_dwc_d/dovecot.conf"
	[ -n "${DOVECOT_OAUTH2_URL:-}" ] || return 0
	cat >"$_dwc_d/dovecot-oauth2.conf.ext" <<EOF
introspection_url = $DOVECOT_OAUTH2_URL
introspection_mode = post
force_introspection = yes
tls_ca_cert_file = ${DOVECOT_OAUTH2_CA:?the CA of DOVECOT_OAUTH2_URL}
username_attribute = email
active_attribute = active
active_value = true
EOF
}

# Choose the users Dovecot runs as; sets DOVECOT_* variables.
dovecot_pick_users()
{
	if [ "$(id -u)" = 0 ]; then
		if ! id dmarcmail >/dev/null 2>&1; then
			useradd --system --no-create-home --home-dir /nonexistent \
			    --shell /usr/sbin/nologin --user-group dmarcmail \
			    >/dev/null 2>&1 || id dmarcmail >/dev/null 2>&1 ||
			    return 1
		fi
		DOVECOT_UID=$(id -u dmarcmail)
		DOVECOT_GID=$(id -g dmarcmail)
		DOVECOT_INTERNAL=dovecot
		DOVECOT_INTERNAL_GROUP=dovecot
		DOVECOT_LOGIN=dovenull
		DOVECOT_NOCHROOT=
		id dovecot >/dev/null 2>&1 || DOVECOT_INTERNAL=dmarcmail
		id dovecot >/dev/null 2>&1 || DOVECOT_INTERNAL_GROUP=dmarcmail
		id dovenull >/dev/null 2>&1 || DOVECOT_LOGIN=dmarcmail
	else
		DOVECOT_UID=$(id -u)
		DOVECOT_GID=$(id -g)
		DOVECOT_INTERNAL=$(id -un)
		DOVECOT_INTERNAL_GROUP=$(id -gn)
		DOVECOT_LOGIN=$(id -un)
		DOVECOT_NOCHROOT=1
	fi
}

# Wait (bounded, about 20 s: a loaded machine running tests side by side
# can be slow) until the master runs, its auth service is up and both
# ports listen.  Returns 1 early when the master has died; DOVECOT_WHY
# says what was seen.  The master writes its pid file by truncating it
# and then writing the pid, so an empty file means "not yet", not "dead".
dovecot_wait()
{
	_dw_i=0
	DOVECOT_WHY="not ready after 20 s"
	while [ $_dw_i -lt 400 ]; do
		_dw_pid=$(cat "$1/run/master.pid" 2>/dev/null)
		case $_dw_pid in
		''|*[!0-9]*)
			;;
		*)
			if ! dovecot_alive "$_dw_pid"; then
				DOVECOT_WHY="the master (pid $_dw_pid) exited"
				return 1
			fi;;
		esac
		if [ -n "$_dw_pid" ] && [ -S "$1/run/auth-userdb" ] &&
		    dovecot_listening "$IMAP_PORT" &&
		    dovecot_listening "$IMAPS_PORT" &&
		    { [ -z "${LMTP_PORT:-}" ] ||
		    dovecot_listening "$LMTP_PORT"; }; then
			return 0
		fi
		sleep 0.05
		_dw_i=$((_dw_i + 1))
	done
	return 1
}

dovecot_start()
{
	_ds_d=${1:?usage: dovecot_start DIR}
	if ! command -v dovecot >/dev/null 2>&1 ||
	    ! command -v doveadm >/dev/null 2>&1; then
		echo "dovecot_start: dovecot or doveadm not installed" \
		    "(apt-get install dovecot-imapd)" >&2
		return 1
	fi
	if ! command -v openssl >/dev/null 2>&1; then
		echo "dovecot_start: openssl not installed" >&2
		return 1
	fi
	mkdir -p "$_ds_d" || return 1
	_ds_d=$(cd "$_ds_d" && pwd) || return 1
	# The mail user must be able to reach DIR/mail.
	chmod 755 "$_ds_d"
	mkdir -p "$_ds_d/run" "$_ds_d/state" "$_ds_d/mail" || return 1
	if ! dovecot_pick_users; then
		echo "dovecot_start: cannot create the user dmarcmail" >&2
		return 1
	fi
	IMAP_HOST=127.0.0.1
	IMAP_USER=dmarc@example.com
	IMAP_PASS=secret-test-pw
	IMAP_DIR=$_ds_d
	IMAP_CA=$_ds_d/ca.crt
	DOVECOT_CONF=$_ds_d/dovecot.conf
	export IMAP_HOST IMAP_USER IMAP_PASS IMAP_DIR IMAP_CA DOVECOT_CONF
	if [ ! -f "$_ds_d/server.crt" ] && ! dovecot_make_certs "$_ds_d"; then
		echo "dovecot_start: openssl failed:" >&2
		cat "$_ds_d/openssl.log" >&2
		return 1
	fi
	printf '%s:{PLAIN}%s::::::\n' "$IMAP_USER" "$IMAP_PASS" \
	    >"$_ds_d/passwd"
	chmod 644 "$_ds_d/passwd"
	if [ "$(id -u)" = 0 ]; then
		chown "$DOVECOT_UID:$DOVECOT_GID" "$_ds_d/mail"
		if command -v setpriv >/dev/null 2>&1 &&
		    ! setpriv --reuid="$DOVECOT_UID" --regid="$DOVECOT_GID" \
		    --clear-groups test -w "$_ds_d/mail"; then
			echo "dovecot_start: $_ds_d/mail is out of reach of" \
			    "user dmarcmail (chmod 755 the parents)" >&2
			return 1
		fi
	fi
	# Up to three tries, on new ports each time: a port taken between
	# the choice and the bind, or a start that went wrong on a loaded
	# machine, does not fail the test.  Every try's log is kept in
	# DIR/dovecot.tries.log and shown when all of them failed.
	: >"$_ds_d/dovecot.tries.log"
	_ds_try=0
	while [ $_ds_try -lt 3 ]; do
		_ds_try=$((_ds_try + 1))
		IMAPS_PORT=$(dovecot_free_port) || return 1
		IMAP_PORT=$(dovecot_free_port "$IMAPS_PORT") || return 1
		export IMAPS_PORT IMAP_PORT
		if [ -n "${DOVECOT_WANT_LMTP:-}" ]; then
			LMTP_PORT=$(dovecot_free_port "$IMAP_PORT") || return 1
			export LMTP_PORT
		fi
		dovecot_write_conf "$_ds_d"
		rm -f "$_ds_d/run/master.pid"
		: >"$_ds_d/dovecot.log"
		if dovecot -c "$DOVECOT_CONF" >>"$_ds_d/dovecot.log" 2>&1; then
			dovecot_wait "$_ds_d" && return 0
		else
			DOVECOT_WHY="dovecot exited with status $?"
		fi
		dovecot_stop "$_ds_d"
		{
			echo "--- try $_ds_try (ports $IMAPS_PORT, $IMAP_PORT): $DOVECOT_WHY"
			cat "$_ds_d/dovecot.log"
		} >>"$_ds_d/dovecot.tries.log"
		echo "dovecot_start: try $_ds_try failed: $DOVECOT_WHY" >&2
	done
	echo "dovecot_start: dovecot did not start; its logs:" >&2
	tail -n 40 "$_ds_d/dovecot.tries.log" >&2
	return 1
}

# True when process $1 runs (a zombie left to an init that does not reap,
# as in some containers, counts as gone).
dovecot_alive()
{
	kill -0 "$1" 2>/dev/null || return 1
	if [ -r "/proc/$1/stat" ]; then
		case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) in
		Z*|X*)
			return 1;;
		esac
	fi
	return 0
}

dovecot_stop()
{
	_dst_d=${1:?usage: dovecot_stop DIR}
	[ -f "$_dst_d/run/master.pid" ] || return 0
	_dst_d=$(cd "$_dst_d" && pwd) || return 0
	_dst_pid=$(cat "$_dst_d/run/master.pid" 2>/dev/null)
	case $_dst_pid in
	''|*[!0-9]*)
		return 0;;
	esac
	if ! dovecot_alive "$_dst_pid"; then
		rm -f "$_dst_d/run/master.pid"
		return 0
	fi
	# Only signal the pid when it is the master started on this DIR's
	# config: a pid file left by a master that died may name a process
	# that reused the pid, even another test's Dovecot.
	if [ -r "/proc/$_dst_pid/cmdline" ] &&
	    ! tr '\0' ' ' <"/proc/$_dst_pid/cmdline" |
	    grep -qF -- "-c $_dst_d/dovecot.conf"; then
		rm -f "$_dst_d/run/master.pid"
		return 0
	fi
	kill -TERM "$_dst_pid" 2>/dev/null
	_dst_i=0
	while dovecot_alive "$_dst_pid" && [ $_dst_i -lt 60 ]; do
		sleep 0.05
		_dst_i=$((_dst_i + 1))
	done
	dovecot_alive "$_dst_pid" && kill -KILL "$_dst_pid" 2>/dev/null
	rm -f "$_dst_d/run/master.pid"
	return 0
}

# doveadm with the private config: dovecot_adm "CMD [SUBCMD]" ARGS... runs
# CMD [SUBCMD] -u IMAP_USER ARGS...
dovecot_adm()
{
	_da_cmd=$1
	shift
	# shellcheck disable=SC2086 # split "mailbox create" on purpose
	doveadm -c "${DOVECOT_CONF:?dovecot_start first}" $_da_cmd \
	    -u "$IMAP_USER" "$@"
}

dovecot_deliver()
{
	_dd_f=${1:?usage: dovecot_deliver FOLDER FILE...}
	shift
	if [ "$_dd_f" != INBOX ] &&
	    ! dovecot_adm "mailbox status" messages "$_dd_f" >/dev/null 2>&1
	then
		dovecot_adm "mailbox create" "$_dd_f" || return 1
	fi
	for _dd_m in "$@"; do
		dovecot_adm save -m "$_dd_f" <"$_dd_m" || {
			echo "dovecot_deliver: cannot save $_dd_m" >&2
			return 1
		}
	done
}

dovecot_deliver_dated()
{
	_ddd_f=${1:?usage: dovecot_deliver_dated FOLDER DATE FILE}
	_ddd_t=${2:?usage: dovecot_deliver_dated FOLDER DATE FILE}
	_ddd_m=${3:?usage: dovecot_deliver_dated FOLDER DATE FILE}
	if [ "$_ddd_f" = INBOX ]; then
		_ddd_d=$IMAP_DIR/mail/$IMAP_USER
	else
		_ddd_d=$IMAP_DIR/mail/$IMAP_USER/.$_ddd_f
	fi
	if [ "$_ddd_f" != INBOX ] &&
	    ! dovecot_adm "mailbox status" messages "$_ddd_f" >/dev/null 2>&1
	then
		dovecot_adm "mailbox create" "$_ddd_f" || return 1
	fi
	# Make sure the maildir exists (INBOX is created on first access).
	dovecot_adm "mailbox status" messages "$_ddd_f" >/dev/null 2>&1 ||
	    return 1
	_ddd_n="$(date +%s).M$$P$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')"
	_ddd_n="$_ddd_n.dmarc-test,S=$(wc -c <"$_ddd_m" | tr -d ' ')"
	cp "$_ddd_m" "$_ddd_d/tmp/$_ddd_n" || return 1
	touch -d "$_ddd_t" "$_ddd_d/tmp/$_ddd_n" || return 1
	if [ "$(id -u)" = 0 ]; then
		chown "$DOVECOT_UID:$DOVECOT_GID" "$_ddd_d/tmp/$_ddd_n" ||
		    return 1
	fi
	mv "$_ddd_d/tmp/$_ddd_n" "$_ddd_d/cur/$_ddd_n:2,"
}

dovecot_count()
{
	_dc_f=${1:?usage: dovecot_count FOLDER [SEARCH...]}
	shift
	[ $# -eq 0 ] && set -- ALL
	_dc_out=$(dovecot_adm search mailbox "$_dc_f" "$@") || return 1
	if [ -z "$_dc_out" ]; then
		echo 0
	else
		printf '%s\n' "$_dc_out" | wc -l | tr -d ' '
	fi
}

dovecot_lmtp()
{
	if [ ! -x /usr/lib/dovecot/lmtp ]; then
		echo "dovecot_lmtp: no LMTP server (apt-get install" \
		    "dovecot-lmtpd)" >&2
		return 1
	fi
	DOVECOT_WANT_LMTP=1
}

dovecot_skip_or_fail()
{
	echo "$*" >&2
	if [ "${CI:-}" = true ]; then
		exit 1
	fi
	exit 77
}
