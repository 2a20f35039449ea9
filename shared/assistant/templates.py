"""Every sentence the offline assistant says, translatable.

Each message is an English msgid with named placeholders (``{event}``, ``{time}``...), marked
with :func:`N_` so ``xgettext --keyword=N_`` (or pybabel) can extract it, and translated at run
time through gettext: domain ``convergeai``, catalogs in ``resources/translations/<lang>/
LC_MESSAGES/convergeai.mo`` of the project (none yet: English is then used as is). Placeholders
are only ever filled with values from the event's data or computed from it (times, counts), never
with the attendee's words.

Answers are plain text for a kiosk screen: short sentences, lists as short lines.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from gettext import NullTranslations, translation
from pathlib import Path

DOMAIN = "convergeai"
log = logging.getLogger("convergeai.assistant")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention
    """Mark a message for extraction; translated later by :class:`Templates`."""
    return message


def translations_dir() -> Path:
    """``resources/translations`` of the project (or of a frozen bundle)."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources" / "translations"
    return Path(__file__).resolve().parents[2] / "resources" / "translations"


@cache
def catalog(lang: str) -> NullTranslations:
    """The gettext catalog of a language; NullTranslations (English msgids) when missing."""
    folder = translations_dir()
    if not folder.is_dir():
        return NullTranslations()
    try:
        return translation(DOMAIN, localedir=str(folder), languages=[lang])
    except OSError:
        return NullTranslations()


# Messages --------------------------------------------------------------------------------------

GREETING_ONE = N_(
    "Hello! I'm the assistant for {event}. Ask me about the programme, the speakers, the rooms "
    "or practical information."
)
GREETING_GROUP = N_(
    "Hello everyone! I'm the assistant for {event}. Ask me about the programme, the speakers, "
    "the rooms or practical information."
)
THANKS_ONE = N_("You're welcome! Enjoy {event}.")
THANKS_GROUP = N_("You're welcome, all of you! Enjoy {event}.")
GOODBYE_ONE = N_("Goodbye, and enjoy {event}!")
GOODBYE_GROUP = N_("Goodbye everyone, and enjoy {event}!")
HELP = N_(
    "I answer questions about {event} from its programme, its speakers and its practical "
    "information. You can ask, for example:"
)
OUT_OF_SCOPE = N_(
    "Sorry, I can only help with {event}: the programme, the speakers, the rooms and practical "
    "information."
)
SECRET = N_(
    "I can't share how I'm set up, but I'm happy to help with {event}: the programme, the "
    "speakers, the rooms and practical information."
)
PRIVACY = N_(
    "I can't share personal details about attendees, or anyone's contact details. I can tell "
    "you about the speakers, the sessions and practical information."
)
PRIVACY_GUEST = N_(
    "I can't share contact details of {name}. I can tell you about their sessions; for anything "
    "else, please ask a member of staff."
)
UNKNOWN = N_("Sorry, I don't have that information about {event}. Please ask a member of staff.")
NO_SESSION_FOUND = N_(
    "I couldn't find a session about that in the programme of {event}. Please ask a member of "
    "staff if you need more help."
)
RELATED = N_("This is what I found that may help:")
WHICH_ONE = N_("Several guests match that name. Which one do you mean?")
UNKNOWN_PERSON_ASIDE = N_("These are the speakers I know of:")

