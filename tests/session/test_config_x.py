"""The X entry of a session file (issue 13, item 1): parsed and validated with
file:line:column errors, and `chatkeeper check` saying which of read and post
it can do, never printing a secret.
usage: test_config_x.py CHATKEEPER"""
import json
import os
import re
import subprocess
import sys
import tempfile

BIN = sys.argv[1]
FAILS = []
SECRET = "s3cr3tPART"


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def session(tmp, platform, post=True, questions=None, name="x.json"):
    doc = {"title": "X chat", "hashtag": "testchat", "timezone": "Europe/London",
           "start": "2027-01-14T20:00", "duration": "1h", "post": post, "platform": platform,
           "facilitators": ["@uklibchat"],
           "questions": questions or [{"at": "5m", "text": "What do you read?"}]}
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(doc, f, indent=2, ensure_ascii=False)
    return path


def check_cmd(path, env=None):
    e = {k: v for k, v in os.environ.items() if not k.startswith("XT_")}
    e.update(env or {})
    p = subprocess.run([BIN, "check", "--offline", path], capture_output=True, text=True,
                       timeout=60, env=e)
    return p.returncode, p.stdout, p.stderr


def secret_file(tmp, name, text, mode=0o600):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)
    return name


def main():
    with tempfile.TemporaryDirectory(prefix="ck-config-x-") as tmp:
        keys = secret_file(tmp, "bot.keys", f"ck:{SECRET}:at:ats\n")
        ok = session(tmp, {"type": "x", "token_env": "XT_BEARER", "oauth1_file": keys,
                           "retweets": True})
        rc, out, err = check_cmd(ok, {"XT_BEARER": SECRET})
        check(rc == 0, f"an X entry checks ({rc}: {err.strip()})")
        check("https://api.x.com" in out, "base_url defaults to https://api.x.com")
        check("x read:  yes, app bearer token from $XT_BEARER (set)" in out,
              f"check says it can read: {out!r}")
        check(re.search(r"x post:  yes, OAuth 1\.0a keys from file .*bot\.keys \(ok\)", out),
              "check says it can post with OAuth 1.0a keys")
        check("retweets: followed" in out, "check says retweets are followed")
        check(SECRET not in out + err, "no secret is printed")

        # The variable unset, the keys cut short, the file open to others.
        rc, out, err = check_cmd(ok)
        check(rc == 0 and "x read:  yes" in out and "XT_BEARER (not set)" in out,
              f"an unset variable is said ({out!r})")
        secret_file(tmp, "bot.keys", f"ck:{SECRET}:at\n")
        rc, out, err = check_cmd(ok, {"XT_BEARER": "b"})
        check(rc == 0 and "x post:  no, not now" in out and "access_token_secret is missing" in out
              and SECRET not in out, f"keys with 3 parts: which one is missing ({out!r})")
        secret_file(tmp, "bot.keys", f"ck:{SECRET}:at:ats\n", 0o644)
        rc, out, err = check_cmd(ok, {"XT_BEARER": "b"})
        check(rc == 0 and "x post:  no, not now" in out and SECRET not in out,
              f"a keys file others may read is refused ({out!r})")

        # Follow only, with the app's token: reads, cannot post.
        path = session(tmp, {"type": "x", "token_file": secret_file(tmp, "bearer", "b\n")},
                       post=False)
        rc, out, err = check_cmd(path)
        check(rc == 0 and "x read:  yes, app bearer token from file" in out and
              "x post:  no (no user_token_env or oauth1_env" in out and "left out" in out,
              f"a bearer token reads, cannot post ({rc}: {out!r} {err!r})")
        # A user token posts (and reads).
        path = session(tmp, {"type": "x", "user_token_env": "XT_USER"})
        rc, out, err = check_cmd(path, {"XT_USER": "u"})
        check(rc == 0 and "x read:  yes, with the posting credentials" in out and
              "x post:  yes, OAuth 2.0 user token from $XT_USER (set)" in out,
              f"a user token reads and posts ({rc}: {out!r} {err!r})")

        # Bad entries: exit 2, file:line:column, the field, what was expected.
        bad = [
            ({"type": "x", "token_env": "XT_B"}, True, "platform", "user_token_env"),
            ({"type": "x"}, False, "platform", "bearer token"),
            ({"type": "x", "user_token_env": "XT_U", "oauth1_env": "XT_O"}, True,
             "platform.oauth1_env", "both"),
            ({"type": "x", "token_env": "XT_B", "token_file": "f", "oauth1_env": "XT_O"}, True,
             "platform.token_file", "only one of token_env and token_file"),
            ({"type": "x", "oauth1_env": "XT_O", "streaming": True}, True, "platform.streaming",
             "unknown"),
            ({"type": "x", "oauth1_env": "XT_O", "retweets": "yes"}, True, "platform.retweets",
             "true or false"),
            ({"type": "x", "oauth1_env": "XT_O", "base_url": "http://api.x.com"}, True,
             "platform.base_url", "https://"),
            ({"type": "x", "oauth1_env": "XT O"}, True, "platform.oauth1_env",
             "environment variable"),
        ]
        for i, (platform, post, field, says) in enumerate(bad):
            path = session(tmp, platform, post=post, name=f"bad{i}.json")
            rc, out, err = check_cmd(path)
            where = re.search(rf"^(chatkeeper check: )?{re.escape(path)}:(\d+):(\d+): ", err)
            check(rc == 2 and where and field in err and says in err,
                  f"{json.dumps(platform)} post={post}: exit 2 at {field} ({rc}: {err.strip()})")

        # Weighted length: 141 CJK characters weigh 282 of X's 280.
        path = session(tmp, {"type": "x", "oauth1_env": "XT_O"},
                       questions=[{"at": "5m", "text": "\u56f3" * 141}], name="long.json")
        rc, out, err = check_cmd(path)
        check(rc == 0 and re.search(r"Q1 is \d+ characters as posted; X \(links count 23, CJK "
                                    r"and emoji 2\) allows 280", err),
              f"a step over X's weighted 280 is warned about ({err.strip()})")
        path = session(tmp, {"type": "x", "oauth1_env": "XT_O"},
                       questions=[{"at": "5m", "text": "https://example.org/" + "a" * 300}],
                       name="link.json")
        rc, out, err = check_cmd(path)
        check(rc == 0 and "allows 280" not in err, f"a long link counts 23 ({err.strip()})")
    print(f"{len(FAILS)} failed")
    sys.exit(1 if FAILS else 0)


main()
