"""End to end: `chatkeeper import` names the format of its inputs and fails
loudly when it cannot read them (issue 10, item 3).

- Each format is detected, without --platform, from real files
  (tests/fixtures/import, tests/fixtures/mastodon; and shared/data's #critlib
  twarc 1 captures when shared/ sits beside the source tree).
- A .gz file, "-" (standard input) and a gzip on standard input give the
  same session directory, byte for byte, as the plain file.
- Junk, a wrong --platform, another compressor's file and files of two
  platforms exit 2 with one line on stderr, and write nothing.
- A file that is mostly unreadable exits 2 with a summary line after the
  readable part is imported; the per-line warnings stop at 10.
- Progress: a line every 64 MB on a stderr that is not a terminal; a line
  redrawn in place on one that is.
usage: test_import_detect.py CHATKEEPER SOURCE_ROOT"""
import gzip
import json
import lzma
import os
import pty
import random
import select
import subprocess
import sys
import tempfile

from importkit import check, finish

BIN, ROOT = sys.argv[1], sys.argv[2]
FIX = os.path.join(ROOT, "tests", "fixtures")


def run(*args, stdin=None):
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def session(path, start="2021-04-01T11:45", tz="America/New_York"):
    doc = {"title": "Detect", "hashtag": "testchat", "timezone": tz, "start": start,
           "duration": "1h", "facilitators": ["@test_facil"],
           "questions": [{"at": "5m", "text": "What brought you here tonight?"}]}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f)
    return path


def read(path):
    with open(path, "rb") as f:
        return f.read()


def v1_objects(path):
    """The tweets of a twarc 1 file plus the originals they carry inside
    (retweeted_status, quoted_status) that no line of the file holds: each is
    journaled once."""
    own, inside = set(), set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            t = json.loads(line)
            own.add(t["id_str"])
            stack = [t]
            while stack:
                o = stack.pop()
                for k in ("retweeted_status", "quoted_status"):
                    if isinstance(o.get(k), dict):
                        inside.add(o[k]["id_str"])
                        stack.append(o[k])
    return len(own) + len(inside - own)


def journal_lines(out):
    return read(os.path.join(out, "journal.jsonl")).count(b"\n")


def imported(out):
    with open(os.path.join(out, "session.json"), encoding="utf-8") as f:
        return json.load(f).get("imported")


def one_line(se):
    lines = [line for line in se.split("\n") if line.strip()]
    return len(lines) == 1, lines


def test_detect(tmp, sess):
    # twarc2 files journal, after their own tweets, the included tweets they
    # point at: the page's edited tweet brings its other version, the
    # stream's quote its quoted tweet.
    cases = [
        ("twarc1.jsonl", os.path.join(FIX, "import", "twarc1.jsonl"), "twarc v1", "x", 3),
        ("twarc2 page", os.path.join(FIX, "import", "twarc2-page.jsonl"), "twarc2", "x", 2),
        ("twarc2 stream", os.path.join(FIX, "import", "twarc2-stream.jsonl"), "twarc2", "x", 4),
        ("mastodon array", os.path.join(FIX, "mastodon", "tag-timeline.response.json"),
         "Mastodon", "mastodon", 1),
    ]
    critlib = os.path.join(ROOT, "..", "shared", "data", "critlib", "mar102015.jsonl")
    if os.path.exists(critlib):
        cases.append(("#critlib twarc 1 capture", critlib, "twarc v1", "x", v1_objects(critlib)))
    else:
        print("skip the #critlib capture: no shared/ beside the source tree")
    for i, (what, path, name, platform, n) in enumerate(cases):
        out = os.path.join(tmp, f"detect{i}")
        rc, so, se = run("import", path, "--session", sess, "--out", out)
        check(rc == 0 and f"read as {name}" in so,
              f"{what}: detected as {name} without --platform (rc {rc}: {so.strip()} {se.strip()[-200:]})")
        check(rc == 0 and imported(out) == platform and journal_lines(out) == n,
              f"{what}: imported as {platform}, {n} objects journaled")
    # A chatkeeper journal is Mastodon statuses too (the object in each line).
    out = os.path.join(tmp, "detect-journal")
    rc, so, se = run("import", os.path.join(tmp, "detect3", "journal.jsonl"),
                     "--session", sess, "--out", out)
    check(rc == 0 and "read as Mastodon" in so and journal_lines(out) == 1,
          f"a chatkeeper journal is read as the Mastodon statuses in it ({rc} {se.strip()})")