NOW_HEADER = N_("On now ({time}):")
NOW_IN_ROOM_HEADER = N_("On now in {room} ({time}):")
NOTHING_NOW = N_("Nothing is on right now ({time}).")
NOTHING_NOW_IN_ROOM = N_("Nothing is on in {room} right now ({time}).")
NEXT_HEADER = N_("Next, {day} at {time}:")
NEXT_IN_ROOM_HEADER = N_("Next in {room}, {day} at {time}:")
NOTHING_NEXT = N_("Nothing else is on the programme after that.")
NOTHING_NEXT_IN_ROOM = N_("Nothing else is planned in {room}.")
AT_TIME_HEADER = N_("{day} at {time}:")
AT_TIME_IN_ROOM_HEADER = N_("In {room}, {day} at {time}:")
NOTHING_AT_TIME = N_("Nothing is on {day} at {time}.")
NOTHING_AT_TIME_IN_ROOM = N_("Nothing is on in {room} {day} at {time}.")
PROGRAMME_OVER = N_("The programme of {event} has ended.")
PROGRAMME_STARTS = N_("The programme starts {day} at {time}.")
NO_PROGRAMME = N_("The programme of {event} has not been published here yet.")
DAY_HEADER = N_("Programme {day}:")
DAY_REST_HEADER = N_("Still to come {day}:")
DAY_NOTHING = N_("There are no sessions {day}.")
DAY_NOTHING_LEFT = N_("There is nothing else on the programme {day}.")
DAY_FIRST = N_("The first session {day} starts at {time}:")
DAY_LAST = N_("The last session {day} ends at {time}:")
DAY_FIRST_PAST = N_("The first session {day} started at {time}:")
DAY_LAST_PAST = N_("The last session {day} ended at {time}:")
ROOM_HEADER = N_("{room}, {day}:")
ROOM_NOTHING = N_("Nothing is planned in {room} {day}.")
ROOM_NOTHING_AT_ALL = N_("Nothing is planned in {room}.")
NO_DIRECTIONS = N_("I don't have directions to {room}; please ask a member of staff.")
AFTER_HEADER = N_("After {title}, {day} at {time}:")
TRACK_HEADER = N_("Sessions in the {track} track:")
TOPIC_HEADER = N_("Sessions that match:")

SESSION_WHEN = N_("{day}, {start}–{end}, {location}.")
SESSION_WHEN_NO_PLACE = N_("{day}, {start}–{end}.")
SPEAKERS = N_("Speakers: {names}.")
SPEAKER = N_("Speaker: {names}.")
MODERATED_BY = N_("Moderated by {names}.")
TRACK = N_("Track: {track}.")
SAME_TITLE = N_("{title} is on the programme more than once:")

LINE_SESSION = N_("{start}–{end} {title}")
LINE_SESSION_PLACE = N_("{start}–{end} {title} ({location})")
LINE_SESSION_DAY = N_("{day}, {start}–{end}: {title}")
LINE_SESSION_DAY_PLACE = N_("{day}, {start}–{end}: {title} ({location})")
LINE_UNTIL = N_("{title} ({location}), until {end}")
LINE_UNTIL_NO_PLACE = N_("{title}, until {end}")
LINE_PEOPLE = N_("{line} — {names}")
MORE = N_("…and {n} more.")

GUEST_HEADLINE = N_("{name} — {role}.")
GUEST_HEADLINE_BARE = N_("{name}.")
GUEST_SESSIONS = N_("On the programme:")
GUEST_NOT_ON_PROGRAMME = N_("I don't see {name} in the programme.")
GUEST_TALK = N_("{name} on the programme:")
GUEST_WHEN = N_("{name} is on the programme:")
GUEST_MODERATES = N_("{title} (moderator)")
ROLE_SPEAKER = N_("speaker")
ROLE_MODERATOR = N_("moderator")

SPEAKERS_HEADER = N_("Speakers at {event}:")
MODERATORS_HEADER = N_("Moderators and hosts at {event}:")
NO_SPEAKERS = N_("No speakers are listed for {event} yet.")
NO_MODERATORS = N_("No moderators are listed for {event}.")
GUEST_LINE = N_("{name} — {role}")

EVENT_DATES = N_("{event} runs from {start} to {end}.")
EVENT_ONE_DAY = N_("{event} takes place {day}.")
EVENT_FIRST = N_("The first session starts {day} at {time}.")
EVENT_LAST = N_("The last session ends {day} at {time}.")
EVENT_FIRST_PAST = N_("The first session started {day} at {time}.")
EVENT_LAST_PAST = N_("The last session ended {day} at {time}.")
TODAY_IS = N_("Today is {day}.")
EVENT_DAY_N = N_("It's day {n} of {total} of {event}.")
EVENT_NOT_YET = N_("{event} starts {day}.")
EVENT_OVER = N_("{event} ended {day}.")
EVENT_ABOUT = N_("{event}: {description}")
EVENT_NO_DESCRIPTION = N_("{event} runs from {start} to {end}.")

