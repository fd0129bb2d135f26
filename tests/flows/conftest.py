"""One temporary Prefect API for every flow test in the session."""

import pytest


@pytest.fixture(scope="session", autouse=True)
def prefect_api():
    """Run flows against a throwaway Prefect server."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield
