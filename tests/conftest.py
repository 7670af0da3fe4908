"""Suite-wide guards: no test can reach the internet or a paid API by accident."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.pg_server import SKIP_ENV, PostgresServer

# Generated tests (hypothesis): bounded and reproducible in the suite; JUDGEKIT_FUZZ_EXAMPLES=5000 for a long hunt.
settings.register_profile(
    "judgekit",
    max_examples=int(os.environ.get("JUDGEKIT_FUZZ_EXAMPLES", "60")),
    deadline=None,  # the machine is shared: no timing in tests
    derandomize=not os.environ.get("JUDGEKIT_FUZZ_EXAMPLES"),
    database=None,  # nothing written into the checkout
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
settings.load_profile("judgekit")

_real_connect = socket.socket.connect


def _loopback_only(self: socket.socket, address: Any) -> Any:
    host = address[0] if isinstance(address, tuple) else None
    if host is not None and self.family in (socket.AF_INET, socket.AF_INET6):
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise ConnectionRefusedError(f"tests may only connect to loopback addresses, not {host}")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network_no_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refuse non-loopback connections and remove real provider credentials from the environment."""
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)
    for var in (
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "OPENAI_BASE_URL",
        "ANTHROPIC_BASE_URL",
        "JUDGEKIT_DB",
        *CLOUD_CREDENTIALS,
    ):
        monkeypatch.delenv(var, raising=False)
    # nor the machine's own cloud logins: no AWS profile or instance role, no gcloud application-default login
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/judgekit-tests/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/judgekit-tests/aws-credentials")
    monkeypatch.setenv("CLOUDSDK_CONFIG", "/nonexistent/judgekit-tests/gcloud")
    monkeypatch.setenv("NO_GCE_CHECK", "true")
    yield


CLOUD_CREDENTIALS = (
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_AD_TOKEN",
    "AZURE_OPENAI_ENDPOINT",
    "OPENAI_API_VERSION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_BEARER_TOKEN_BEDROCK",
    "ANTHROPIC_BEDROCK_BASE_URL",
    "CLOUD_ML_REGION",
    "ANTHROPIC_VERTEX_PROJECT_ID",
    "ANTHROPIC_VERTEX_BASE_URL",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "GOOGLE_CLOUD_PROJECT",
    "GOOGLE_OAUTH_ACCESS_TOKEN",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
)
"""Cloud providers' credentials and settings (Azure, Bedrock, Vertex, Gemini), removed for every test."""


BACKENDS = ("sqlite", "postgresql")
"""Every storage engine a project can live in; tests of storage, import/export, labeling and the app run on each."""


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server for the whole session (started on first use, removed at the end)."""
    if os.environ.get(SKIP_ENV) == "1":
        pytest.skip(f"{SKIP_ENV}=1: PostgreSQL tests skipped")
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The storage engine under test: ``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
def new_db_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Callable[[], str]:
    """Makes new, empty project locations on the engine under test: file paths in ``tmp_path``, or schemas of
    their own on the session's PostgreSQL server."""
    if backend == "sqlite":
        counter = iter(range(1_000_000))
        return lambda: str(tmp_path / f"project{next(counter) or ''}.db")
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.fresh_url


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    """A new, empty project location on the engine under test. Pass it wherever ``--db`` or a ``Project`` path
    goes."""
    return new_db_url()


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Streamlit's AppTest runs the app script as ``__main__`` and leaves it in ``sys.modules``; a fork server
    started later (judge worker processes) would then re-run the app in every worker. Restore the real one."""
    import sys

    main = sys.modules.get("__main__")
    yield
    if main is not None:
        sys.modules["__main__"] = main
