"""Named fault points for crash tests (no internal imports).

``DANVAN_FAULT=<name>`` in the environment makes the process kill itself with SIGKILL when it
reaches :func:`point` with that name, so a test can crash a real write at a chosen step instead
of guessing a moment from timings. Unset (always, outside tests), a point costs one dict lookup.

Points: ``batch.after_rows`` (score rows inserted, batch not yet committed) and
``write.before_commit:<action>`` (a write whose audit action is ``<action>``, e.g.
``scores.import``: audit entry appended, COMMIT not yet run).
"""

from __future__ import annotations

import os
import signal

ENV = "DANVAN_FAULT"


def point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
