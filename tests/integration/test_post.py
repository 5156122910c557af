"""End to end: `chatkeeper run` posts the run sheet on the simulator, on time and
exactly once, under POST faults and across kill -9 at random moments.
usage: test_post.py CHATKEEPER SCRIPT [test names]"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from ckit import (SimSession, check, check_steps_once, run_sheet, run_tests,  # noqa: E402
                  scenario_of)

BIN, SCRIPT = sys.argv[1], sys.argv[2]
SPEED = 30
STEPS = ["welcome", "Q1", "Q2", "Q3", "Q4", "Q5", "closing"]


class PostSession(SimSession):
    def __init__(self, sim_args=(), thread=False, publish=None):
        super().__init__(BIN, speed=SPEED, prefix="ck-post-",
                         env={"CK_TEST_TOKEN": "test-token", "CK_TEST_MP_TOKEN": "mp-secret-token"})
        self.sim = self.start_sim(SCRIPT, *sim_args)
        doc = run_sheet("Posting test", self.start_ms, duration="8m", questions=5,
                        closing_at="7m", post=True, thread=thread,
                        platform={"type": "mastodon", "base_url": self.sim.base,
                                  "token_env": "CK_TEST_TOKEN"})
        if publish is not None:
            doc["publish"] = publish
        self.write(doc)

    def posted(self):
        return [s for s in self.sim.get("/sim/statuses") if s["posted"]]

    def check_each_step_once(self):
        return check_steps_once(self.sim, STEPS, self.state().get("steps", {}))


scenario = scenario_of(PostSession)


@scenario(thread=True)
def test_posts_on_time_in_a_thread(s):
    check(s.run() == 0, "run did not exit 0")
    steps = s.check_each_step_once()
    delays = [steps[k]["delay_ms"] for k in STEPS]
    check(max(delays) < 1000, f"a step went out more than 1 s late: {delays}")
    captured = {m["id"] for m in s.messages()}
    check({steps[k]["id"] for k in STEPS} <= captured, "our own posts are missing from the archive")
    by_id = {p["id"]: p for p in s.posted()}
    for prev, cur in zip(STEPS, STEPS[1:]):
        check(by_id[steps[cur]["id"]]["in_reply_to_id"] == steps[prev]["id"],
              f"{cur} does not reply to {prev}")


@scenario(sim_args=("--faults", "0.35", "--seed", "11"))
def test_posts_exactly_once_under_faults(s):
    check(s.run(timeout=180) == 0, "run did not exit 0 under faults")
    s.check_each_step_once()
    faults = s.sim.get("/sim/stats")["faults"]
    check(sum(faults.values()) > 3, f"too few faults to mean anything: {faults}")


@scenario()
def test_posts_exactly_once_across_kill9(s):
    s.kill9_at_random(5, 0.3, 4.0, at_least=3)
    check(s.run() == 0, "the restarted run did not finish")
    s.check_each_step_once()


def test_run_publishes_at_the_end():
    """A session with a publish section publishes its write-up when run ends."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "publish"))
    from pubkit import Micropub
    mp = Micropub()
    with PostSession(publish={"micropub": {"endpoint": mp.endpoint,
                                           "token_env": "CK_TEST_MP_TOKEN"}}) as s:
        s.serve(mp)
        check(s.run() == 0, "run did not exit 0")
        check(not mp.problems, f"the Micropub endpoint saw bad requests: {mp.problems}")
        check(len(mp.posts) == 1, f"{len(mp.posts)} posts published, want 1")
        html = mp.requests[-1]["json"]["properties"]["content"][0]["html"]
        check("Question number 3?" in html, "the write-up lacks the questions")
        st = s.state()
        check(st.get("phase") == "done", f"phase {st.get('phase')}")
        check(st["published"]["micropub"]["url"].startswith(mp.endpoint.rsplit("/", 1)[0]),
              f"published url not recorded: {st.get('published')}")
        for f in ("writeup.md", "writeup.html", "transcript.html", "summary.json"):
            check(os.path.exists(os.path.join(s.out, f)), f"{f} missing")


if __name__ == "__main__":
    tests = [test_posts_on_time_in_a_thread, test_posts_exactly_once_under_faults,
             test_posts_exactly_once_across_kill9, test_run_publishes_at_the_end]
    sys.exit(run_tests(tests, sys.argv[3:]))
