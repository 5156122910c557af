"""End to end on Bluesky: `chatkeeper run` against a fake PDS (fake_pds.py,
127.0.0.1, port 0): signs in once, follows the tag with searchPosts (posts
indexed late included), fetches the thread under the first question, posts
every step exactly once as a thread (reply refs), refreshes its token before
it runs out and after an ExpiredToken answer, survives kill -9 between
intent and answer without a second post, and never writes a secret anywhere.
usage: test_bluesky.py CHATKEEPER [test names]"""
import os
import signal
import sys

sys.path.insert(0, os.path.dirname(__file__))
from ckit import SimSession, check, run_sheet, run_tests, wait_until  # noqa: E402
from fake_pds import HANDLE, FakePDS  # noqa: E402

BIN = sys.argv[1]
SPEED = 30
STEPS = ["welcome", "Q1", "Q2", "Q3", "closing"]
PASSWORD = "abcd-efgh-ijkl-mnop"


class Run(SimSession):
    def __init__(self, **pds_args):
        super().__init__(BIN, speed=SPEED, prefix="ck-bsky-", log_tail=6000,
                         env={"CK_TEST_BSKY_PW": PASSWORD})
        s = self.start_ms
        # Others' posts on the chat's clock: before the chat (in the lead),
        # during it, one indexed late (it appears 3 s of wall time after it
        # was made: a minute and a half on the chat's clock), one off-tag.
        others = [{"n": i, "at_chat_ms": s + i * 40000 - 20000,
                   "text": "Answer %d #UKLibChat" % i} for i in range(1, 9)]
        others.append({"n": 20, "at_chat_ms": s + 100000, "text": "late indexed #uklibchat",
                       "index_delay_ms": 3000})
        others.append({"n": 21, "at_chat_ms": s + 60000, "text": "no tag here"})
        self.pds = self.serve(FakePDS(start_ms=s, speed=SPEED, password=PASSWORD, others=others,
                                      **pds_args))
        self.write(run_sheet(
            "Bluesky test", s, duration="5m", questions=3, closing_at="4m",
            platform={"type": "bluesky", "base_url": self.pds.base, "handle": HANDLE,
                      "password_env": "CK_TEST_BSKY_PW"},
            facilitators=["@chatkeeper@127.0.0.1"], post=True, thread=True))

    def messages_by_id(self):
        return {m["id"]: m for m in self.messages()}

    def check_each_step_once(self):
        st = self.pds.snapshot()
        check(st["duplicate_rkey"] == 0, "a record key was sent twice to createRecord")
        check(len(self.pds.created) == len(STEPS),
              "%d records created for %d steps" % (len(self.pds.created), len(STEPS)))
        steps = self.state().get("steps", {})
        uris = []
        for k in STEPS:
            rec = steps.get(k, {})
            check(rec.get("status") == "posted", "step %s: %s" % (k, rec))
            check(rec.get("id", "").startswith("at://") and rec.get("version"),
                  "step %s has no at:// id and cid: %s" % (k, rec))
            check(rec.get("url", "").startswith("https://bsky.app/profile/"),
                  "step %s url %s" % (k, rec.get("url")))
            uris.append(rec["id"])
        check(sorted(uris) == sorted(self.pds.posts[u]["uri"] for u in uris),
              "state.json and the server disagree")
        return steps, uris

    def check_thread(self, uris):
        """Each step after the welcome replies to the one before; root: the welcome."""
        for prev, cur in zip(uris, uris[1:]):
            reply = self.pds.posts[cur]["record"].get("reply")
            check(reply is not None, "%s is not a reply" % cur)
            check(reply["parent"]["uri"] == prev, "%s replies to %s, not %s"
                  % (cur, reply["parent"]["uri"], prev))
            check(reply["root"]["uri"] == uris[0], "%s's root is not the welcome" % cur)

    def check_capture(self):
        msgs = self.messages_by_id()
        want = {u for u, v in self.pds.posts.items() if "#uklibchat" in v["record"]["text"].lower()}
        missing = want - set(msgs)
        check(not missing, "tagged posts not captured: %s" % sorted(missing))
        replies = [u for u, v in self.pds.posts.items() if "without the tag" in v["record"]["text"]]
        check(replies and all(u in msgs for u in replies),
              "the reply under Q1 (no hashtag) was not captured from the thread")
        check(not any("no tag here" in (m.get("text") or "") for m in msgs.values()),
              "an off-tag post that is no reply was captured")
        journal = self.journal()
        check(journal and all(j["platform"] == "bluesky" for j in journal),
              "journal lines not marked bluesky")

    def check_no_secret(self):
        """No password and no token in the log, the journal or any output."""
        self.log.flush()
        secrets = [PASSWORD] + self.pds.issued
        files = [self.logpath]
        for root, _, names in os.walk(self.out):
            files += [os.path.join(root, n) for n in names]
        for path in files:
            with open(path, "rb") as f:
                data = f.read()
            for sec in secrets:
                # Each token's signature part is shared; look for the payload.
                needle = sec.split(".")[1] if sec.count(".") == 2 else sec
                check(needle.encode() not in data, "a secret is in %s" % path)



