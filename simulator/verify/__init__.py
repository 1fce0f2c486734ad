"""The model against a real engine: deploy, dial every probe, compare, clean up.

    session.py       one verification run
    observe.py       dial the probes and record who answered
    compare.py       expected against observed: a pure diff
    report.py        the comparison as text or JSON
    junit.py         the comparison as JUnit XML
    intent_check.py  the design's intent judged against the model and the engine
"""

__all__ = ["compare", "intent_check", "junit", "observe", "report", "session"]
