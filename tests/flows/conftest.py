"""One temporary Prefect API and one short replay shared by every flow test in the session."""

from datetime import date

import pytest

END = date(2026, 10, 30)


@pytest.fixture(scope="session", autouse=True)
def prefect_api():
    """Run flows against a throwaway Prefect server."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(scope="session")
def replayed(tmp_path_factory, prefect_api):
    """Replay 12 sessions twice into one ledger; return (ledger url, first summary, second summary)."""
    from flows.replay import replay

    home = tmp_path_factory.mktemp("home")
    overrides = {"home": str(home)}
    first = replay(days=12, end=END, overrides=overrides)
    second = replay(days=12, end=END, overrides=overrides, artifacts=False)
    return f"sqlite:///{(home / 'ledger.db').resolve()}", first, second


@pytest.fixture(scope="session")
def sessions(replayed):
    """A session factory on the replayed ledger."""
    from tradebot.store.db import make_engine, session_factory

    return session_factory(make_engine(replayed[0]))
