"""The slice a node reserves: the configured size for a quiet account, two seconds of a busy
account's pace, never more than MAX_FACTOR slices."""

from __future__ import annotations

from humangate.billing.pace import BUSY_CHARGES, LEAD_SECONDS, MAX_FACTOR, SlicePace


def _charged(pace: SlicePace, account: int, times: int, price: int, *, start: float) -> None:
    """`times` charges of `price` spread over one second from `start`."""
    for n in range(times):
        pace.count(account, price, now=start + n / times)


def test_a_quiet_account_keeps_the_configured_slice() -> None:
    pace = SlicePace(1000)
    assert pace.slice_for(1, 3) == 1000
    assert pace.slice_for(1, 5000) == 5000  # never less than one price
    _charged(pace, 1, BUSY_CHARGES - 1, 50, start=0.0)
    pace.count(1, 50, now=1.0)  # the window closes with fewer than BUSY_CHARGES charges
    assert pace.slice_for(1, 50) == 1000


def test_a_busy_account_gets_two_seconds_of_its_pace() -> None:
    pace = SlicePace(1000)
    _charged(pace, 1, 4000, 1, start=0.0)
    assert pace.slice_for(1, 1) == 1000  # nothing is known before a window has closed
    pace.count(1, 1, now=1.0)
    assert pace.slice_for(1, 1) == int(4000 * LEAD_SECONDS)
    assert pace.slice_for(2, 1) == 1000  # per account


def test_the_pace_falls_back_after_a_quiet_window_and_is_capped() -> None:
    pace = SlicePace(10)
    _charged(pace, 1, 1000, 7, start=0.0)
    pace.count(1, 7, now=1.0)
    assert pace.slice_for(1, 7) == 10 * MAX_FACTOR  # 14 000 asked, 640 at most
    pace.count(1, 7, now=5.0)  # one charge in four seconds
    assert pace.slice_for(1, 7) == 10
