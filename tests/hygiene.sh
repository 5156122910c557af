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
