"""Sessions and sign-in: signed, expiring tokens that end with access; throttling on the server, logged."""

from __future__ import annotations

import logging

import pytest

from judgekit.labeling import (
    SessionEnded,
    check_session,
    clear_lockout,
    client_address,
    cookie_name,
    end_all_sessions,
    failed_attempts,
    get_annotator,
    lockouts,
    open_session,
    reset_code,
    set_active,
    sign_in,
)
from judgekit.labeling._signin import MAX_FAILURES_PER_ANNOTATOR, MAX_FAILURES_PER_CLIENT, WINDOW_S
from judgekit.storage import Project

from .conftest import BINARY, build_project


@pytest.fixture
def project(db_url: str) -> tuple[Project, dict[str, str]]:
    p, codes = build_project(db_url, BINARY, n_items=2)
    yield p, codes
    p.close()


def _wrong(code: str) -> str:
    """The same tag (so it counts against that annotator), a wrong secret."""
    tag, secret = code.split("-")
    return f"{tag}-{'z' if secret[0] != 'z' else 'y'}{secret[1:]}"


def test_token_round_trip_survives_reopen_and_refuses_tampering(db_url: str, project: tuple) -> None:
    p, codes = project
    who = sign_in(p, codes["alice"]).annotator
    assert who is not None
    token = open_session(p, who, now=1000.0)
    assert check_session(p, token, now=1001.0).annotator.name == "alice"
    name = cookie_name(p)
    p.close()
    again = Project(db_url, create=False)  # a server restart: the secret is in the project
    assert check_session(again, token, now=1002.0).annotator.name == "alice"
    assert cookie_name(again) == name
    version, body, sig = token.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    bad_tokens = (f"{version}.{forged}.{sig}", f"{version}.{body}.{sig[::-1]}", "", "v1..", "x", f"v2.{body}.{sig}")
    for bad in bad_tokens:
        with pytest.raises(SessionEnded, match="Please sign in"):
            check_session(again, bad, now=1002.0)
    with pytest.raises(SessionEnded, match="expired"):
        check_session(again, token, now=1000.0 + 12 * 3600 + 1)
    again.close()


def test_deactivation_code_reset_and_end_all_end_sessions(project: tuple) -> None:
    p, _ = project
    alice = get_annotator(p, "alice")
    bob = get_annotator(p, "bob")
    assert alice is not None and bob is not None
    a_token, b_token = open_session(p, alice), open_session(p, bob)
    set_active(p, "alice", False)
    with pytest.raises(SessionEnded, match="deactivated"):
        check_session(p, a_token)
    set_active(p, "alice", True)
    assert check_session(p, a_token).annotator.name == "alice"  # reactivated: the same session works again
    reset_code(p, "alice")
    with pytest.raises(SessionEnded, match="reset"):
        check_session(p, a_token)
    assert check_session(p, b_token).annotator.name == "bob"  # others are untouched
    end_all_sessions(p)
    with pytest.raises(SessionEnded):
        check_session(p, b_token)


def test_throttle_per_annotator_on_the_server_logged(project: tuple, caplog: pytest.LogCaptureFixture) -> None:
    p, codes = project
    caplog.set_level(logging.WARNING, logger="judgekit.labeling.signin")
    t = 10_000.0
    for k in range(MAX_FAILURES_PER_ANNOTATOR):
        assert sign_in(p, _wrong(codes["alice"]), client="10.0.0.1", now=t + k).annotator is None
    # locked out: even the right code is refused, from any address (a new tab or browser does not help)
    refused = sign_in(p, codes["alice"], client="10.0.0.2", now=t + 10)
    assert refused.annotator is None and "locked" in refused.message and refused.locked_until == t + WINDOW_S
    assert sign_in(p, codes["bob"], client="10.0.0.1", now=t + 11).annotator is not None  # bob is not locked
    (lock,) = lockouts(p, now=t + 12)
    assert (lock.kind, lock.who, lock.failures) == ("annotator", "alice", MAX_FAILURES_PER_ANNOTATOR)
    assert "failed sign-in: annotator=alice client=10.0.0.1" in caplog.text
    assert "sign-in refused (locked out): annotator=alice" in caplog.text
    # refused attempts do not extend the lockout: it ends when the failures leave the window
    for k in range(20):
        sign_in(p, _wrong(codes["alice"]), client="10.0.0.3", now=t + 20 + k)
    assert sign_in(p, codes["alice"], now=t + WINDOW_S + 1).annotator is not None
    assert len(failed_attempts(p)) == MAX_FAILURES_PER_ANNOTATOR + 1 + 20


def test_throttle_per_client_address_and_admin_clear(project: tuple) -> None:
    p, codes = project
    t = 50_000.0
    for k in range(MAX_FAILURES_PER_CLIENT):  # random guesses: unknown tags, so no annotator is locked
        sign_in(p, f"abcdef-{k:012d}", client="192.0.2.7", now=t + k)
    assert sign_in(p, codes["bob"], client="192.0.2.7", now=t + 30).annotator is None
    assert sign_in(p, codes["bob"], client="192.0.2.8", now=t + 31).annotator is not None
    assert [(lk.kind, lk.who) for lk in lockouts(p, now=t + 32)] == [("client", "192.0.2.7")]
    assert clear_lockout(p, client="192.0.2.7") == MAX_FAILURES_PER_CLIENT + 1  # + the refused one
    assert lockouts(p, now=t + 33) == []
    assert sign_in(p, codes["bob"], client="192.0.2.7", now=t + 34).annotator is not None


def test_client_address_trusts_forwarded_for_only_from_trusted_proxies() -> None:
    assert client_address(None) == "127.0.0.1"
    assert client_address("203.0.113.9", "198.51.100.1") == "203.0.113.9"  # a forged header is ignored
    assert client_address(None, "198.51.100.1, 198.51.100.2", "127.0.0.1") == "198.51.100.2"
    assert client_address("10.1.1.1", "198.51.100.3", "10.1.1.1") == "198.51.100.3"
    assert client_address("10.1.1.1", "not-an-ip", "10.1.1.1") == "10.1.1.1"