STREAM_INTERRUPTED = N_(
    "(The connection was interrupted. Here is the answer from the event information:)"
)

# Suggested questions (chips on the kiosk)
ASK_NOW = N_("What's on now?")
ASK_NEXT = N_("What's next?")
ASK_TODAY = N_("What's on today?")
ASK_WHO = N_("Who is {name}?")
ASK_TALK = N_("What is {name}'s talk about?")
ASK_SESSION = N_("When is {title}?")
ASK_TRACK = N_("Which sessions are about {track}?")
ASK_ROOM = N_("What's on in {room}?")
ASK_SPEAKERS = N_("Who is speaking?")
ASK_END = N_("When does {event} end?")
ASK_START = N_("When does {event} start?")

AND = N_("and")

_WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
_MONTHS = (
    N_("January"),
    N_("February"),
    N_("March"),
    N_("April"),
    N_("May"),
    N_("June"),
    N_("July"),
    N_("August"),
    N_("September"),
    N_("October"),
    N_("November"),
    N_("December"),
)
TODAY = N_("today")
TOMORROW = N_("tomorrow")
YESTERDAY = N_("yesterday")
ON_DAY = N_("on {weekday} {day} {month}")
DAY_DATE = N_("{weekday} {day} {month}")
DAY_DATE_YEAR = N_("{weekday} {day} {month} {year}")


class Templates:
    """Messages of one language, rendered with their placeholders filled."""

    def __init__(self, lang: str = "en") -> None:
        self.lang = lang
        self._catalog = catalog(lang)

    def __call__(self, message: str, **values: object) -> str:
        """The translated message with ``values`` in its placeholders (the English one when a
        translation's placeholders are broken: an answer is never lost to a typo in a catalog)."""
        try:
            return self._catalog.gettext(message).format(**values)
        except (KeyError, IndexError, ValueError):
            log.warning("broken %s translation of %r", self.lang, message)
            return message.format(**values)

    def plural(self, singular: str, plural: str, n: int, **values: object) -> str:
        """The singular or plural form for ``n`` (``n`` is also a placeholder)."""
        try:
            return self._catalog.ngettext(singular, plural, n).format(n=n, **values)
        except (KeyError, IndexError, ValueError):
            log.warning("broken %s translation of %r", self.lang, singular)
            return (singular if n == 1 else plural).format(n=n, **values)

    # Dates and times ---------------------------------------------------------------------------

    def clock(self, moment: datetime) -> str:
        """A local time as 14:30."""
        return f"{moment.hour:02d}:{moment.minute:02d}"

    def full_date(self, day: date, *, year: bool = False) -> str:
        """A date as 'Thursday 26 November' (with the year when asked)."""
        values = {
            "weekday": self(_WEEKDAYS[day.weekday()]),
            "day": day.day,
            "month": self(_MONTHS[day.month - 1]),
            "year": day.year,
        }
        return self(DAY_DATE_YEAR if year else DAY_DATE, **values)

    def day(self, day: date, today: date) -> str:
        """'today', 'tomorrow', 'yesterday', or 'on Thursday 26 November'."""
        delta = (day - today).days
        if delta == 0:
            return self(TODAY)
        if delta == 1:
            return self(TOMORROW)
        if delta == -1:
            return self(YESTERDAY)
        return self(
            ON_DAY,
            weekday=self(_WEEKDAYS[day.weekday()]),
            day=day.day,
            month=self(_MONTHS[day.month - 1]),
        )

    def join(self, items: Sequence[str]) -> str:
        """'A', 'A and B', 'A, B and C'."""
        items = [i for i in items if i]
        if len(items) <= 1:
            return items[0] if items else ""
        return ", ".join(items[:-1]) + f" {self(AND)} " + items[-1]

    def weekday_names(self) -> tuple[str, ...]:
        """The weekday names in this language, Monday first (folded matching is the caller's)."""
        return tuple(self(w) for w in _WEEKDAYS)


__all__ = ["DOMAIN", "N_", "Templates", "catalog", "translations_dir"]
