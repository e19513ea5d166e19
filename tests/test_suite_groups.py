"""The suite's xdist groups hold: tests that share an expensive fixture run on one worker.

`make test` runs ``pytest -n 2 --dist loadgroup``; pytest 9.2 silently broke that grouping
(pytest-xdist#1386), which doubled the suite's rendering work without any test failing. Under
loadgroup this test fails if the group suffix is missing from its node id.
"""

import pytest

pytestmark = pytest.mark.xdist_group("full_curated")


def test_loadgroup_marks_reach_the_scheduler(request):
    config = request.config
    if getattr(config.option, "loadgroup", False) or config.getoption("dist", "no") == "loadgroup":
        assert request.node.nodeid.endswith("@full_curated"), request.node.nodeid
