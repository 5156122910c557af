#!/usr/bin/env python3
"""Compile a text file into a C string constant: embed.py INPUT OUTPUT NAME.
Used for the built-in write-up template, so an installed chatkeeper needs no
data files and the template in config/ is the one the program uses."""
import sys

src, dst, name = sys.argv[1:4]
data = open(src, "rb").read()
out = ['/* Generated from %s by src/publish/embed.py: do not edit. */' % src.split("/")[-1],
       '#include "chatkeeper/writeup.h"', '', 'const char %s[] =' % name]
for line in data.splitlines(keepends=True) or [b""]:
    esc = "".join(chr(b) if 32 <= b < 127 and b not in (34, 92, 63) else "\\%03o" % b for b in line)
    out.append('    "%s"' % esc)
out[-1] += ";"
open(dst, "w").write("\n".join(out) + "\n")