def test_gzip_stdin(tmp, sess):
    plain = os.path.join(FIX, "import", "twarc2-stream.jsonl")
    data = read(plain)
    gz = os.path.join(tmp, "stream.jsonl.gz")
    with open(gz, "wb") as f:
        f.write(gzip.compress(data))
    outs = {}
    for what, args, stdin in [("plain", [plain], None), ("gz", [gz], None),
                              ("stdin", ["-"], data), ("gzip on stdin", ["-"], gzip.compress(data))]:
        out = os.path.join(tmp, "gz-" + what.replace(" ", "-"))
        rc, so, se = run("import", *args, "--session", sess, "--out", out, stdin=stdin)
        check(rc == 0, f"{what}: exits 0 ({rc}: {se.strip()[-200:]})")
        outs[what] = out
    msgs = read(os.path.join(outs["plain"], "messages.jsonl"))
    n = msgs.count(b"\n")
    # Its 3 tweets, and the older tweet the first one quotes (kept so a
    # transcript can show the quote).
    check(n == 4, f"the plain file gives 3 messages in the window and a quoted one ({n})")
    for what in ("gz", "stdin", "gzip on stdin"):
        same = all(read(os.path.join(outs[what], name)) == read(os.path.join(outs["plain"], name))
                   for name in ("journal.jsonl", "messages.jsonl", "transcript.html", "session.json"))
        check(same, f"{what}: the same session directory as the plain file, byte for byte")
    # One JSON value over many lines (a saved Mastodon page) on standard input:
    # the source holds what it read while sniffing, so no seek is needed.
    page = os.path.join(FIX, "mastodon", "tag-timeline.response.json")
    rc1, _, _ = run("import", page, "--session", sess, "--out", os.path.join(tmp, "page-file"))
    rc2, so, se = run("import", "-", "--session", sess, "--out", os.path.join(tmp, "page-stdin"),
                      stdin=gzip.compress(read(page)))
    check(rc1 == rc2 == 0 and "read as Mastodon" in so
          and read(os.path.join(tmp, "page-file", "journal.jsonl"))
          == read(os.path.join(tmp, "page-stdin", "journal.jsonl")),
          f"a pretty-printed page, gzipped on stdin, gives the file's journal ({rc2}: {se.strip()})")
    # A gzip file cut short (a capture killed as it wrote) is read up to the
    # cut, with a warning naming it; its torn last line is reported.
    cut = os.path.join(tmp, "cut.jsonl.gz")
    blob = gzip.compress(data + read(os.path.join(FIX, "import", "twarc2-page.jsonl")))
    with open(cut, "wb") as f:
        f.write(blob[:len(blob) - 200])
    out = os.path.join(tmp, "cut")
    rc, so, se = run("import", cut, "--session", sess, "--out", out)
    check(rc == 0 and "cut.jsonl.gz: the gzip file is cut short" in se
          and "cut.jsonl.gz:4: the last line is cut short" in se,
          f"a truncated gzip file: a warning naming it, the torn line reported ({rc}: {se.strip()[-300:]})")
    check(read(os.path.join(out, "journal.jsonl")) == read(os.path.join(outs["plain"], "journal.jsonl")),
          "and what came before the cut is imported")
    # Corrupt gzip data is refused, naming the file.
    bad = os.path.join(tmp, "bad.jsonl.gz")
    with open(bad, "wb") as f:
        f.write(blob[:40] + bytes(b ^ 0x55 for b in blob[40:400]) + blob[400:])
    rc, so, se = run("import", bad, "--session", sess, "--out", os.path.join(tmp, "bad"))
    check(rc == 2 and "bad.jsonl.gz: not a valid gzip file" in se and one_line(se)[0],
          f"corrupt gzip data exits 2 with one line naming the file ({rc}: {se.strip()[-300:]})")


def test_refused(tmp, sess):
    twarc1 = os.path.join(FIX, "import", "twarc1.jsonl")
    mastodon = os.path.join(FIX, "mastodon", "tag-timeline.response.json")
    rng = random.Random(10)
    junk = os.path.join(tmp, "junk.bin")
    with open(junk, "wb") as f:
        f.write(bytes(rng.randrange(256) for _ in range(200000)))
    text_junk = os.path.join(tmp, "notes.txt")
    with open(text_junk, "w", encoding="utf-8") as f:
        f.write("".join(f"line {i} of someone's notes, not JSON\n" for i in range(860)))
    xz = os.path.join(tmp, "tweets.jsonl.xz")
    with open(xz, "wb") as f:
        f.write(lzma.compress(read(twarc1)))
    cases = [
        ("random bytes", [junk], ["junk.bin", "nothing to import"]),
        ("a text file", [text_junk], ["notes.txt", "0 of its 860 lines", "860 are not JSON"]),
        ("a gzipped text file", [text_junk + ".gz"], ["notes.txt.gz", "nothing to import"]),
        ("twarc v1 with --platform mastodon", ["--platform", "mastodon", twarc1],
         ["twarc1.jsonl: 0 of 3 objects are Mastodon statuses", "twarc v1",
          "try --platform twarc"]),
        ("Mastodon with --platform twarc", ["--platform", "twarc", mastodon],
         ["0 of 1 objects are tweets", "try --platform mastodon"]),
        ("junk with --platform twarc", ["--platform", "twarc", text_junk], ["nothing to import"]),
        ("files of two platforms", [twarc1, mastodon], ["Mastodon statuses", "twarc1.jsonl"]),
        ("an xz file", [xz], ["compressed with xz"]),
    ]
    with open(text_junk + ".gz", "wb") as f:
        f.write(gzip.compress(read(text_junk)))
    for i, (what, args, needles) in enumerate(cases):
        out = os.path.join(tmp, f"refused{i}")
        rc, so, se = run("import", *args, "--session", sess, "--out", out)
        single, lines = one_line(se)
        check(rc == 2, f"{what}: exits 2 ({rc})")
        check(single and all(n in se for n in needles),
              f"{what}: one line on stderr saying {needles} ({lines[:3]})")
        check(not os.path.exists(out), f"{what}: nothing is written")


