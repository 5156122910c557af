#!/usr/bin/env python3
"""`chatkeeper check`: exit 0 and a timetable for the examples; exit 2 and one
file:line:column line on stderr for a bad file; never the token's value."""
import os
import subprocess
import sys
import tempfile

exe, root = sys.argv[1], sys.argv[2]
failures = []


def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([exe, "check", *args], capture_output=True, text=True, env=e)


def expect(cond, what):
    if not cond:
        failures.append(what)


good = os.path.join(root, "config", "uklibchat.json")
# --offline: the example names a real instance, and tests never leave loopback.
r = run("--offline", good, env={"CHATKEEPER_TOKEN": "very-secret-value"})
expect(r.returncode == 0, f"uklibchat.json: exit {r.returncode}, stderr {r.stderr!r}")
expect(r.stdout.startswith("Online networks: #uklibchat on https://glammr.us, "
                           "2026-12-03 20:00:00 GMT (Europe/London), 1h30m\n"),
       f"summary line: {r.stdout[:200]!r}")
expect("source:  mastodon:https://glammr.us: follow and post; token from $CHATKEEPER_TOKEN (set)"
       in r.stdout and "source:  bluesky:https://bsky.social: follow and post; app password from "
       "$CHATKEEPER_BSKY_PASSWORD (not set)" in r.stdout, f"token status: {r.stdout!r}")
expect("very-secret-value" not in r.stdout + r.stderr, "token value printed")
for label in ["lead start", "welcome", "Q1", "Q6", "closing", "end", "end of grace"]:
    expect(any(line.startswith(label + " ") for line in r.stdout.splitlines()),
           f"no {label} line")
expect("Q1                 +5m  2026-12-03 20:05:00 GMT     2026-12-03T20:05:00Z  How do you use"
       in r.stdout, "Q1 line")

r = run(os.path.join(root, "config", "simulator.json"))
expect(r.returncode == 0, f"simulator.json: exit {r.returncode}, stderr {r.stderr!r}")
expect("http://127.0.0.1:8765" in r.stdout, "simulator base_url")

with tempfile.TemporaryDirectory() as d:
    bad = os.path.join(d, "bad.json")
    with open(good) as f:
        text = f.read()
    with open(bad, "w") as f:
        f.write(text.replace('"duration"', '"durration"'))
    r = run(bad)
    expect(r.returncode == 2, f"bad file: exit {r.returncode}")
    expect(r.stderr == f"{bad}:7:3: field 'durration': unknown field 'durration' "
           "(did you mean 'duration'?)\n", f"bad file stderr: {r.stderr!r}")
    expect(r.stdout == "", "bad file printed a timetable")

r = run(os.path.join(root, "config", "missing.json"))
expect(r.returncode == 2 and "No such file" in r.stderr, f"missing file: {r.returncode} {r.stderr!r}")
r = run()
expect(r.returncode == 2 and "usage:" in r.stderr, "no argument")
r = run("--help")
expect(r.returncode == 0 and r.stdout.startswith("usage: chatkeeper check"), "--help")
r = run("--bogus", good)
expect(r.returncode == 2, "unknown option")

def mastodon_only(doc):
    """The example session as one Mastodon source: its first platform entry,
    and only the facilitators written as Mastodon accounts."""
    if "platforms" in doc:
        doc["platform"] = doc.pop("platforms")[0]
    doc["facilitators"] = [f for f in doc.get("facilitators", []) if "@" in f[1:]]
    return doc


