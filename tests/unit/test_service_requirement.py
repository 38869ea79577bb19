"""The CI switch that turns an unreachable service from a skip into a failure."""

from __future__ import annotations

import pytest

from tests.support.services import REQUIRE_SERVICES_ENV, service_unavailable, tcp_reachable


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        pytest.param("1", pytest.fail.Exception, id="ci-fails"),
        pytest.param("true", pytest.fail.Exception, id="ci-fails-true"),
        pytest.param("", pytest.skip.Exception, id="local-skips"),
        pytest.param("0", pytest.skip.Exception, id="explicit-off-skips"),
    ],
)
def test_unreachable_service_outcome(
    monkeypatch: pytest.MonkeyPatch, value: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setenv(REQUIRE_SERVICES_ENV, value)
    with pytest.raises(outcome, match="redis is not reachable"):
        service_unavailable("redis", "connection refused")


def test_tcp_reachable_reports_a_closed_port() -> None:
    # Port 1 on loopback is never served in these environments.
    reason = tcp_reachable("127.0.0.1", 1, timeout=0.5)
    assert reason is not None
    assert "127.0.0.1:1" in reason
