"""Two phones share the load; each number always hears from the same one."""

from __future__ import annotations

from bot.sms.gateway import GatewayTransport
from bot.sms.gateway_config import GatewayConfig
from bot.sms.pool import PooledTransport
from bot.sms.transport import Accepted, OutgoingSms
from scheduler.sending import RetryLater, RetryReason
from tests.fakegateway import FakeGateway

NUMBERS = [f"+861380013{n:04d}" for n in range(40)]


def phone(fake: FakeGateway) -> GatewayTransport:
    return GatewayTransport.open(
        GatewayConfig(url=fake.base_url, user=fake.user, password=fake.password, timeout=2)
    )


async def test_numbers_spread_over_the_phones_and_stick_to_one() -> None:
    async with FakeGateway.running() as first, FakeGateway.running() as second:
        pool = PooledTransport([phone(first), phone(second)])
        try:
            for round_ in range(2):
                for n, number in enumerate(NUMBERS):
                    outcome = await pool.send(OutgoingSms(f"{round_}-{n}", number, "hi"))
                    assert isinstance(outcome, Accepted)
            assert (await pool.health()).ok
        finally:
            await pool.close()
    by_phone = [
        {tuple(m.phone_numbers) for m in fake.messages.values()} for fake in (first, second)
    ]
    assert by_phone[0] and by_phone[1]
    assert not by_phone[0] & by_phone[1]
    assert len(first.messages) + len(second.messages) == 2 * len(NUMBERS)


async def test_a_phone_that_is_down_holds_up_only_its_own_people() -> None:
    async with FakeGateway.running() as first, FakeGateway.running() as second:
        pool = PooledTransport([phone(first), phone(second)])
        try:
            async with second.down():
                outcomes = [
                    (number, await pool.send(OutgoingSms(str(n), number, "hi")))
                    for n, number in enumerate(NUMBERS)
                ]
                health = await pool.health()
        finally:
            await pool.close()
    for number, outcome in outcomes:
        if pool.phone_for(number) is pool.phones[0]:
            assert isinstance(outcome, Accepted)
        else:
            assert outcome == RetryLater(RetryReason.NETWORK)
    assert not health.ok and "phone 2: cannot connect" in health.detail
