#!/usr/bin/env bash
# Install the Debian 12 packages chatkeeper needs to build and test.
# Only what is missing is installed; run as root (or with sudo).
set -euo pipefail
pkgs=(gcc meson ninja-build pkg-config libuv1-dev libcurl4-openssl-dev libjansson-dev zlib1g-dev
      libxml2-dev libmicrohttpd-dev libcmocka-dev python3 ca-certificates tzdata
      python3-icalendar libcmark-dev wordpress mariadb-server php-cli php-mysql time)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