# Post length: asked of a real (simulated) instance on loopback.
sys.path.insert(0, os.path.join(root, "tests", "integration"))
from ckit import Sim, now_ms  # noqa: E402
import json  # noqa: E402
sim = Sim(exe, os.path.join(root, "config", "sim", "uklibchat.chat.json"), 1, now_ms())
try:
    with tempfile.TemporaryDirectory() as d:
        doc = mastodon_only(json.load(open(good)))
        doc["platform"]["base_url"] = sim.base
        doc["questions"][1]["text"] = "é" * 480  # 480 characters, 960 bytes: fits alone
        doc["questions"][2]["text"] = "x" * 520
        path = os.path.join(d, "long.json")
        json.dump(doc, open(path, "w"))
        r = run(path)
        expect(r.returncode == 0, f"long steps: exit {r.returncode}")
        lines = [l for l in r.stderr.splitlines() if l.startswith("warning:")]
        expect(any(l.startswith("warning: Q3 is 534 characters as posted; the instance allows 500")
                   for l in lines), f"no Q3 length warning: {r.stderr!r}")
        expect(any(l.startswith("warning: Q2 is") for l in lines) is False,
               f"Q2 fits but was warned about: {r.stderr!r}")
        reqs = [q["path"] for q in sim.get("/sim/requests")]
        expect("/api/v2/instance" in reqs, f"the instance was not asked: {reqs}")
finally:
    sim.stop()

# Several sources (issue 11): each that posts is asked its limit; errors name
# file:line:column; run --dry-run shows each step per platform.
sim2 = [Sim(exe, os.path.join(root, "config", "sim", "uklibchat.chat.json"), 1, now_ms())
        for _ in range(2)]
try:
    with tempfile.TemporaryDirectory() as d:
        doc = mastodon_only(json.load(open(good)))
        del doc["platform"]
        doc["platforms"] = [
            {"type": "mastodon", "base_url": sim2[0].base, "token_env": "CHATKEEPER_TOKEN"},
            {"type": "mastodon", "base_url": sim2[1].base, "token_env": "CHATKEEPER_TOKEN",
             "name": "second"},
            {"type": "mastodon", "base_url": "https://c.example", "post": False}]
        doc["questions"][2]["text"] = "x" * 520
        path = os.path.join(d, "multi.json")
        json.dump(doc, open(path, "w"), indent=2)
        r = run(path, env={"CHATKEEPER_TOKEN": "very-secret-value"})
        expect(r.returncode == 0, f"two sources: exit {r.returncode} {r.stderr!r}")
        lines = [l for l in r.stderr.splitlines() if l.startswith("warning: Q3")]
        expect(lines == ["warning: Q3 is 534 characters as posted; the instance allows 500 "
                         f"(mastodon:{sim2[0].base})",
                         "warning: Q3 is 534 characters as posted; the instance allows 500 "
                         "(second)"], f"a Q3 warning per posting source: {r.stderr!r}")
        expect(f"source:  mastodon:{sim2[0].base}: follow and post; token from "
               "$CHATKEEPER_TOKEN (set)" in r.stdout and
               "source:  mastodon:https://c.example: follow only" in r.stdout,
               f"each source listed: {r.stdout!r}")
        for sim_ in sim2:
            reqs = [q["path"] for q in sim_.get("/sim/requests")]
            expect("/api/v2/instance" in reqs, f"{sim_.base} was not asked: {reqs}")
        dry = subprocess.run([exe, "run", path, "--dry-run"], capture_output=True, text=True,
                             env=dict(os.environ, CHATKEEPER_TOKEN="x"))
        expect(dry.returncode == 0 and "would post on 2 sources" in dry.stdout and
               dry.stdout.count(f"  on mastodon:{sim2[0].base}:\n    Q1 ") == 1 and
               dry.stdout.count("  on second:\n    Q1 ") == 1 and
               "(mastodon:https://c.example is followed, never posted to" in dry.stdout,
               f"dry run per platform: {dry.stdout[:600]!r} {dry.stderr!r}")
        # both sections: exit 2, file:line:column at "platforms"
        doc["platform"] = doc["platforms"][0]
        json.dump(doc, open(path, "w"), indent=2)
        r = run("--offline", path)
        text = open(path).read()
        line = text[:text.index('"platforms"')].count("\n") + 1
        expect(r.returncode == 2 and r.stderr.startswith(f"{path}:{line}:3: field 'platforms': "
                                                         "expected either"),
               f"platform and platforms: {r.returncode} {r.stderr!r}")
finally:
    for sim_ in sim2:
        sim_.stop()

for f in failures:
    print("FAIL:", f)
print(f"check-cli: {len(failures)} failures")
sys.exit(1 if failures else 0)