def scenario(fn, **pds_args):
    with Run(**pds_args) as r:
        fn(r)


def test_bluesky_posts_follows_refreshes():
    """A whole run: each step once as a thread, the tag captured (late ones too),
    one sign-in, refreshes before the 8 s tokens run out, no secret anywhere."""
    def body(r):
        check(r.run(timeout=150) == 0, "run did not exit 0")
        _, uris = r.check_each_step_once()
        r.check_thread(uris)
        r.check_capture()
        st = r.pds.snapshot()
        check(st["createSession"] == 1, "%d sign-ins, want 1" % st["createSession"])
        check(st["refreshSession"] >= 2, "%d refreshes in a run longer than the token"
              % st["refreshSession"])
        check(st["unauthorised"] == 0, "%d requests went unsigned" % st["unauthorised"])
        check(st["expired_answers"] == 0, "%d requests carried a token that had run out"
              % st["expired_answers"])
        check(st["getPostThread"] >= 1, "no thread fetched")
        r.check_no_secret()
    scenario(body)


def test_bluesky_expired_token_answer_refreshes():
    """Tokens that claim an hour but die after 4 s: the ExpiredToken answer
    triggers a refresh (not a sign-in), and nothing is lost or doubled."""
    def body(r):
        check(r.run(timeout=150) == 0, "run did not exit 0")
        r.check_each_step_once()
        r.check_capture()
        st = r.pds.snapshot()
        check(st["expired_answers"] >= 1, "the server never answered ExpiredToken")
        check(st["refreshSession"] >= 1, "no refresh after ExpiredToken")
        check(st["createSession"] == 1, "%d sign-ins, want 1" % st["createSession"])
        r.check_no_secret()
    scenario(body, access_life_s=4, lie_about_exp=True)


def test_bluesky_kill9_between_intent_and_answer():
    """The server stores the welcome and holds its answer; the run is killed
    then. The restart looks the record up (getRecord) and does not post again."""
    def body(r):
        p = r.spawn()
        wait_until(r.pds.held.is_set, 60, "welcome sent", proc=p, required=False)
        check(r.pds.held.is_set(), "the run never sent the welcome")
        p.send_signal(signal.SIGKILL)
        p.wait()
        rec = r.state().get("steps", {}).get("welcome", {})
        check(rec.get("status") == "sending" and rec.get("key"),
              "the intent was not on disk before the send: %s" % rec)
        check(r.run(timeout=150) == 0, "the restarted run did not finish")
        r.check_each_step_once()
        check(r.state()["steps"]["welcome"]["key"] == rec["key"], "the record key changed")
        check(r.pds.snapshot()["getRecord"] >= 1, "the restart did not look the record up")
        r.check_no_secret()
    scenario(body, hold_first_creates=1)


def test_bluesky_lost_answer_is_looked_up():
    """The welcome's first send is dropped (nothing made), its second makes the
    record but answers 502, and so does Q1's first: every retry looks the
    record up first (not there, then there), so nothing is posted twice."""
    def body(r):
        check(r.run(timeout=150) == 0, "run did not exit 0")
        r.check_each_step_once()
        check(r.pds.snapshot()["getRecord"] >= 3, "the retries did not look the records up")
    scenario(body, create_faults=("drop", "lose", "lose"))


def test_bluesky_wrong_password_exits_2():
    """A refused app password is bad input: exit 2, one line naming the
    handle, one sign-in tried, the password nowhere in what was written."""
    def body(r):
        r.env["CK_TEST_BSKY_PW"] = "wrong-pass-word-0000"
        rc = r.run(timeout=60)
        check(rc == 2, "a refused password did not exit 2 (%s)" % rc)
        text = r.log_text()
        check("refused the sign-in of %s" % HANDLE in text, "no clear message: %s" % text[-400:])
        check("wrong-pass-word" not in text, "the password is in the log")
        check(r.pds.snapshot()["createSession"] == 1, "more than one sign-in tried")
    scenario(body)


if __name__ == "__main__":
    tests = [test_bluesky_posts_follows_refreshes, test_bluesky_expired_token_answer_refreshes,
             test_bluesky_kill9_between_intent_and_answer, test_bluesky_lost_answer_is_looked_up,
             test_bluesky_wrong_password_exits_2]
    sys.exit(run_tests(tests, sys.argv[2:]))