def test_mostly_bad(tmp, sess):
    good = read(os.path.join(FIX, "import", "twarc1.jsonl"))
    path = os.path.join(tmp, "mostly-bad.jsonl")
    with open(path, "wb") as f:
        f.write(good + b"\x1b]0;pwned\x07\x1b[2J\xc2\x9b31m\n")  # line 4: terminal controls
        f.write(b"".join(b'{"id_str": "torn %d", "full_te\n' % i for i in range(13)))
    out = os.path.join(tmp, "mostly")
    rc, so, se = run("import", path, "--session", sess, "--out", out)
    lines = [line for line in se.split("\n") if line.strip()]
    check(rc == 2, f"a file with 3 tweets and 14 torn lines exits 2 ({rc})")
    check(lines and "mostly-bad.jsonl: most of it could not be read" in lines[-1]
          and "14 corrupt lines" in lines[-1], f"and ends with one summary line ({lines[-1:]})")
    check(sum(":4: not JSON" in l or ":13: not JSON" in l for l in lines) == 2
          and ":14: not JSON" not in se and "counted, not shown" in se,
          f"per-line warnings stop after 10 ({len(lines)} lines)")
    check(not any(c in se for c in "\x1b\x07\x9b"), "no terminal control from the input reaches stderr")
    check(journal_lines(out) == 3 and "3 added" in so,
          f"the 3 readable tweets are imported ({so.strip()})")
    # A few bad lines among many good ones are still only warnings.
    path2 = os.path.join(tmp, "few-bad.jsonl")
    with open(path2, "wb") as f:
        f.write(good + b"not json\n")
    rc, so, se = run("import", path2, "--session", sess, "--out", os.path.join(tmp, "few"))
    check(rc == 0 and "few-bad.jsonl:4:" in se, f"one bad line in four: exit 0, reported ({rc})")


def test_progress(tmp, sess):
    tweet = read(os.path.join(FIX, "import", "twarc1.jsonl")).split(b"\n")[0] + b"\n"
    path = os.path.join(tmp, "big.jsonl")
    pad = (b" " * 1023 + b"\n") * 1024  # 1 MB of blank lines
    with open(path, "wb") as f:
        f.write(tweet)
        for _ in range(70):
            f.write(pad)
        f.write(tweet)
    rc, so, se = run("import", path, "--session", sess, "--out", os.path.join(tmp, "big"))
    prog = [line for line in se.split("\n") if "MB read" in line]
    check(rc == 0 and len(prog) == 1 and "big.jsonl: 64 of 70 MB read (91%)" in prog[0],
          f"70 MB to a pipe: one progress line, at 64 MB ({rc}: {prog})")
    small = os.path.join(FIX, "import", "twarc1.jsonl")
    rc, so, se = run("import", small, "--session", sess, "--out", os.path.join(tmp, "small"))
    check(rc == 0 and "MB read" not in se, "a small file: no progress")
    # On a terminal the line is redrawn in place and erased at the end.
    master, slave = pty.openpty()
    p = subprocess.Popen([BIN, "import", path, "--session", sess, "--out",
                          os.path.join(tmp, "big-tty")], stdout=subprocess.DEVNULL,
                         stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    got = b""
    while True:
        r, _, _ = select.select([master], [], [], 60)
        if not r:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        got += chunk
    os.close(master)
    rc = p.wait(timeout=60)
    check(rc == 0 and b"\rimport: " in got and b"MB read (" in got and got.endswith(b"\r\x1b[K"),
          f"on a terminal: redrawn with \\r and erased at the end ({rc}: {got[-120:]!r})")


def main():
    with tempfile.TemporaryDirectory(prefix="ck-detect-") as tmp:
        sess = session(os.path.join(tmp, "session.json"))
        test_detect(tmp, sess)
        test_gzip_stdin(tmp, sess)
        test_refused(tmp, sess)
        test_mostly_bad(tmp, sess)
        test_progress(tmp, sess)
    finish()


main()
