"""Translations: gettext catalogues per language, and locale-aware dates and times.

Catalogues are the `.po` files under `bot/locales/<locale>/LC_MESSAGES/messages.po`. They are
read directly (no compiled `.mo` to forget to rebuild): Babel parses each once per process.
Source strings are English and carry named `{placeholders}`, filled by `str.format` after
translation so a translator may move them.
"""

from __future__ import annotations

import functools
from datetime import date, datetime, time
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_datetime, format_skeleton, format_time
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

# The Translator's methods `date` and `datetime` shadow the types inside the class.
_Day = date
_Moment = datetime

LOCALES = ("en", "ko", "zh_Hans")
DEFAULT_LOCALE = "en"
LOCALE_DIR = Path(__file__).parent / "locales"
DOMAIN = "messages"
TIMES_KEPT = 4096
"""Local times kept formatted per translator (a day of doses in every zone is far fewer)."""

# Telegram sends IETF tags ("ko", "zh-hans", "zh-CN", "en-GB"); Traditional-script readers are
# offered Simplified Chinese as the nearest catalogue we ship, and can change it in /settings.
_PREFIXES = {"ko": "ko", "zh": "zh_Hans", "en": "en"}


def negotiate(language_code: str | None) -> str:
    """The catalogue to suggest for a client language tag; English when none fits."""
    if not language_code:
        return DEFAULT_LOCALE
    primary = language_code.replace("_", "-").split("-", 1)[0].lower()
    return _PREFIXES.get(primary, DEFAULT_LOCALE)


def spoken(language_code: str | None) -> str | None:
    """The catalogue for a client language tag only if we speak that language, else None."""
    if not language_code:
        return None
    return _PREFIXES.get(language_code.replace("_", "-").split("-", 1)[0].lower())


def catalogue_path(locale: str) -> Path:
    return LOCALE_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def load_catalogue(locale: str) -> Catalog:
    with catalogue_path(locale).open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN)


class Translator:
    """Translates and formats for one locale."""

    def __init__(self, locale: str, messages: dict[str, str | tuple[str, ...]]) -> None:
        self.locale = locale
        self._babel_locale = Locale.parse(locale)
        self._messages = messages
        self._times: dict[tuple[object, ...], str] = {}

    def _(self, message: str, **params: object) -> str:
        """The translation of `message` with its placeholders filled."""
        found = self._messages.get(message)
        text = found if isinstance(found, str) and found else message
        return text.format(**params) if params else text

    def ngettext(self, singular: str, plural: str, n: int, **params: object) -> str:
        """The plural form for `n`, with `{n}` and the other placeholders filled."""
        found = self._messages.get(singular)
        if isinstance(found, tuple) and all(found):
            index = self._babel_locale.plural_form(n)
            forms = found
            text = forms[min(self._plural_index(index), len(forms) - 1)]
        else:
            text = singular if n == 1 else plural
        return text.format(n=n, **params)

    def _plural_index(self, tag: str) -> int:
        # Our locales use at most two forms ("one", "other"); Korean and Chinese have one.
        return 0 if tag == "one" else 1

    def date(self, value: date, format: str = "medium") -> str:
        return format_date(value, format=format, locale=self._babel_locale)

    def time(self, value: time | datetime, format: str = "short") -> str:
        # A burst words thousands of reminders for a handful of local times, and Babel's
        # formatting is the dearest step of wording one. The zone and fold are part of the
        # key: aware datetimes that are one instant compare equal whatever their zone.
        key = (format, value, value.tzinfo, value.fold)
        found = self._times.get(key)
        if found is None:
            if len(self._times) >= TIMES_KEPT:
                self._times.clear()
            found = format_time(value, format=format, locale=self._babel_locale)
            self._times[key] = found
        return found

    def datetime(self, value: datetime, format: str = "medium") -> str:
        return format_datetime(value, format=format, locale=self._babel_locale)

    def day(self, value: _Day | _Moment) -> str:
        """A day as this locale writes it in passing: "Dec 3", "12월 3일", "12月3日"."""
        return format_skeleton("MMMd", value, locale=self._babel_locale)

    def moment(self, value: _Moment) -> str:
        """A day and a time of day in this locale's style: "Dec 3, 8:00 PM", "12월 3일 오후
        8:00", "12月3日 20:00" (not the numeric "12/3/26, 8:00 PM" for everyone)."""
        glue = str(self._babel_locale.datetime_formats.get("short", "{1} {0}"))
        return glue.format(self.time(value), self.day(value))


@functools.cache
def translator(locale: str) -> Translator:
    """The translator for a supported locale (English for anything else)."""
    if locale not in LOCALES:
        locale = DEFAULT_LOCALE
    messages: dict[str, str | tuple[str, ...]] = {}
    for entry in load_catalogue(locale):
        if not entry.id or entry.fuzzy:
            continue
        key = entry.id[0] if isinstance(entry.id, tuple | list) else entry.id
        value = entry.string
        messages[key] = tuple(value) if isinstance(value, tuple | list) else (value or "")
    return Translator(locale, messages)
