#!/usr/bin/env bash
# Install the Debian 12 packages chatkeeper needs; only what is missing.
#   scripts/deps.sh          what building and running need (scripts/demo)
#   scripts/deps.sh --test   that, and what the tests need (scripts/test)
#   --list                   print the package names instead (tests/session/test_docs.py)
# Run as root (or with sudo).
#
# No service is wanted on the host: the tests start a private MariaDB and PHP's
# built-in server on loopback, so MariaDB comes as its -core packages (the
# server and client programs, no service), and while apt installs, a
# policy-rc.d forbids starting services. Debian's wordpress package (whose PHP
# files the tests serve) depends on a web server, apache2: when it comes in only
# for that, it is neither started nor enabled at boot.
set -euo pipefail

build=(gcc meson ninja-build pkg-config libuv1-dev libcurl4-openssl-dev libjansson-dev
       libxml2-dev libmicrohttpd-dev libcmark-dev zlib1g-dev libcmocka-dev python3
       ca-certificates tzdata)
build+=(libssl-dev)  # X's OAuth 1.0a signing: HMAC-SHA1 from OpenSSL's libcrypto
test=(python3-icalendar mariadb-server-core mariadb-client-core php-cli php-mysql wordpress
      time chromium clang libclang-rt-14-dev)
test+=(clang-format) # scripts/format-check
# Services that come only as dependencies of the test packages.
services=(apache2)

pkgs=("${build[@]}")
list=0
for a in "$@"; do
    case "$a" in
        --test) pkgs+=("${test[@]}") ;;
        --list) list=1 ;;
        *) echo "usage: scripts/deps.sh [--test] [--list]" >&2; exit 2 ;;
    esac
done
if [ "$list" -eq 1 ]; then
    printf '%s\n' "${pkgs[@]}"
    exit 0
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
for p in "${pkgs[@]}"; do
    installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages are installed"
    exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
fresh=()
for s in "${services[@]}"; do
    installed "$s" || fresh+=("$s")
done

# Forbid service starts during the install, unless the host already has its
# own policy (a container's, say), which is left as it is.
policy=/usr/sbin/policy-rc.d
ours=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# chatkeeper scripts/deps.sh: no service starts while it installs\nexit 101\n' |
        $SUDO tee "$policy" >/dev/null
    $SUDO chmod 755 "$policy"
    ours=1
fi
cleanup() { [ "$ours" -eq 0 ] || $SUDO rm -f "$policy"; }
trap cleanup EXIT

echo "deps: updating the package lists (apt-get update)..."
$SUDO apt-get update -qq
echo "deps: installing ${#missing[@]} packages and what they depend on: ${missing[*]}"
[ -t 1 ] && tty=1 || tty=0
# apt's own summary and one line per package set up (on a terminal, one line
# that counts); errors and warnings as apt writes them.
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
        "${missing[@]}" 2>&1 |
    awk -v tty="$tty" '
        /^[0-9]+ upgraded, [0-9]+ newly installed/ { total = $3 + $1; print "  " $0; fflush(); next }
        /^(Need to get|After this operation)/ { print "  " $0; fflush(); next }
        /^Get:/ { if (!got++) { print "  downloading..."; fflush() } next }
        /^Setting up / {
            n++
            if (tty) { printf "\r\033[K  setting up %d/%d: %s", n, total, $3; open = 1 }
            else printf "  setting up %d/%d: %s\n", n, total, $3
            fflush(); next
        }
        /^(E|W): / { if (open) printf "\n"; open = 0; print; fflush() }
        END { if (open) printf "\n" }'

for s in "${fresh[@]}"; do
    if installed "$s" && command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now --quiet "$s" 2>/dev/null || true
        echo "deps: $s came in as a dependency of wordpress; it is not running or enabled"
    fi
done
echo "deps: done"
