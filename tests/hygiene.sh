#!/usr/bin/env bash
# Cheap source checks: curl's banned functions, and every exported symbol of
# the library starts with ck_ (dav1d). $1: source root, $2: the static library.
set -u
root=$1 lib=$2
bad=$(grep -nE '\b(sprintf|vsprintf|strcpy|strcat|strtok|atoi|atol|gets)\s*\(' \
      "$root"/src/*.c "$root"/src/*/*.c "$root"/include/chatkeeper/*.h || true)
if [ -n "$bad" ]; then echo "banned functions:"; echo "$bad"; exit 1; fi
syms=$(nm -g --defined-only "$lib" | awk 'NF==3 {print $3}' | grep -v '^ck_' | grep -v '^__' || true)
if [ -n "$syms" ]; then echo "exported symbols without ck_ prefix:"; echo "$syms"; exit 1; fi
n=$(nm -g --defined-only "$lib" | awk 'NF==3' | wc -l)
[ "$n" -gt 10 ] || { echo "no symbols found in $lib"; exit 1; }
echo "hygiene ok: $n exported symbols, all ck_"

# Every public header compiles on its own (dav1d): it includes what it uses.
cflags=$(pkg-config --cflags libuv libcurl jansson)
for h in "$root"/include/chatkeeper/*.h; do
    name=chatkeeper/$(basename "$h")
    if ! printf '#include "%s"\n' "$name" | cc -std=c17 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
            -Wall -Wextra -Werror -I"$root/include" $cflags -fsyntax-only -x c - ; then
        echo "header does not compile alone: $name"; exit 1
    fi
done
echo "headers ok: each compiles alone"

# Platforms are pure: their headers (and what they include) never pull in the
# event loop. cc -H lists every header a translation unit opens.
for h in platform bluesky mastodon x request ratelimit message; do
    [ -f "$root/include/chatkeeper/$h.h" ] || continue
    opened=$(printf '#include "chatkeeper/%s.h"\n' "$h" | cc -std=c17 -D_POSIX_C_SOURCE=200809L \
             -D_DEFAULT_SOURCE -I"$root/include" $cflags -E -H -x c - 2>&1 >/dev/null)
    if printf '%s\n' "$opened" | grep -qE '(^|/)(uv\.h|curl/curl\.h|chatkeeper/http\.h)$'; then
        echo "platform header drags in the loop or curl: chatkeeper/$h.h"; exit 1
    fi
done
echo "platform headers ok: no uv, no curl"

# A function is declared in one header only: a second copy of a contract
# drifts from the first (grouping.h once repeated archive_int.h's ck_grouping_*).
dups=$(for h in "$root"/include/chatkeeper/*.h "$root"/src/*/*.h; do
           grep -hoE '^[A-Za-z_][A-Za-z0-9_ *]*[ *](ck_[A-Za-z0-9_]+)\(' "$h" |
               grep -vE '^(static|typedef|return) ' |
               sed -E 's/.*[ *](ck_[A-Za-z0-9_]+)\($/\1/' | sort -u | sed "s|\$| ${h#"$root"/}|"
       done | awk '{n[$1]++; f[$1] = f[$1] " " $2} END {for (k in n) if (n[k] > 1) print k ":" f[k]}')
if [ -n "$dups" ]; then echo "functions declared in more than one header:"; echo "$dups"; exit 1; fi
echo "declarations ok: each function in one header"
