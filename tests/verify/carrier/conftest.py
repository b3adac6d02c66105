"""One simulator process per kind for the carrier tests, with the device's SIM set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.verify.carrier._simulators import (
    DEVICE,
    CamaraHarness,
    CnHarness,
    running_simulator,
)


@pytest.fixture(scope="module")
def camara() -> Iterator[CamaraHarness]:
    with running_simulator("camara", "--msisdn", DEVICE) as url:
        yield CamaraHarness(url)


@pytest.fixture(scope="module")
def cn() -> Iterator[CnHarness]:
    with running_simulator("cn-onetap", "--msisdn", DEVICE) as url:
        yield CnHarness(url)
