"""X live (issue 13), end to end: `chatkeeper run` follows the hashtag and posts
the run sheet on `chatkeeper simulate --x` (X's API v2 on loopback), as it does
on Mastodon (test_follow.py, test_post.py, test_multi.py share this harness):
capture loses nothing through 5xx, dropped connections, 429 with an
x-rate-limit-reset, late indexing and kill -9; every step is posted exactly
once under failing POSTs (some fail after posting) and kill -9, found again by
looking for our own post; a session on Mastodon and X at once.
usage: test_x.py CHATKEEPER SCRIPT [TEST...]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ckit import (SimSession, burn_until_429, check, check_quiet_until_reset,  # noqa: E402
                  check_steps_once, now_ms, run_sheet, run_tests, scenario_of, wait_until)

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 30
STEPS = ["welcome", "Q1", "Q2", "Q3", "closing"]
OAUTH1 = "ck-consumer:ck-consumer-secret:1234-access:access-secret"


class XSession(SimSession):
    """A session on one X simulator, or on a Mastodon simulator and an X one."""

    def __init__(self, x_args=(), post=True, oauth1=False, mastodon=False, thread=True, seed=7):
        super().__init__(BIN, speed=SPEED, prefix="ck-x-", log_tail=6000,
                         env={"CK_X_BEARER": "app-bearer", "CK_X_USER": "user-token",
                              "CK_X_OAUTH1": OAUTH1, "CK_TEST_TOKEN": "test-token"})
        extra = ("--no-host",) if post else ()
        self.x = self.start_sim(SCRIPT, "--x", "--seed", str(seed), *extra, *x_args)
        self.masto = self.start_sim(SCRIPT, "--seed", "5", *extra) if mastodon else None
        xentry = {"type": "x", "base_url": self.x.base, "token_env": "CK_X_BEARER"}
        if oauth1:
            xentry["oauth1_env"] = "CK_X_OAUTH1"
        else:
            xentry["user_token_env"] = "CK_X_USER"
        if not post:
            xentry["post"] = False
        platforms = [xentry]
        if mastodon:
            platforms.insert(0, {"type": "mastodon", "base_url": self.masto.base,
                                 "token_env": "CK_TEST_TOKEN"})
        self.names = [f"mastodon:{self.masto.base}", f"x:{self.x.base}"] if mastodon else []
        self.write(run_sheet("X test", self.start_ms, duration="6m", questions=3,
                             closing_at="5m", closing="Thanks all & see you next month <3",
                             platforms=platforms, post=post, thread=thread))

    def check_steps_once(self, sim, key):
        return check_steps_once(sim, STEPS, self.state().get(key, {}))

    def expected(self, sim):
        """Tagged statuses the simulator showed in the window (the chat's clock)."""
        lo, hi = self.start_ms - 30000, self.start_ms + 7 * 60000
        now = sim.get("/sim/stats")["now_ms"]
        return {s["id"] for s in sim.get("/sim/statuses")
                if s["has_hashtag"] and lo <= s["chat_ms"] <= hi and s["visible_ms"] <= now}

    def journal_ids(self, source=None):
        return {e["object"]["id"] for e in self.journal()
                if "object" in e and (source is None or e.get("from") == source)}


scenario = scenario_of(XSession)


@scenario(x_args=("--faults", "0.25"), post=False)
def test_x_capture_loss_free_through_faults_and_kill9(s):
    """5xx, dropped and truncated answers, late indexing, kill -9: every
    tagged tweet shown in the window is journaled, and the journal says it
    came from X."""
    s.kill9_at_random(3, 0.5, 4.0, at_least=2)
    check(s.run(timeout=240) == 0, "the restarted run did not finish")
    stats = s.x.get("/sim/stats")
    check(sum(stats["faults"].values()) > 5, f"too few faults to mean anything: {stats['faults']}")
    check(stats["faults"]["late_visible"] > 0, "no late-indexed tweet: the test means nothing")
    want, got = s.expected(s.x), s.journal_ids()
    check(len(want) > 20, f"too few tweets to mean anything: {len(want)}")
    check(want <= got, f"tweets missing from the journal: {sorted(want - got)[:5]}")
    lines = s.journal()
    check(all(e.get("platform") == "x" for e in lines if "object" in e), "journal lines name X")
    msgs = s.messages()
    check(all(m["uri"].startswith("https://x.com/i/web/status/") for m in msgs),
          "messages carry X's uri")
    log = s.log_text()
    check("app-bearer" not in log and "user-token" not in log, "a token reached the log")


@scenario(x_args=("--rate-window", "4s", "--rate-limit", "30"), post=False)
def test_x_429_waits_for_x_rate_limit_reset(s):
    """Another client of the same app burns the budget; the follower meets a
    429 and sends nothing more until x-rate-limit-reset (epoch seconds), and
    nothing is lost."""
    window = 4000
    p = s.spawn()
    # The follower is polling before the budget is burnt: its first search is
    # in the simulator's log (this run's only client until the burn).
    wait_until(lambda: any("uklibchat" in r["path"] for r in s.x.get("/sim/requests")), 30,
               "search by the follower", proc=p)
    burn_start = now_ms()

    def ours():
        return [r for r in s.x.get("/sim/requests")
                if "uklibchat" in r["path"] and r["t"] >= burn_start]

    def reset_given(e):
        check(e.headers.get("x-rate-limit-reset") is not None, "429 without a reset")

    hits = burn_until_429(s.x.base + "/2/tweets/search/recent?query=%23burn&max_results=10",
                          ours, p, window, on_429=reset_given)
    check(p.wait(240) == 0, "run did not exit 0")
    check_quiet_until_reset(hits, ours(), window)
    want, got = s.expected(s.x), s.journal_ids()
    check(want <= got, f"tweets missing from the journal: {sorted(want - got)[:5]}")


def test_x_posts_exactly_once_under_failing_posts():
    """POSTs fail (5xx before, and some after, the tweet is made; dropped
    connections): each step is posted once, in a thread, found again by our
    own recent posts where the answer was lost. Faults are random: a session
    in which no POST happened to fail proves nothing, so another is played
    (at most three; with half the requests failing, all three are clean
    about once in 30,000)."""
    for attempt in range(3):
        with XSession(x_args=("--faults", "0.5"), seed=8 + attempt) as s:
            check(s.run(timeout=240) == 0, "run did not exit 0 under faults")
            failed = [r for r in s.x.get("/sim/requests")
                      if r["method"] == "POST" and r["status"] != 201]
            steps = s.check_steps_once(s.x, "steps")
            for prev, cur in zip(STEPS, STEPS[1:]):
                check(steps[cur].get("in_reply_to_id") == steps[prev]["id"],
                      f"{cur} does not reply to {prev}")
            if not failed:
                continue
            log = s.log_text()
            check("was posted before the restart" in log or "not on the server" in log,
                  f"{len(failed)} POSTs failed but no post was looked up after a failure")
            return
    check(False, "no POST failed in three sessions: the test proves nothing")


@scenario(oauth1=True)
def test_x_posts_exactly_once_across_kill9_with_oauth1(s):
    """kill -9 at random moments (between intent and answer too): after a
    restart a step found "sending" is looked for among our own posts (the
    account from users/me, requests signed with OAuth 1.0a) and never sent
    twice."""
    s.kill9_at_random(5, 0.5, 4.0, at_least=2)
    check(s.run(timeout=240) == 0, "the restarted run did not finish")
    s.check_steps_once(s.x, "steps")
    log = s.log_text()
    check("ck-consumer-secret" not in log and "access-secret" not in log, "a key reached the log")


@scenario(mastodon=True)
def test_mastodon_and_x_in_one_session(s):
    """One session on Mastodon and X: each followed and posted to, each step
    once on each; every journal line says where it came from."""
    check(s.run(timeout=240) == 0, "run did not exit 0")
    s.check_steps_once(s.masto, "steps")
    s.check_steps_once(s.x, f"steps:{s.names[1]}")
    want_x = s.expected(s.x)
    got_x = s.journal_ids(s.names[1])
    check(want_x <= got_x, f"X tweets missing: {sorted(want_x - got_x)[:5]}")
    check(len(s.journal_ids(s.names[0])) > 20, "Mastodon was not followed")
    msgs = s.messages()
    q2 = [m for m in msgs if m["text"].startswith("Q2 Question number 2?")]
    check(len(q2) == 2, f"Q2 posted on both: {len(q2)}")
    check(any(m["url"].startswith("https://x.com/") for m in q2), "the X copy links to x.com")


def test_dry_run_says_what_x_reads_cost():
    """run --dry-run on a Mastodon + X session: the X source's read costs, from
    the session's poll intervals (lead 10m at 20 s, 1h at 5 s, grace 15m at
    20 s), and nothing for Mastodon, whose reads cost nothing."""
    tmp = tempfile.mkdtemp(prefix="ck-x-dry-")
    try:
        path = os.path.join(tmp, "session.json")
        doc = {"title": "T", "hashtag": "uklibchat", "timezone": "Europe/London",
               "start": "2027-01-05T20:00", "duration": "1h", "lead": "10m", "grace": "15m",
               "platforms": [{"type": "mastodon", "base_url": "https://m.example",
                              "token_env": "CK_NOPE"},
                             {"type": "x", "token_env": "CK_NOPE", "user_token_env": "CK_NOPE"}],
               "facilitators": ["@a@m.example"], "poll": {"chat": "5s", "quiet": "20s"},
               "welcome": {"at": "0m", "text": "Welcome"},
               "questions": [{"at": "10m", "text": "Q one?"}], "closing": {"at": "55m", "text": "Bye"}}
        json.dump(doc, open(path, "w"))
        out = subprocess.run([BIN, "run", path, "--dry-run"], capture_output=True, text=True,
                             timeout=30)
        check(out.returncode == 0, f"exit {out.returncode}: {out.stderr}")
        lines = [ln for ln in out.stdout.splitlines() if ln.startswith("reads on ")]
        check(len(lines) == 1 and "x:https://api.x.com" in lines[0], f"one X line: {lines}")
        polls = 10 * 60 // 20 + 60 * 60 // 5 + 15 * 60 // 20
        check(f"at most {polls} searches" in lines[0], lines[0])
        check("per 100 posts" in lines[0] and "read about" in lines[0], lines[0])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_rehearse_says_it_cannot_play_x():
    """run --rehearse with an X entry: exit 2 with what to do instead (the
    rehearsal's simulator speaks Mastodon's API)."""
    tmp = tempfile.mkdtemp(prefix="ck-x-reh-")
    try:
        path = os.path.join(tmp, "session.json")
        doc = {"title": "T", "hashtag": "uklibchat", "timezone": "Europe/London",
               "start": "2027-01-05T20:00", "duration": "6m", "lead": "30s", "grace": "1m",
               "platforms": [{"type": "x", "token_env": "CK_NOPE", "user_token_env": "CK_NOPE"}],
               "facilitators": ["@a"], "poll": {"chat": "1s", "quiet": "1s"},
               "welcome": {"at": "0m", "text": "Welcome"},
               "questions": [{"at": "1m", "text": "Q one?"}], "closing": {"at": "5m", "text": "Bye"}}
        json.dump(doc, open(path, "w"))
        out = os.path.join(tmp, "out")
        p = subprocess.run([BIN, "run", path, "--rehearse", SCRIPT, "--speed", "30", "--no-status",
                            "--out", out], capture_output=True, text=True, timeout=60)
        check(p.returncode == 2, f"exit {p.returncode}: {p.stderr[-800:]}")
        check("simulate SCRIPT --x" in p.stderr, p.stderr[-800:])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tests = [test_x_capture_loss_free_through_faults_and_kill9,
             test_x_429_waits_for_x_rate_limit_reset,
             test_x_posts_exactly_once_under_failing_posts,
             test_x_posts_exactly_once_across_kill9_with_oauth1,
             test_mastodon_and_x_in_one_session,
             test_dry_run_says_what_x_reads_cost,
             test_rehearse_says_it_cannot_play_x]
    sys.exit(run_tests(tests, sys.argv[3:]))
