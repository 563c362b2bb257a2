#!/bin/sh
# Install what dmarc-agent needs to build and test on Debian 12, from
# Debian's archive only.  Does nothing when everything is there already.
# The Debian package (debian/, tests/server/package.test) adds git,
# debhelper (with dh-autoreconf), dpkg-dev, fakeroot and lintian; its build
# dependencies are the libraries below (debian/control lists them too).
set -eu
pkgs="build-essential autoconf automake pkg-config
 libcurl4-openssl-dev libgmime-3.0-dev libxml2-dev libpq-dev libconfig-dev
 zlib1g-dev libarchive-dev libssl-dev libjson-c-dev libc-ares-dev libpsl-dev
 libmaxminddb-dev libsystemd-dev libopendkim-dev
 postgresql postgresql-client dovecot-imapd dovecot-core dovecot-lmtpd postfix
 openssl ca-certificates
 python3 python3-cryptography curl valgrind systemd man-db time clang libclang-rt-14-dev chromium
 unbound libmaxmind-db-writer-perl opendkim-tools python3-dkim
 git debhelper dpkg-dev fakeroot lintian"
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
	    missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: missing packages:$missing (run as root, or apt-get install them)" >&2
	exit 1
fi
echo "install-deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix installed without a configuration: the tests start their own
# (tests/lib/postfix.sh) and the system's is never set up or started.
echo "postfix postfix/main_mailer_type select No configuration" |
    debconf-set-selections
apt-get update -qq
# Package scripts may try to start the system's PostgreSQL and Dovecot on
# their default ports; our tests never use those.
apt-get install -y -qq --no-install-recommends $missing >/dev/null
