"""The command line as a person meets it (issue 10, items 14 and 15): every
command parses options the same way, answers --help on stdout with exit 0,
says "did you mean" for a mistyped option, refuses options that conflict, and
exits 2 for bad input with one message, prefixed once, naming file:line:column
where there is a file; overrides.json is checked like the session file.
usage: test_cli.py CHATKEEPER"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
FAILS = []
COMMANDS = ["check", "run", "archive", "catchup", "publish", "import", "next", "agenda",
            "simulate", "review"]


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(*args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=60, env=e)
    return p.returncode, p.stdout, p.stderr


def expect(args, status, first_line, env=None, what=None):
    """Exit status and the exact first line of stderr; the command's prefix once."""
    rc, _, err = run(*args, env=env)
    line = err.splitlines()[0] if err else ""
    check(rc == status and line == first_line,
          f"{what or ' '.join(args)}: exit {rc} (want {status}), said {err!r}, "
          f"want {first_line!r}")
    return err


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def status(sid, minute, acct, text):
    return {
        "id": sid, "created_at": f"2026-12-04T01:{minute:02d}:00.000Z",
        "url": f"https://example.social/@{acct}/{sid}", "uri": f"https://example.social/s/{sid}",
        "content": f"<p>{text}</p>", "in_reply_to_id": None, "reblog": None,
        "media_attachments": [], "edited_at": None,
        "replies_count": 0, "reblogs_count": 0, "favourites_count": 0,
        "account": {"id": "acc-" + acct, "acct": acct, "username": acct,
                    "display_name": acct.title(), "url": f"https://example.social/@{acct}"},
    }


def make_session(tmp, name="session.json", **extra):
    """Six questions, so question 9 is out of range; no platform (imported)."""
    doc = {
        "title": "CLI test chat", "hashtag": "testchat", "timezone": "America/New_York",
        "start": "2026-12-03T20:00", "duration": "1h", "facilitators": ["@host@example.social"],
        "questions": [{"at": f"{5 + 8 * i}m", "text": f"Question number {i + 1}?"}
                      for i in range(6)],
        **extra,
    }
    path = os.path.join(tmp, name)
    write(path, json.dumps(doc, indent=2))
    return path


def make_archive(tmp, **extra):
    sess = make_session(tmp, **extra)
    data = os.path.join(tmp, "statuses.json")
    write(data, json.dumps([status("1001", 5, "host", "Q1 Question number 1? #testchat"),
                            status("1002", 7, "alice", "A1 the people #testchat"),
                            status("1003", 8, "bob", "A1 the links #testchat")]))
    out = os.path.join(tmp, "chat")
    rc, _, err = run("import", "--platform", "mastodon", data, "--session", sess, "--out", out)
    check(rc == 0, f"the fixture archive builds: {err}")
    return sess, out


def test_help():
    for c in COMMANDS:
        rc, out, err = run(c, "--help")
        check(rc == 0 and out.startswith(f"usage: chatkeeper {c}") and err == "",
              f"{c} --help: exit {rc}, stdout {out[:60]!r}, stderr {err!r}")
        check("  --help" in out, f"{c} --help lists its options")
    rc, out, _ = run("publish", "--help")
    for field in ["wordpress.url", "wordpress.password_env", "wordpress.status",
                  "micropub.endpoint", "micropub.token_file", "announce", "template",
                  "transcript_url", "see docs/session.md", '"publish": {']:
        check(field in out, f"publish --help shows the publish section: {field}")
    rc, out, _ = run("run", "--help")
    for opt in ["--observe", "--dry-run", "--rehearse SCRIPT", "--out DIR", "--speed X"]:
        check(opt in out, f"run --help lists {opt}")
    rc, out, _ = run("--help")
    check(rc == 0 and all(f"  {c} " in out for c in COMMANDS), "chatkeeper --help lists commands")


