#!/usr/bin/env python3
"""Runs every e2e test (e2e/test_*.py), or the files matching the patterns
given (`run.py 'test_*mtls*.py' test_pod_mesh.py`), and prints a closing
'e2e: N passed, N failed' line."""

import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


class TimedResult(unittest.TextTestResult):
    """Records how long each test file (module) takes, for the summary."""

    durations = {}

    def startTest(self, test):
        self._started = time.time()
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        module = type(test).__module__
        self.durations[module] = self.durations.get(module, 0.0) + time.time() - self._started


def main():
    patterns = sys.argv[1:] or ["test_*.py"]
    suite = unittest.TestSuite(
        unittest.defaultTestLoader.discover(HERE, pattern=pattern) for pattern in patterns)
    started = time.time()
    result = unittest.TextTestRunner(verbosity=2, resultclass=TimedResult).run(suite)
    # Class setup/teardown time is not inside a test; what is left is shown apart.
    print("e2e durations (tests only, seconds):")
    for module, seconds in sorted(TimedResult.durations.items(), key=lambda kv: -kv[1]):
        print("  %7.1f  %s.py" % (seconds, module))
    print("  %7.1f  total wall time" % (time.time() - started))
    failed = len(result.failures) + len(result.errors)
    skipped = len(result.skipped)
    passed = result.testsRun - failed - skipped
    print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
