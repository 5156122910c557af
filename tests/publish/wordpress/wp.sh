#!/usr/bin/env bash
# A throwaway WordPress for the publish tests, from Debian's packages:
#   wp.sh start ROOT [plain|pretty]   install in ROOT (a fresh folder), start, print the URL
#   wp.sh stop ROOT                   stop what start started (by PID), leave files
# Everything lives in ROOT: MariaDB's data and socket (no TCP), a private
# docroot (Debian's wp-config.php only reads /etc/wordpress, so we bring our
# own and copy the rest; only wp-includes is a symlink, which is safe), and
# PHP's built-in server on a free loopback port. After start, ROOT holds
# url, editor.pw (an application password for "editor") and reader.pw (one
# for "reader", a subscriber who may not write posts).
set -euo pipefail
cmd=${1:?usage: wp.sh start|stop ROOT [plain|pretty]}
root=$(cd "${2:?ROOT}" && pwd)
PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")" && pwd)

gone() { # pid: exited (a zombie waiting for its parent to reap it counts as gone)
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
    case "$st" in Z*|"") return 0 ;; *) return 1 ;; esac
}

stop_pid() { # pid: TERM, wait up to 10 s, then KILL
    local pid=$1
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 100); do gone "$pid" && return 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
}

if [ "$cmd" = stop ]; then
    if [ -f "$root/php.pid" ]; then
        # PHP_CLI_SERVER_WORKERS forks workers that outlive a killed parent:
        # stop each worker by its PID, then the parent.
        parent=$(cat "$root/php.pid")
        for w in $(ps -o pid= --ppid "$parent" 2>/dev/null); do stop_pid "$w"; done
        stop_pid "$parent"
        rm -f "$root/php.pid"
    fi
    if [ -f "$root/db.pid" ]; then
        stop_pid "$(cat "$root/db.pid")"
        rm -f "$root/db.pid"
    fi
    exit 0
fi
[ "$cmd" = start ] || { echo "wp.sh: unknown command $cmd" >&2; exit 2; }
# On failure, say where, show the servers' own words (the end of the logs of
# the step that failed: each step names its own in $logs), then stop what
# was started.
logs=
show_logs() {
    local f
    for f in $logs; do
        [ -s "$root/$f" ] || continue
        echo "--- the last lines of $root/$f:" >&2
        tail -n 20 "$root/$f" >&2
    done
}
die() { # status message...: why start cannot go on; stop what was started
    local rc=$1
    shift
    trap - ERR
    echo "wp.sh: $*" >&2
    show_logs
    "$0" stop "$root"
    exit "$rc"
}
trap 'rc=$?; die "$rc" "start failed (line $LINENO, exit $rc)"' ERR
permalinks=${3:-plain}
for p in mariadbd mariadb-install-db mariadb php; do
    command -v "$p" >/dev/null || { echo "wp.sh: $p not found (scripts/deps.sh installs it)" >&2; exit 3; }
done
[ -f /usr/share/wordpress/wp-settings.php ] || { echo "wp.sh: Debian's wordpress package is not installed" >&2; exit 3; }

# MariaDB: private data folder, socket only.
# A private tmpdir too: installs running side by side otherwise collide on
# MariaDB's temporary table names in /tmp.
mkdir -p "$root/db" "$root/tmp"
sock="$root/db.sock"
logs=db-install.log
# No name lookups anywhere (the socket is all we use): a machine whose
# /etc/hosts lacks localhost makes mariadb-install-db's resolveip check fail
# ("Neither host ... nor 'localhost' could be looked up"); --force skips that
# check and --skip-name-resolve keeps grants and the server to IP addresses.
# WP_SH_MARIADBD_OPTS: extra server options (the tests break the start with it).
mariadb-install-db --no-defaults --force --skip-name-resolve --datadir="$root/db" \
    --user="$(id -un)" --tmpdir="$root/tmp" \
    --auth-root-authentication-method=socket >"$root/db-install.log" 2>&1