def test_options(tmp, sess, chat):
    expect(["publish", "--dryrun", chat], 2,
           "chatkeeper publish: unknown option '--dryrun' (did you mean '--dry-run'?)")
    expect(["run", sess, "--observ"], 2,
           "chatkeeper run: unknown option '--observ' (did you mean '--observe'?)")
    expect(["catchup", chat, "--no-pagr"], 2,
           "chatkeeper catchup: unknown option '--no-pagr' (did you mean '--no-pager'?)")
    expect(["check", "--offline=yes", sess], 2, "chatkeeper check: --offline takes no value")
    expect(["agenda", sess, "--frobnicate"], 2, "chatkeeper agenda: unknown option '--frobnicate'")
    expect(["run", sess, "--dry-run", "--observe"], 2,
           "chatkeeper run: --dry-run and --observe cannot be used together")
    expect(["run", sess, "--dry-run", "--rehearse", sess], 2,
           "chatkeeper run: --dry-run and --rehearse cannot be used together")
    expect(["run", sess, "--out"], 2, "chatkeeper run: --out needs a value (DIR)")
    expect(["run", sess, "--out", "a", "--out=b"], 2, "chatkeeper run: --out given twice")
    expect(["run"], 2, "chatkeeper run: missing SESSION.json")
    expect(["check", sess, sess], 2,
           f"chatkeeper check: unexpected argument '{sess}' (it takes SESSION.json)")
    expect(["next", sess, "--count", "0"], 2,
           "chatkeeper next: --count: expected a whole number from 1 to 1000, got '0'")
    expect(["catchup", chat, "--question", "x"], 2,
           "chatkeeper catchup: --question: expected a whole number from 1 to 999, got 'x'")
    expect(["chek", sess], 2, "chatkeeper: unknown command 'chek' (did you mean 'check'?)")
    # The usage line follows every usage error, the same way in every command.
    rc, _, err = run("archive", chat, "--bogus")
    check(err.splitlines()[1:] == ["usage: chatkeeper archive DIR",
                                   "('chatkeeper archive --help' lists the options)"],
          f"usage after the error: {err!r}")
    # "--" ends the options: a file named like an option is still a file.
    rc, _, err = run("check", "--offline", "--", "--not-an-option.json")
    check(rc == 2 and err == "chatkeeper check: --not-an-option.json: No such file or directory\n",
          f"after --: {rc} {err!r}")


def test_bad_input(tmp, sess, chat):
    missing = os.path.join(tmp, "nowhere")
    expect(["check", tmp], 2, f"chatkeeper check: {tmp}: is a directory, not a file")
    expect(["agenda", tmp], 2, f"chatkeeper agenda: {tmp}: is a directory, not a file")
    expect(["next", tmp], 2, f"chatkeeper next: {tmp}: is a directory, not a file")
    expect(["archive", sess], 2,
           f"chatkeeper archive: {sess}: not a directory (a session directory is wanted)")
    expect(["review", sess], 2,
           f"chatkeeper review: {sess}: not a directory (a session directory is wanted)")
    expect(["publish", missing], 2, f"chatkeeper publish: {missing}: No such file or directory")
    expect(["publish", missing, "--dry-run"], 2,
           f"chatkeeper publish: {missing}: No such file or directory")
    expect(["catchup", missing], 2, f"chatkeeper catchup: {missing}: No such file or directory")
    expect(["run", sess, "--rehearse", missing], 2,
           f"chatkeeper run: --rehearse: {missing}: No such file or directory")
    bad_script = os.path.join(tmp, "bad-script.json")
    write(bad_script, '{"hashtag": "x",\n "self": oops}')
    live = make_session(tmp, "live.json",
                        platform={"type": "mastodon", "base_url": "http://127.0.0.1:9"}, post=False)
    rc, _, err = run("run", live, "--rehearse", bad_script)
    check(rc == 2 and err.startswith(f"{bad_script}:2:") and err.count("\n") == 1,
          f"a bad rehearsal script: file:line:col, exit 2: {rc} {err!r}")
    expect(["catchup", chat, "--question", "9", "--no-pager"], 2,
           "chatkeeper catchup: no question 9 (this chat has 6)")
    # A session directory before its first outputs (a run that has just begun).
    early = os.path.join(tmp, "early")
    os.makedirs(early)
    shutil.copy(os.path.join(chat, "session.json"), early)
    write(os.path.join(early, "journal.jsonl"), "")
    expect(["catchup", early, "--no-pager"], 2,
           f"chatkeeper catchup: {early}: no messages yet: the chat has not begun or nothing was "
           f"captured so far (a running chat refreshes them about once a minute; "
           f"'chatkeeper archive {early}' builds them from the journal now)")
    # A session file error is the loader's own line, as an editor reads it.
    bad = os.path.join(tmp, "bad.json")
    write(bad, '{\n  "title": "x",\n  "hashtag": 5\n}\n')
    rc, _, err = run("agenda", bad)
    check(rc == 2 and err.startswith(f"{bad}:3:") and err.count("\n") == 1
          and "chatkeeper" not in err, f"agenda: bad session file: {rc} {err!r}")


def test_publish_password(tmp):
    d = os.path.join(tmp, "pub")
    os.makedirs(d)
    _, chat = make_archive(d, publish={"wordpress": {
        "url": "http://127.0.0.1:9", "user": "editor", "password_env": "CK_TEST_UNSET_PW"}})
    env = {"CK_TEST_UNSET_PW": ""}
    rc, out, err = run("publish", chat, "--no-platform", env=env)
    lines = err.splitlines()
    check(rc == 2, f"an unset password variable exits 2 (exit {rc}: {err!r})")
    check(len(lines) >= 1 and lines[-1].startswith("chatkeeper publish: ")
          and "environment variable CK_TEST_UNSET_PW is not set" in lines[-1]
          and lines[-1].count("publish:") == 1, f"one prefixed line: {err!r}")


