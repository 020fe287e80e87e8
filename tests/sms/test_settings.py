"""SMS settings: one phone or several, and refusals that say what to change."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.errors import UsageError
from bot.sms.gateway_config import Mode


def settings(**values: str) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg, arg-type]


def test_no_url_means_no_sms() -> None:
    assert settings().sms_gateways() == []


def test_several_phones_with_one_password_each() -> None:
    configs = settings(
        TBBOT_SMS_GATEWAY_URL="http://10.0.0.2:8080, http://10.0.0.3:8080",
        TBBOT_SMS_GATEWAY_PASSWORD="first,second",
    ).sms_gateways()
    assert [(c.url, c.password, c.mode) for c in configs] == [
        ("http://10.0.0.2:8080", "first", Mode.LOCAL),
        ("http://10.0.0.3:8080", "second", Mode.LOCAL),
    ]


def test_several_phones_may_share_a_password() -> None:
    configs = settings(
        TBBOT_SMS_GATEWAY_URL="http://10.0.0.2:8080,http://10.0.0.3:8080",
        TBBOT_SMS_GATEWAY_PASSWORD="same",
    ).sms_gateways()
    assert [c.password for c in configs] == ["same", "same"]


@pytest.mark.parametrize(
    ("values", "hint"),
    [
        ({"TBBOT_SMS_GATEWAY_URL": "http://10.0.0.2:8080"}, "PASSWORD is not"),
        (
            {
                "TBBOT_SMS_GATEWAY_URL": "http://a:1,http://b:1,http://c:1",
                "TBBOT_SMS_GATEWAY_PASSWORD": "x,y",
            },
            "one per URL",
        ),
        (
            {
                "TBBOT_SMS_GATEWAY_URL": "http://10.0.0.2:8080/3rdparty/v1",
                "TBBOT_SMS_GATEWAY_PASSWORD": "x",
            },
            "TBBOT_SMS_GATEWAY_MODE=server",
        ),
    ],
)
def test_settings_that_cannot_work_are_refused_with_a_hint(
    values: dict[str, str], hint: str
) -> None:
    with pytest.raises(UsageError, match=hint):
        settings(**values).sms_gateways()


def test_caps_must_leave_room_for_a_message() -> None:
    with pytest.raises(UsageError):
        settings(TBBOT_SMS_MAX_SEGMENTS="3", TBBOT_SMS_DAILY_SEGMENTS="2").sms_policy()
    assert settings(TBBOT_SMS_DAILY_SEGMENTS="9").sms_policy().daily_segments == 9


def test_secrets_never_show_in_the_settings_repr() -> None:
    shown = repr(
        settings(
            TBBOT_SMS_GATEWAY_URL="http://10.0.0.2:8080",
            TBBOT_SMS_GATEWAY_PASSWORD="hunter2",
            TBBOT_SMS_SIGNING_KEY="signkey99",
            TBBOT_SMS_PASSPHRASE="pass77",
        )
    )
    assert "hunter2" not in shown and "signkey99" not in shown and "pass77" not in shown