# shellcheck disable=SC2086 # the extra options are words on purpose
setsid mariadbd --no-defaults --user="$(id -un)" --datadir="$root/db" --tmpdir="$root/tmp" --skip-networking \
    --skip-name-resolve --socket="$sock" --pid-file="$root/db.pid.mariadb" --log-error="$root/db.err" \
    ${WP_SH_MARIADBD_OPTS:-} </dev/null >"$root/db-server.log" 2>&1 &
echo $! >"$root/db.pid"
logs="db-server.log db.err"
db_up=
for _ in $(seq 300); do
    [ -S "$sock" ] && mariadb --no-defaults --socket="$sock" -u"$(id -un)" -e 'select 1' >/dev/null 2>&1 &&
        { db_up=1; break; }
    gone "$(cat "$root/db.pid")" && break
    sleep 0.1
done
[ -n "$db_up" ] || die 1 "MariaDB did not start (its log says why)"
mariadb --no-defaults --socket="$sock" -u"$(id -un)" -e \
    "CREATE DATABASE wp; CREATE USER 'wp'@'localhost' IDENTIFIED BY 'wp'; GRANT ALL ON wp.* TO 'wp'@'localhost';"

# Docroot: copies, our config, a must-use plugin that keeps WordPress quiet.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
doc="$root/docroot"
mkdir -p "$doc"
find /usr/share/wordpress -maxdepth 1 -type f -name '*.php' ! -name wp-config.php -exec cp {} "$doc/" \;
cp -r /usr/share/wordpress/wp-admin "$doc/"
cp -rL /usr/share/wordpress/wp-content "$doc/"
ln -s /usr/share/wordpress/wp-includes "$doc/wp-includes"
mkdir -p "$doc/wp-content/mu-plugins"
cp "$here/ck-test-quiet.php" "$doc/wp-content/mu-plugins/"
salt() { python3 -c 'import secrets; print(secrets.token_hex(32))'; }
cat >"$doc/wp-config.php" <<PHP
<?php
define('DB_NAME', 'wp');
define('DB_USER', 'wp');
define('DB_PASSWORD', 'wp');
define('DB_HOST', 'localhost:$sock');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
\$table_prefix = 'wp_';
define('AUTH_KEY', '$(salt)');
define('SECURE_AUTH_KEY', '$(salt)');
define('LOGGED_IN_KEY', '$(salt)');
define('NONCE_KEY', '$(salt)');
define('AUTH_SALT', '$(salt)');
define('SECURE_AUTH_SALT', '$(salt)');
define('LOGGED_IN_SALT', '$(salt)');
define('NONCE_SALT', '$(salt)');
define('WP_HOME', '$url');
define('WP_SITEURL', '$url');
define('WP_ENVIRONMENT_TYPE', 'local'); // application passwords over plain http
define('DISABLE_WP_CRON', true);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
define('WP_CONTENT_DIR', __DIR__ . '/wp-content');
define('WP_DEBUG', false);
if (!defined('ABSPATH')) define('ABSPATH', __DIR__ . '/');
require_once ABSPATH . 'wp-settings.php';
PHP
logs=install.log
php "$here/install.php" "$doc" "$root" "$port" "$permalinks" >"$root/install.log" 2>&1

# PHP's server, several workers (REST calls can overlap), all output to a file.
PHP_CLI_SERVER_WORKERS=4 setsid php -S "127.0.0.1:$port" -t "$doc" \
    </dev/null >"$root/php.log" 2>&1 &
echo $! >"$root/php.pid"
logs=php.log
php_up=
for _ in $(seq 300); do
    curl -s -o /dev/null "$url/?rest_route=/" && { php_up=1; break; }
    gone "$(cat "$root/php.pid")" && break
    sleep 0.1
done
[ -n "$php_up" ] || die 1 "PHP's server did not answer on $url (its log says why)"
echo "$url" >"$root/url"
echo "$url"
