"""What the README and docs/ promise a newcomer, held to the code: every field
the session parser accepts is documented in docs/session.md, its examples are
valid session files, the README's links lead somewhere, and the demo installs
only what building and running need (the test servers come with scripts/test).
usage: test_docs.py CHATKEEPER SOURCE_ROOT [test names]"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

BIN, ROOT = sys.argv[1], sys.argv[2]
DOC = os.path.join(ROOT, "docs", "session.md")


def read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def parser_fields():
    """Every name in the parsers' tables of known fields (and known values)."""
    names = set()
    for src in ("src/session/config.c", "src/session/series_file.c"):
        for table in re.findall(r"static const char \*const \w+\[\] = \{(.*?)\};", read(src), re.S):
            names.update(re.findall(r'"([^"]+)"', table))
    return names


def test_every_session_field_is_documented():
    fields = parser_fields()
    assert {"title", "archive_dir", "publish", "password_env", "transcript_url", "quiet",
            "rule"} <= fields, sorted(fields)  # the tables were found
    doc = read("docs", "session.md")
    missing = sorted(f for f in fields if f"`{f}`" not in doc)
    assert not missing, f"fields the parser accepts but docs/session.md does not name: {missing}"


def test_session_examples_are_valid():
    blocks = re.findall(r"```json\n(.*?)```", read("docs", "session.md"), re.S)
    assert len(blocks) >= 6, len(blocks)
    tmp = tempfile.mkdtemp(prefix="ck-docs-")
    try:
        checked = 0
        for i, block in enumerate(blocks):
            doc = json.loads(block)  # every example is JSON
            if "platform" not in doc and "platforms" not in doc:
                continue  # an import's session: no live platform to check against
            path = os.path.join(tmp, f"example{i}.json")
            with open(path, "w", encoding="utf-8") as f:
                f.write(block)
            r = subprocess.run([BIN, "check", "--offline", path], capture_output=True, text=True)
            assert r.returncode == 0, (block, r.stdout, r.stderr)
            checked += 1
        assert checked >= 5, checked
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_readme_links_lead_somewhere():
    readme = read("README.md")
    assert "docs/session.md" in readme, "the README links the session file's documentation"
    for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", readme):
        if "://" not in target:
            assert os.path.exists(os.path.join(ROOT, target)), f"README links {target}"
    # Files named in prose, e.g. "the order of evidence in docs/design.md".
    for name in re.findall(r"(?<![\w./-])([\w./-]+\.md)(?![\w.])", readme):
        if "/" in name or name.isupper() or name[:-3].isupper():
            assert os.path.exists(os.path.join(ROOT, name)), f"README names {name}"
    for doc in ("session.md", "design.md"):
        for target in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", read("docs", doc)):
            if "://" not in target:
                assert os.path.exists(os.path.join(ROOT, "docs", target)), (doc, target)


def test_demo_installs_no_test_servers():
    deps = os.path.join(ROOT, "scripts", "deps.sh")
    run = subprocess.run([deps, "--list"], capture_output=True, text=True, check=True)
    build = run.stdout.split()
    full = subprocess.run([deps, "--test", "--list"], capture_output=True, text=True,
                          check=True).stdout.split()
    servers = re.compile(r"^(wordpress|mariadb|mysql|php|apache2|nginx|lighttpd)")
    assert not [p for p in build if servers.match(p)], build
    assert set(build) <= set(full), set(build) - set(full)
    assert {"wordpress", "php-cli", "mariadb-server-core"} <= set(full), full
    # MariaDB's server and client programs, not the package that runs a service.
    assert "mariadb-server" not in full and "default-mysql-server" not in full, full
    assert "zlib1g-dev" in build, build
    # What apt would bring in with the build list (when apt's lists are here).
    if shutil.which("apt-cache"):
        r = subprocess.run(["apt-cache", "depends", "--recurse", "--no-recommends",
                            "--no-suggests", "--no-conflicts", "--no-breaks", "--no-replaces",
                            "--no-enhances", *build], capture_output=True, text=True)
        pulled = {line.strip("<> ") for line in r.stdout.splitlines()
                  if line and not line.startswith(" ")}
        if r.returncode == 0 and len(pulled) > len(build):
            bad = sorted(p for p in pulled if servers.match(p))
            assert not bad, f"the demo's packages pull {bad}"


if __name__ == "__main__":
    names = sys.argv[3:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("ok", name)
