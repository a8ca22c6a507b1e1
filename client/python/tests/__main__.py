"""Runs the suite (python3 -m tests, from client/python): every test must
run and pass; a skipped test fails the run, so does finding no tests, and a
run that hangs is stopped with a traceback after SUITE_TIMEOUT seconds."""

import faulthandler
import os
import sys
import unittest

SUITE_TIMEOUT = float(os.environ.get("SPARROW_PYTHON_TEST_TIMEOUT", "120"))


def main() -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    faulthandler.dump_traceback_later(SUITE_TIMEOUT, exit=True)
    suite = unittest.defaultTestLoader.discover(start_dir=here, top_level_dir=os.path.dirname(here))
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    faulthandler.cancel_dump_traceback_later()
    if result.testsRun == 0:
        print("no tests ran", file=sys.stderr)
        return 1
    if result.skipped:
        print(f"{len(result.skipped)} test(s) skipped: skipped tests fail this run", file=sys.stderr)
        return 1
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
