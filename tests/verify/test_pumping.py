"""SMS pumping: a run of thousands of starts across one premium number range, whose codes are
never entered, is stopped after a bounded number of messages; the owner is told; people whose
codes are used are not blocked.

The service's clock (and its counters' store) moves on a minute per start, so two days of a
pumping run take seconds. The runs call the service on the app's event loop, past the HTTP
layer (tests/verify/test_api.py covers that). Every start comes from another network, as a
pumping botnet's do.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select
from starlette.testclient import TestClient

from humangate.config import Settings
from humangate.db import verify_apps
from humangate.db.models import Notification, VerifyPrefixBlock
from humangate.errors import Refusal
from humangate.messaging.outbox import read_outbox
from humangate.verify.apps import DEFAULT_PREFIX_HOURLY_CAP, AppView
from humangate.verify.service import StartRequest
from tests.app_services import ShiftedClock, services_of
from tests.console.test_units_http import make_owner, run
from tests.verify._app import SignedClient, codes_sent, make_app, shifted_clock

OWNER = "owner@shop.example"
PREMIUM = "+998901"  # one range of Uzbek mobile numbers, a common pumping target
HOURS = 50
BLOCK_HOURS = 24  # HUMANGATE_VERIFY_BLOCK_HOURS' default


def _number(rng: random.Random) -> str:
    return PREMIUM + f"{rng.randrange(10**6):06d}"


def _network(rng: random.Random) -> str:
    return f"{rng.randrange(1, 224)}.{rng.randrange(256)}.{rng.randrange(256)}.7"


def _pump(
    client: TestClient,
    signer: SignedClient,
    clock: ShiftedClock,
    *,
    starts: int,
    step: float,
    then: Callable[[str, str], object] | None = None,
    rng: random.Random | None = None,
) -> Counter[str]:
    """`starts` starts to random numbers of the range, `step` seconds apart; returns the count
    of each answer ("sent" or the refusal's code). `then(to, id)` runs after each sent code."""
    services = services_of(client)
    rng = rng or random.Random(7)

    async def work() -> Counter[str]:
        async with services.sessions() as session:
            app = await verify_apps.get_app(session, signer.app_key)
        assert isinstance(app, AppView)
        answers: Counter[str] = Counter()
        for _ in range(starts):
            request = StartRequest(to=_number(rng), channel="sms", client_ip=_network(rng))
            try:
                view, _ = await services.verify.start(app, request)
            except Refusal as refusal:
                answers[refusal.code] += 1
            else:
                answers["sent"] += 1
                if then is not None:
                    then(request.to, view.id)
            clock.offset += step
        return answers

    return client.portal.call(work)  # type: ignore[union-attr, no-any-return]


def test_a_pumping_run_is_stopped_after_a_bounded_number_of_messages(
    client: TestClient, settings: Settings
) -> None:
    owner = make_owner(client, OWNER)
    app = make_app(client, account_id=owner.account_id, countries=("CN", "UZ"))
    clock = shifted_clock(client, app)
    starts = HOURS * 60
    answers = _pump(client, app, clock, starts=starts, step=60)

    # A range sends at most its hourly cap before the monitor judges it, then is paused for a
    # day: at most one hourly cap per block period, and one more for the first.
    bound = DEFAULT_PREFIX_HOURLY_CAP * (1 + HOURS // BLOCK_HOURS)
    assert DEFAULT_PREFIX_HOURLY_CAP <= answers["sent"] <= bound, answers
    outbox = read_outbox(settings.data_dir, limit=10_000)
    assert answers["sent"] == sum(entry.to.startswith(PREMIUM) for entry in outbox)
    assert answers["prefix-blocked"] > starts * 0.9, answers
    assert set(answers) <= {"sent", "prefix-limit", "prefix-blocked"}, answers

    blocks = run(client, lambda s: s.scalars(select(VerifyPrefixBlock)))
    assert {block.prefix for block in blocks} == {PREMIUM}
    mine = select(Notification).where(Notification.account_id == owner.account_id)
    assert any(PREMIUM in notice.subject for notice in run(client, lambda s: s.scalars(mine)))
    mails = [entry for entry in read_outbox(settings.data_dir) if entry.to == OWNER]
    assert any(PREMIUM in (entry.subject or "") for entry in mails)


def test_people_who_use_their_codes_are_not_blocked(client: TestClient, settings: Settings) -> None:
    app = make_app(client, countries=("UZ",), caps={"prefix_hourly_cap": 1000})
    clock = shifted_clock(client, app)
    entered = random.Random(11)
    pending: list[tuple[str, str]] = []

    def keep(to: str, verification_id: str) -> None:
        if entered.random() < 0.9:
            pending.append((to, verification_id))

    numbers = random.Random(5)
    answers = Counter[str]()
    for _ in range(6 * 30):  # six hours, a start a minute, nine codes in ten entered
        answers += _pump(client, app, clock, starts=2, step=60, then=keep, rng=numbers)
        for to, verification_id in pending:
            (code,) = codes_sent(settings.data_dir, to)
            assert app.check(verification_id, code).json()["status"] == "approved"
        pending.clear()
    assert set(answers) == {"sent"}, answers
    assert not run(client, lambda s: s.scalars(select(VerifyPrefixBlock))).all()


def test_the_monitor_alone_stops_a_fast_run(client: TestClient) -> None:
    """With a range's hourly cap set high, the conversion monitor still stops a run of ten starts
    a minute within about twenty minutes (a bucket to fill and one to settle)."""
    app = make_app(client, countries=("UZ",), caps={"prefix_hourly_cap": 100_000})
    clock = shifted_clock(client, app)
    answers = _pump(client, app, clock, starts=60 * 10, step=6)
    assert 10 <= answers["sent"] <= 10 * 30, answers
    assert set(answers) == {"sent", "prefix-blocked"}, answers
