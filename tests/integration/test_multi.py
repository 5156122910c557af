"""Several sources in one session (issue 11): one run follows the hashtag on two
Mastodon instances (two simulators playing the same chat) and posts the run
sheet to both, exactly once on each, across kill -9 too; every journal line
says which source it came from; the archive has each post once, merged by its
uri where both instances saw it; one source failing does not stop the other.
usage: test_multi.py CHATKEEPER SCRIPT [TEST...]"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(__file__))
from ckit import (Sim, SimSession, check, check_steps_once, run_sheet,  # noqa: E402
                  run_tests, scenario_of)

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 30
STEPS = ["welcome", "Q1", "Q2", "Q3", "closing"]


class MultiSession(SimSession):
    def __init__(self, sims=2, sim_args=(), posts=(True, True)):
        super().__init__(BIN, speed=SPEED, prefix="ck-multi-", env={"CK_TEST_TOKEN": "test-token"},
                         log_tail=4000)
        self.sims = [self.start_sim(SCRIPT, "--seed", "5", *sim_args) for _ in range(sims)]
        self.names = [f"mastodon:{s.base}" for s in self.sims]
        self.write(run_sheet(
            "Two instances", self.start_ms, duration="6m", questions=3, closing_at="5m",
            platforms=[{"type": "mastodon", "base_url": s.base, "token_env": "CK_TEST_TOKEN",
                        "post": p} for s, p in zip(self.sims, posts)]))

    def check_each_step_once_on_each(self):
        st = self.state()
        for i, sim in enumerate(self.sims):
            key = "steps" if i == 0 else f"steps:{self.names[i]}"
            check_steps_once(sim, STEPS, st.get(key, {}))


scenario = scenario_of(MultiSession)


def uri_key(sim, status):
    """What the archive merges by: remote accounts' posts are the same post on both
    instances; a local account's post is that instance's own."""
    acct = status["account"]
    home = acct.split("@", 1)[1] if "@" in acct else sim.base
    return (home, acct.split("@", 1)[0], status["id"])


@scenario()
def test_two_instances_post_follow_and_merge(s):
    check(s.run(timeout=150) == 0, "run did not exit 0")
    s.check_each_step_once_on_each()
    journal = s.journal()
    froms = {e.get("from") for e in journal}
    check(froms == set(s.names), f"journal lines name their source: {froms}")
    # Every tagged status either instance showed in the window is in the archive,
    # once: the instances share the remote accounts' posts.
    win_lo = s.start_ms - 30000
    win_hi = s.start_ms + 7 * 60000
    want = set()
    for sim in s.sims:
        for st in sim.get("/sim/statuses"):
            if st["has_hashtag"] and win_lo <= st["chat_ms"] <= win_hi \
                    and st["visible_ms"] <= sim.get("/sim/stats")["now_ms"]:
                want.add(uri_key(sim, st))
    shared = [k for k in want if not k[0].startswith("http")]
    check(len(shared) > 5, f"the two instances share too few posts to mean anything: {len(shared)}")
    msgs = s.messages()
    keys = []
    for m in msgs:
        home, rest = m["uri"].split("/users/", 1)
        user, _, sid = rest.split("/")
        keys.append((home[len("https://"):] if home.startswith("https://") else home, user, sid))
    check(len(keys) == len(set(keys)), "a post is in the archive twice")
    check(want <= set(keys), f"posts missing from the archive: {sorted(want - set(keys))[:5]}")
    # (the rest are replies without the hashtag, fetched with the threads)
    # The run sheet went out on both: each copy of Q2 is a question post for Q2.
    qposts = [m for m in msgs if m["text"].startswith("Q2 Question number 2?")]
    check(len(qposts) == 2, f"Q2 posted on both instances: {len(qposts)}")
    check(all(m.get("questions") == [2] and m.get("assigned_by") == "question" for m in qposts),
          f"each copy of Q2 is Q2's question post: {[(m.get('questions'), m.get('assigned_by')) for m in qposts]}")
    hosts = {m["url"].split("/@")[0] for m in qposts}
    check(hosts == {sim.base for sim in s.sims}, f"the transcript can tell where each was posted: {hosts}")


@scenario()
def test_exactly_once_on_each_across_kill9(s):
    s.kill9_at_random(5, 0.3, 4.0, at_least=3)
    check(s.run(timeout=150) == 0, "the restarted run did not finish")
    s.check_each_step_once_on_each()


@scenario(posts=(True, False))
def test_one_source_failing_does_not_stop_the_other(s):
    """The second instance answers 500 to most requests: the first is followed
    and posted to as ever; nothing is posted on the second ("post": false)."""
    s.sims[1] = s.replace(s.sims[1], Sim(BIN, SCRIPT, SPEED, s.start_ms, "--seed", "5",
                                         "--faults", "0.9"))
    doc = s.doc()
    doc["platforms"][1]["base_url"] = s.sims[1].base
    s.write(doc)
    s.names[1] = f"mastodon:{s.sims[1].base}"
    rc = s.run(timeout=240)
    journal = s.journal()
    first = [e for e in journal if e.get("from") == s.names[0]]
    check(len(first) > 20, f"the healthy source was followed: {len(first)} lines")
    st = s.state()
    check(all(st.get("steps", {}).get(k, {}).get("status") == "posted" for k in STEPS),
          f"the healthy source got the run sheet: {st.get('steps')}")
    check(s.sims[1].get("/sim/stats")["posts_created"] == 0, "posted where post is false")
    check(rc in (0, 1), f"exit {rc}")


def test_rehearsal_plays_every_source_on_one_simulator():
    """run --rehearse: every source plays against the one simulator (which
    serves the chat as each platform's API); each source's run sheet is posted;
    the session directory's session.json still loads (archive rebuilds it)."""
    tmp = tempfile.mkdtemp(prefix="ck-multi-reh-")
    try:
        path = os.path.join(tmp, "session.json")
        doc = run_sheet(
            "Rehearsal on two", "2026-12-03T20:00", duration="6m", questions=3, closing_at="5m",
            platforms=[
                {"type": "mastodon", "base_url": "https://a.example", "token_env": "CK_NOPE"},
                {"type": "mastodon", "base_url": "https://b.example", "token_env": "CK_NOPE",
                 "name": "b"}],
            facilitators=["@uklibchat@a.example"])
        json.dump(doc, open(path, "w"))
        out = os.path.join(tmp, "out")
        p = subprocess.run([BIN, "run", path, "--rehearse", SCRIPT, "--speed", "30",
                            "--no-status", "--out", out], capture_output=True, text=True,
                           timeout=200)
        check(p.returncode == 0, f"rehearsal exit {p.returncode}: {p.stderr[-1500:]}")
        st = json.load(open(os.path.join(out, "state.json")))
        for key in ("steps", "steps:b"):
            check(all(st.get(key, {}).get(k, {}).get("status") == "posted" for k in STEPS),
                  f"{key}: {st.get(key)}")
        # (one simulator, one account, the same Idempotency-Key: the server
        # answers the second source's post with the first, as Mastodon would)
        a = subprocess.run([BIN, "archive", out], capture_output=True, text=True, timeout=60)
        check(a.returncode == 0, f"archive of the rehearsal: {a.returncode} {a.stderr[-500:]}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    tests = [test_two_instances_post_follow_and_merge, test_exactly_once_on_each_across_kill9,
             test_one_source_failing_does_not_stop_the_other,
             test_rehearsal_plays_every_source_on_one_simulator]
    sys.exit(run_tests(tests, sys.argv[3:]))