def test_overrides(tmp, chat):
    ov = os.path.join(chat, "overrides.json")

    def archive_says(text, status, first_line, what):
        write(ov, text)
        return expect(["archive", chat], status, first_line, what=what)

    archive_says('{\n  "hidee": ["1002"]\n}\n', 2,
                 f"{ov}:2:3: field 'hidee': unknown field 'hidee' (did you mean 'hide'?)",
                 "overrides: unknown key")
    archive_says('{\n  "hide": ["1002",]\n}\n', 2,
                 f"{ov}:2:19: unexpected token near ']'", "overrides: bad JSON")
    archive_says('{"hide": ["1002"]', 2, f"{ov}:1:17: '}}' expected near end of file",
                 "overrides: cut short")
    # jansson says column 0 at the end of input; the file ends at line 2, column 1.
    archive_says('{"hide": ["1002"]\n', 2, f"{ov}:2:1: '}}' expected near end of file",
                 "overrides: no closing brace")
    archive_says('{\n  "move": {\n    "1002": [2, 9]\n  }\n}\n', 2,
                 f"{ov}:3:17: field 'move.1002[1]': no question 9 (the session has questions "
                 "1 to 6)", "overrides: question out of range")
    archive_says('{"move": {"1002": 3}}', 2,
                 f"{ov}:1:19: field 'move.1002': expected an array of question numbers, like "
                 "[3], got 3", "overrides: not an array")
    archive_says('{"hide": "1002"}', 2,
                 f"{ov}:1:10: field 'hide': expected an array of message ids, got \"1002\"",
                 "overrides: hide not an array")
    archive_says('{"opt_out": ["@bob", 7]}', 2,
                 f"{ov}:1:22: field 'opt_out[1]': expected a handle like @user@domain, got 7",
                 "overrides: opt_out item")
    archive_says('[]', 2, f"{ov}:1:1: expected a JSON object like {{\"move\": {{\"ID\": [3]}}, "
                 "\"hide\": [\"ID\"], \"opt_out\": [\"@user@domain\"]}", "overrides: an array")
    # Unknown ids: a warning naming file:line:column; the archive is built.
    write(ov, '{\n  "move": {"1003": [2], "4040": [1]},\n  "hide": ["1002", "9999"]\n}\n')
    rc, out, err = run("archive", chat)
    check(rc == 0, f"unknown ids do not stop the archive: {rc} {err!r}")
    check(f"{ov}:2:25: field 'move.4040': no message with id \"4040\" has been captured" in err,
          f"warning for the unknown moved id: {err!r}")
    check(f"{ov}:3:20: field 'hide[1]': no message with id \"9999\" has been captured" in err,
          f"warning for the unknown hidden id: {err!r}")
    check("1002\"" not in err and "1003\"" not in err, "known ids are not warned about")
    msgs = [json.loads(line) for line in open(os.path.join(chat, "messages.jsonl"))]
    by_id = {m["id"]: m for m in msgs}
    check(by_id.get("1003", {}).get("questions") == [2], f"the move applied: {by_id.get('1003')}")
    os.remove(ov)


def test_rehearsal_opts(sess):
    """`run` and `serve` share --speed and --poll (cli/opts.c): the same bounds
    and the same words, from one helper."""
    for cmd in ("run", "serve"):
        for bad in ("0", "0.5", "10001", "abc", "2x", ""):
            expect([cmd, sess, "--speed", bad], 2,
                   f"chatkeeper {cmd}: --speed: expected a number from 1 to 10000, got '{bad}'")
        for bad in ("5ms", "soon", "0s"):
            expect([cmd, sess, "--poll", bad], 2,
                   f"chatkeeper {cmd}: --poll: expected a duration of at least 10ms, got '{bad}'")
    for cmd in ("run", "serve"):  # the bounds themselves pass (the file is next to be read)
        rc, out, err = run(cmd, sess, "--speed", "10000", "--poll", "10ms", "--status")
        check("--speed" not in err and "--poll" not in err,
              f"{cmd} --speed 10000 --poll 10ms are accepted: {rc} {err!r}")


def main():
    tmp = tempfile.mkdtemp(prefix="ck-cli-")
    try:
        test_help()
        sess, chat = make_archive(tmp)
        test_options(tmp, sess, chat)
        test_rehearsal_opts(sess)
        test_bad_input(tmp, sess, chat)
        test_publish_password(tmp)
        test_overrides(tmp, chat)
    finally:
        if not os.environ.get("CK_KEEP_TMP"):
            shutil.rmtree(tmp, True)
    print(f"cli: {len(FAILS)} failures")
    sys.exit(1 if FAILS else 0)


main()
