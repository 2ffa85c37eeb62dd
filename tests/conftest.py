"""pytest set-up: import path and reproducible hypothesis profiles.

Every run is derandomized (examples derive from the test's name), so a failure
replays with the same command. ``EQUIVLAB_HYPOTHESIS=thorough`` draws more
examples (still derandomized) for a deeper local check.
"""

import os
import sys

import hypothesis

# Fixed conv lowering, so separate processes compute bit-identical results;
# tests of layers.autotune opt in with autotune.settings(enabled=True).
os.environ['EQUIVLAB_AUTOTUNE'] = '0'
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

_COMMON = dict(
    derandomize=True,
    deadline=None,
    print_blob=True,
    database=None,
    suppress_health_check=[hypothesis.HealthCheck.too_slow,
                           hypothesis.HealthCheck.differing_executors],
)
hypothesis.settings.register_profile('ci', max_examples=8, **_COMMON)
hypothesis.settings.register_profile('thorough', max_examples=200, **_COMMON)
hypothesis.settings.load_profile(os.environ.get('EQUIVLAB_HYPOTHESIS', 'ci'))
