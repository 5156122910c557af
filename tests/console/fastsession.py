"""The console tests' rehearsal, twice as fast as it was (the suite's time).

The shipped session (15 min lead, 90 min chat, 30 min grace) at 90x took 90 s
of each console test. At SPEED (180x) with the lead doubled to 30 min, the
lead still lasts 10 s of wall clock (the controls the tests press during the
lead have as long as before), and the chat and grace take half as long.

  path = fast_session(SESSION, tmp)  # then: run path --speed SPEED"""
import json
import os

SPEED = "180"


def fast_session(session, tmp):
    """A copy of the session file in tmp whose lead is 30 minutes."""
    doc = json.load(open(session))
    doc["lead"] = "30m"
    path = os.path.join(tmp, "session-fast.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
    return path
