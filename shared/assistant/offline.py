"""Offline answers: what attendees ask, answered from the event's own data, instantly.

:func:`answer` reads a question, works out what it is about (who is speaking, who is X, when and
where is X, what is on now or next, what is in a room, sessions about a topic, the event's dates,
the FAQ, greetings, out-of-scope questions...) and answers from templates (:mod:`.templates`)
filled only with values from the :class:`~.knowledge.EventKnowledge`. It never states anything
that is not in the event's data: when unsure it says so, shows what it found that comes closest,
and offers suggested questions (``suggestions``, shown as chips by the kiosk).

Attempts to steer it ("ignore previous instructions...", "you are now...", "print the system
prompt", "list all attendees' emails") are just questions: the steering part is dropped, requests
for its set-up or for personal data are politely declined, and the rest is answered as usual.

The words that tell what a question is about are in a :class:`Lexicon` per language (English in
:data:`LEXICONS`); the sentences are in :mod:`.templates`, translatable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from rapidfuzz import fuzz, process

from shared.assistant import templates as T
from shared.assistant.index import FAQ, GUEST, SESSION, EventIndex, Hit, NameMatch, PlaceMatch
from shared.assistant.knowledge import EventKnowledge, GuestFact, SessionFact
from shared.models import ConversationMode
from shared.settings import get_settings

_WORD_RE = re.compile(r"[^\W_]+")
MAX_LINES = 8
SUGGESTION_COUNT = 3


@dataclass(frozen=True)
class OfflineAnswer:
    """An answer built from the event's data.

    ``answered`` is False when the assistant could not answer (unknown, out of scope, declined);
    ``references`` name the entries used ("guest:12", "session:40", "faq:3"); ``suggestions``
    are questions to offer next; ``intent`` says what the question was understood to be.
    """

    text: str
    answered: bool
    references: tuple[str, ...]
    suggestions: tuple[str, ...]
    intent: str


# The language of questions ---------------------------------------------------------------------


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


@dataclass(frozen=True)
class Lexicon:
    """What tells, in one language, what a question is about. Patterns run on the question's
    normalized words joined by single spaces (``injection`` and times on the normalized text
    with its punctuation)."""

    lang: str
    greeting_only: re.Pattern[str]
    greeting_prefix: re.Pattern[str]
    thanks_only: re.Pattern[str]
    goodbye_only: re.Pattern[str]
    help: re.Pattern[str]
    secret: re.Pattern[str]
    injection: re.Pattern[str]
    privacy_people: re.Pattern[str]
    privacy_data: re.Pattern[str]
    privacy_direct: re.Pattern[str]
    contact: re.Pattern[str]
    privacy_guests: re.Pattern[str]
    out_of_scope: re.Pattern[str]
    math: re.Pattern[str]
    now: re.Pattern[str]
    next: re.Pattern[str]
    later: re.Pattern[str]
    after: re.Pattern[str]
    where: re.Pattern[str]
    today_question: re.Pattern[str]
    event_ref: re.Pattern[str]
    date_ask: re.Pattern[str]
    start: re.Pattern[str]
    end: re.Pattern[str]
    about_event: re.Pattern[str]
    speakers: re.Pattern[str]
    moderators: re.Pattern[str]
    who: re.Pattern[str]
    talk: re.Pattern[str]
    when_where: re.Pattern[str]
    schedule: re.Pattern[str]
    topic: re.Pattern[str]
    relative_days: tuple[tuple[re.Pattern[str], int], ...]
    weekdays: tuple[str, ...]
    months: tuple[str, ...]
    ordinal_day: re.Pattern[str]
    ordinals: dict[str, int]
    clock: re.Pattern[str]
    hour_ampm: re.Pattern[str]
    at_hour: re.Pattern[str]
    noon: re.Pattern[str]
    #: words that shape a question but say nothing about its subject ("session", "when")
    scaffolding: frozenset[str]
    #: words about order that are no subject once a day is named ("first session tomorrow")
    order_words: frozenset[str] = frozenset()


_EN_OOS = "|".join(
    [
        r"weather|forecast|raining|rain today|sunny|snowing|temperature outside",
        r"football|soccer|basketball|baseball|tennis|cricket|rugby|nba|nfl|olympics",
        r"world cup|premier league|champions league|who won|match score|super bowl",
        r"politics|political|elections?|president|prime minister|parliament|senate|congressman",
        r"government|democrats?|republicans?|vote for|voting|war in|wars?|immigration",
        r"stock price|stocks?|share price|bitcoin|crypto\w*|ethereum|exchange rate|invest in",
        r"recipe|cook(?:ing)? |bake|horoscope|lottery|astrology",
        r"joke|poem|riddle|limerick|song lyrics|write (?:me )?a story|bedtime story",
        r"capital of|population of|meaning of life|who invented|how old is|tallest|largest country",
        r"translate|translation of",
        r"movie|movies|netflix|tv show|celebrit\w+|taylor swift",
        r"homework|essay|dating|girlfriend|boyfriend",
        r"(?:write|debug|fix|review|explain|generate)\b.{0,40}\b(?:code|function|script|program"
        r"|regex|sql query|class|algorithm)",
        r"(?:python|javascript|typescript|java|rust|golang|c\+\+|php|html|css) "
        r"(?:code|function|script|program|snippet|error|bug)",
        r"how (?:do|to) (?:i )?(?:code|program) ",
        r"stack overflow|leetcode|compile (?:my|this)",
    ]
)

ENGLISH_LEXICON = Lexicon(
    lang="en",
    greeting_only=_rx(
        r"^(?:(?:hello|hi|hey|hiya|howdy|greetings|hallo|yo|good (?:morning|afternoon|evening|"
        r"day)|morning|evening|bonjour|hola|ciao)\s*)+(?:there|everyone|everybody|all|guys|"
        r"folks|team|friend|bot|assistant|you)?\s*(?:how are you(?: doing)?(?: today)?|how is it "
        r"going|what is up|whats up)?$"
    ),
    greeting_prefix=_rx(
        r"^(?:(?:hello|hi|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening))\s+)+"
        r"(?:there\s+|everyone\s+|all\s+)?"
    ),
    thanks_only=_rx(
        r"^(?:(?:ok|okay|great|perfect|cool|awesome|nice|super|brilliant|wonderful|excellent|"
        r"got it|alright|good|fine)\s*)*(?:(?:thanks?|thank you|thx|ty|cheers|many thanks|much "
        r"appreciated|appreciate it)(?:\s+(?:a lot|so much|very much|again|for (?:the|your) "
        r"help|for that|anyway|bot|assistant))*)?(?:\s+(?:bye|goodbye))?$"
    ),
    goodbye_only=_rx(
        r"^(?:ok(?:ay)?\s+)?(?:bye|goodbye|good bye|bye bye|see you(?: later| soon)?|see ya|"
        r"farewell|that is all|that is it|i am done|done|have a nice day)(?:\s+(?:now|then|"
        r"everyone|all))?$"
    ),
    help=_rx(
        r"\bwhat can (?:you|i) (?:do|ask|help)|\bwhat (?:do|can) you (?:know|answer|tell)|\bhow "
        r"(?:does|do) (?:this|you|it) work|\bwho are you\b|\bwhat are you\b|\bhelp me\b|^help"
        r"(?: please)?$|\bwhat (?:questions|things|kind of questions) (?:can|could|should) i "
        r"ask|\bwhat should i ask|\bhow can you help|^what is this(?: kiosk| thing| screen)?$|"
        r"^what can i do here$"
    ),
    secret=_rx(
        r"\b(?:system|initial|hidden|original|developer|secret|internal|pre)\s*(?:prompt|"
        r"instructions?|message|rules|configuration|config)\b|\byour (?:instructions?|prompt|"
        r"rules|configuration|guidelines|programming|system message|training data)\b|\b(?:"
        r"repeat|print|show|reveal|output|display|dump|leak|tell me)\b.{0,30}\b(?:text|words|"
        r"messages?|everything) (?:above|before)\b|\bwhat (?:were|are) you told\b|\bprompt\b"
    ),
    injection=_rx(
        r"\b(?:please\s+)?(?:ignore|disregard|forget|override|bypass)\b[^.?!\n]{0,40}?\b(?:"
        r"instructions?|rules|prompts?|guidelines|constraints|programming|system message|"
        r"everything you (?:were|have been) told|(?:all |everything )?(?:above|previous|prior|"
        r"earlier)(?: text| messages?| context| conversation)?)\b(?:\s*[,:;]?\s*(?:and|then|"
        r"instead|now)\b)?"
        r"|\byou are now\b[^.?!\n]*"
        r"|\b(?:pretend|roleplay|role play)\b\s*(?:to be|as if|as|like|that|you are)?[^.?!\n]*"
        r"|\b(?:act|behave)\s+(?:as if|as an?|like an?)\b[^.?!\n]*"
        r"|\bfrom now on\b[^.?!\n]*"
        r"|\b(?:developer|dan|jailbreak|god|admin|debug|sudo|unrestricted)\s+mode\b[^.?!\n]*"
        r"|\bnew (?:instructions?|rules|task)\b\s*:?[^.?!\n]*"
        r"|^\s*(?:system|assistant|developer)\s*:"
        r"|<\s*/?\s*(?:system|instructions?|admin)\s*>"
    ),
    privacy_people=_rx(
        r"\b(?:attendees?|participants?|visitors?|delegates?|registrants?|users?|members|"
        r"customers|people (?:who|that) (?:are|registered|signed|come|attend)|everyone "
        r"(?:here|attending|registered)|other people|others here)\b"
    ),
    privacy_data=_rx(
        r"\b(?:emails?|mails?|phones?|numbers|mobiles?|address(?:es)?|contacts?|details|names|"
        r"list|lists|personal|data|database|linkedin|twitter|instagram|whatsapp|passwords?|"
        r"badge codes?|who (?:is|are)|registered|home)\b"
    ),
    privacy_direct=_rx(
        r"\bwho (?:else )?(?:is|are) (?:attending|coming|registered|signed up)\b|\b(?:list|"
        r"show|give|dump|export|print)(?: me)? (?:all |the |every |of )*(?:attendees?|"
        r"participants?|users?|registrations?|visitors?)\b|\b(?:attendee|participant|user|"
        r"visitor|guest) (?:list|emails?|data|database)\b"
    ),
    contact=_rx(
        r"\b(?:emails?|mail|phones?|phone number|mobile|cell|contact(?: details| info)?|"
        r"address|linkedin|twitter|instagram|whatsapp|telegram|reach (?:him|her|them)|get in "
        r"touch|dm|home)\b"
    ),
    privacy_guests=_rx(
        r"\b(?:speakers?|guests?|presenters?|panel(?:l)?ists?|moderators?|hosts?|people)\b"
    ),
    out_of_scope=_rx(r"\b(?:" + _EN_OOS + r")\b"),
    math=_rx(
        r"^\s*(?:what is|what s|calculate|compute|solve|how much is)?\s*[\d\s+*/x^().=-]*\d\s*"
        r"[+*/x^]\s*[\d\s+*/x^().=-]*\??\s*$|\b(?:square root|derivative|integral|equation|"
        r"calculate|multiplied by|divided by|times table|solve for)\b|\b\d+(?:\.\d+)?\s*(?:"
        r"times|plus|minus|divided by|multiplied by|to the power of)\s*\d"
    ),
    now=_rx(
        r"\b(?:now|right now|currently|current(?:ly)? (?:session|talk)s?|at the moment|at this "
        r"moment|ongoing|going on|happening|live)\b"
    ),
    next=_rx(
        r"\b(?:next|upcoming|coming up|after this|afterwards|after that|following session|"
        r"starts soon|starting soon)\b"
    ),
    after=_rx(r"\b(?:after|following)\b"),
    where=_rx(r"\bwhere\b|\bhow (?:do|can) (?:i|we) find\b|\blocated\b|\bgetthere\b"),
    later=_rx(
        r"\b(?:later(?: today)?|rest of (?:the|to) ?day|this afternoon|this evening|tonight|"
        r"still to come|left today)\b"
    ),
    today_question=_rx(
        r"\bwhat (?:day|date) is (?:it|today)\b|\bwhat is (?:the )?(?:date|day) today\b|"
        r"\btoday s date\b|\bwhat is the date\b|\bwhich day (?:of the \w+ )?is (?:it|today)\b|"
        r"^what is today$|^what day is it\b"
    ),
    event_ref=_rx(
        r"\b(?:event|conference|summit|congress|festival|expo|forum|meetup|convention|it|this|"
        r"everything)\b"
    ),
    date_ask=_rx(
        r"\b(?:when|what time|what date|which dates?|which days?|what days?|how long|how many "
        r"days|dates?)\b"
    ),
    start=_rx(
        r"\b(?:start|starts|starting|begin|begins|beginning|open|opens|kick off|kicks off|"
        r"first|earliest)\b"
    ),
    end=_rx(
        r"\b(?:end|ends|ending|finish|finishes|over|close|closes|wrap up|wraps up|last|latest|"
        r"until)\b"
    ),
    about_event=_rx(
        r"^(?:tell me )?(?:what is )?(?:about )?(?:this|the) (?:event|conference|summit|forum|"
        r"festival)(?: about| all about)?$|\bwhat is (?:this|the) (?:event|conference|summit|"
        r"forum|festival) (?:all )?about\b|^what is this (?:all )?about$|\btell me about (?:this|"
        r"the) (?:event|conference|summit|forum|festival)\b"
    ),
    speakers=_rx(
        r"\bwho (?:is|are) (?:speaking|presenting|talking|on stage|the speakers|the presenters|"
        r"the guests|giving (?:talks|the talks|a talk))\b|\bspeakers?\b|\bline ?up\b|"
        r"\bpresenters\b|\bpanel(?:l)?ists\b|\bwho (?:will|is going to) (?:speak|present)\b|"
        r"\bguests\b|\bwho is on\b|\bwho speaks\b"
    ),
    moderators=_rx(r"\bmoderat\w*|\bhosts?\b|\bhosting\b|\bemcee\b|\bmc\b|\bchair(?:s|ing)?\b"),
    who=_rx(r"^(?:and )?(?:who|whos)\b|\bwho (?:is|are|was)\b|\btell me about\b|\bwho\b"),
    talk=_rx(
        r"\b(?:topic|subject|talk|talks|talking|presentation|presenting|keynote|session|panel|"
        r"workshop|discuss\w*|cover\w*|speak(?:ing)? (?:on|about)|title|lecture)\b|\babout$"
    ),
    when_where=_rx(
        r"\b(?:when|what time|which day|what day|time|schedule|timing|where|which room|what "
        r"room|room|location|stage|hall|speak|speaking|speaks|present|presenting|on stage|see|"
        r"watch|catch|find|meet|today|tomorrow)\b"
    ),
    schedule=_rx(
        r"\b(?:what is on|whats on|what is happening|what happens|schedule|agenda|programme|"
        r"program|timetable|line ?up|sessions|talks|plan|planned|going on)\b"
    ),
    topic=_rx(
        r"\b(?:about|on|regarding|related to|covering|around|dealing with|sessions?|talks?|"
        r"workshops?|panels?|anything|something)\b"
    ),
    relative_days=(
        (_rx(r"\bday after tomorrow\b"), 2),
        (_rx(r"\b(?:today|tonight|this (?:morning|afternoon|evening))\b"), 0),
        (_rx(r"\btomorrow\b"), 1),
        (_rx(r"\byesterday\b"), -1),
    ),
    weekdays=("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    months=(
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ),
    ordinal_day=_rx(
        r"\bday (\d{1,2}|one|two|three|four|five|six|seven)\b|\b(first|second|third|fourth|"
        r"fifth|last|final|opening|closing) day\b"
    ),
    ordinals={
        "one": 1,
        "two": 2,
        "three": 3,
        "four": 4,
        "five": 5,
        "six": 6,
        "seven": 7,
        "first": 1,
        "opening": 1,
        "second": 2,
        "third": 3,
        "fourth": 4,
        "fifth": 5,
        "last": -1,
        "final": -1,
        "closing": -1,
    },
    clock=_rx(r"(?<![\d:])([01]?\d|2[0-3])[:h.]([0-5]\d)(?!\d)\s*(am|pm|a\.m\.|p\.m\.)?"),
    hour_ampm=_rx(r"(?<![\d:])(1[0-2]|0?[1-9])\s*(am|pm|a\.m\.|p\.m\.)"),
    at_hour=_rx(
        r"\b(?:at|around|by|from) (1\d|2[0-3]|0?[1-9])\b(?!\s*(?:%|people|minutes|min|"
        r"euros?|eur|dollars?|pounds?|[:.h]\d))"
    ),
    noon=_rx(r"\b(?:noon|midday)\b"),
    scaffolding=_wordset(
        """
        talk talks talking session sessions event events conference programme program schedule
        agenda speaker speakers speaking speak speaks present presenting presents presentation
        presentations presenter presenters give giving given held hold take takes taking place
        happen happens happening happened start starts starting begin begins end ends finish
        finishes
        time times today tomorrow yesterday tonight now next later day days morning afternoon
        evening about related regarding topic topics cover covers covering discuss discusses
        info information detail details located location attend visit recommend interesting
        good best plan planned scheduled thing things kind sort type exactly actually currently
        right moment upcoming soon anybody somebody people guys everyone hear learn listen
        go whole tell describe explain happen list options option available open gives long
        moderator moderators moderating moderated moderates moderate host hosts hosting hosted
        track tracks
        """
    ),
    order_words=_wordset("first last final earliest latest opening closing"),
)

LEXICONS: dict[str, Lexicon] = {"en": ENGLISH_LEXICON}


# The question ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Question:
    text: str  # normalized, punctuation kept, steering removed
    words: tuple[str, ...]
    joined: str
    all_joined: str  # before the steering was removed
    steered: bool


def _excerpt(text: str, limit: int = 240, sentences: int = 2) -> str:
    """The first sentences of a text, within ``limit`` characters (cut at a word, with …)."""
    text = " ".join(text.split())
    if not text:
        return ""
    parts = re.split(r"(?<=[.!?])\s+", text)
    out = ""
    for part in parts[:sentences]:
        candidate = f"{out} {part}".strip()
        if len(candidate) > limit:
            break
        out = candidate
    if not out:
        cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:-–—")
        out = cut + "…"
    return out


class _Answerer:
    """Answers one question (a fresh one per question; cheap)."""

    def __init__(
        self,
        knowledge: EventKnowledge,
        index: EventIndex,
        now: datetime,
        mode: ConversationMode,
        lang: str,
        zone: ZoneInfo | None = None,
    ) -> None:
        self.k = knowledge
        self.index = index
        self.mode = mode
        self.lex = LEXICONS.get(lang, ENGLISH_LEXICON)
        self.t = T.Templates(lang)
        self.zone = zone or get_settings().timezone()
        if now.tzinfo is None:
            raise ValueError("now must be an aware datetime")
        self.now = now.astimezone(self.zone)
        self.today = self.now.date()
        self.guests = {g.id: g for g in knowledge.guests}
        self.sessions = knowledge.sessions
        self.event = knowledge.event_name or knowledge.name
        self.group = mode is ConversationMode.MULTIPLE
        a = index.analyzer
        self.event_words = frozenset(a.words(knowledge.event_name + " " + knowledge.name))

    # Helpers -----------------------------------------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def day_of(self, sf: SessionFact) -> date:
        return self.local(sf.starts_at).date()

    def day_label(self, day: date) -> str:
        return self.t.day(day, self.today)

    def people(self, sf: SessionFact) -> list[str]:
        names = [self.guests[g].name for g in sf.speaker_ids if g in self.guests]
        names += [self.guests[g].name for g in sf.moderator_ids if g in self.guests]
        return names

    def line(
        self, sf: SessionFact, *, with_day: bool = False, people: bool = True, until: bool = False
    ) -> str:
        t = self.t
        start, end = t.clock(self.local(sf.starts_at)), t.clock(self.local(sf.ends_at))
        if until:
            text = t(
                T.LINE_UNTIL if sf.location else T.LINE_UNTIL_NO_PLACE,
                title=sf.title,
                location=sf.location,
                end=end,
            )
        elif with_day:
            text = t(
                T.LINE_SESSION_DAY_PLACE if sf.location else T.LINE_SESSION_DAY,
                day=_capital(self.day_label(self.day_of(sf))),
                start=start,
                end=end,
                title=sf.title,
                location=sf.location,
            )
        else:
            text = t(
                T.LINE_SESSION_PLACE if sf.location else T.LINE_SESSION,
                start=start,
                end=end,
                title=sf.title,
                location=sf.location,
            )
        names = self.people(sf) if people else []
        if names:
            text = t(T.LINE_PEOPLE, line=text, names=t.join(names))
        return "- " + text

    def lines(self, sessions: Sequence[SessionFact], **kwargs: bool) -> list[str]:
        out = [self.line(sf, **kwargs) for sf in sessions[:MAX_LINES]]
        if len(sessions) > MAX_LINES:
            n = len(sessions) - MAX_LINES
            out.append(self.t.plural(T.MORE, T.MORE, n))
        return out

    def when(self, sf: SessionFact) -> str:
        t = self.t
        values = {
            "day": _capital(self.day_label(self.day_of(sf))),
            "start": t.clock(self.local(sf.starts_at)),
            "end": t.clock(self.local(sf.ends_at)),
            "location": sf.location,
        }
        return t(T.SESSION_WHEN if sf.location else T.SESSION_WHEN_NO_PLACE, **values)

    def role(self, g: GuestFact) -> str:
        return ", ".join(x for x in (g.title, g.organization) if x)

    def guest_line(self, g: GuestFact) -> str:
        role = self.role(g)
        return "- " + (self.t(T.GUEST_LINE, name=g.name, role=role) if role else g.name)

    def headline(self, g: GuestFact) -> str:
        role = self.role(g)
        return (
            self.t(T.GUEST_HEADLINE, name=g.name, role=role)
            if role
            else self.t(T.GUEST_HEADLINE_BARE, name=g.name)
        )

    def sessions_of(self, guest_id: int) -> list[SessionFact]:
        return [
            sf for sf in self.sessions if guest_id in sf.speaker_ids or guest_id in sf.moderator_ids
        ]

    def result(
        self,
        intent: str,
        parts: Iterable[str],
        *,
        answered: bool = True,
        refs: Iterable[str] = (),
        suggestions: Sequence[str] | None = None,
    ) -> OfflineAnswer:
        text = "\n".join(p for p in parts if p).strip()
        refs = tuple(dict.fromkeys(refs))
        chips = tuple(suggestions) if suggestions is not None else self.suggest(intent, refs)
        return OfflineAnswer(text, answered, refs, chips[:SUGGESTION_COUNT], intent)

    # Suggestions -------------------------------------------------------------------------------

    def suggest(
        self, intent: str, refs: Sequence[str] = (), count: int = SUGGESTION_COUNT
    ) -> tuple[str, ...]:
        """Questions to offer next, built from the data (never about what was just answered)."""
        t = self.t
        out: list[str] = []
        running = [sf for sf in self.sessions if self.day_of(sf) == self.today]
        if running and intent not in ("now", "next"):
            out.append(t(T.ASK_NOW))
        if running and intent == "now":
            out.append(t(T.ASK_NEXT))
        upcoming = [sf for sf in self.sessions if sf.starts_at > self.now and self.people(sf)]
        pool = upcoming or [sf for sf in self.sessions if self.people(sf)]
        for sf in pool:
            gid = (sf.speaker_ids + sf.moderator_ids)[0]
            if f"guest:{gid}" not in refs and intent not in ("guest", "guest_talk", "guest_when"):
                ask = T.ASK_TALK if sf.speaker_ids else T.ASK_WHO
                out.append(t(ask, name=self.guests[gid].name))
                break
        if self.k.faq and intent != "faq":
            faq = next((f for f in self.k.faq if f"faq:{f.id}" not in refs), None)
            if faq is not None and len(faq.question) <= 60:
                out.append(faq.question)
        if self.index.tracks and intent != "track":
            out.append(t(T.ASK_TRACK, track=self.index.tracks[0]))
        if intent not in ("speakers",) and any(g.is_speaker for g in self.k.guests):
            out.append(t(T.ASK_SPEAKERS))
        if intent != "event_dates":
            out.append(t(T.ASK_END, event=self.event))
        return tuple(dict.fromkeys(out))[:count]

    # Reading the question ----------------------------------------------------------------------

    def prepare(self, question: str) -> _Question:
        limit = int(get_settings()["assistant.max_question_length"])
        text = question[:limit] if isinstance(question, str) else ""
        normalized = self.index.analyzer.normalize(text)
        stripped, n = self.lex.injection.subn(" ", normalized)
        all_words = _WORD_RE.findall(normalized)
        words = tuple(_WORD_RE.findall(stripped))
        return _Question(
            text=stripped,
            words=words,
            joined=" ".join(words),
            all_joined=" ".join(all_words),
            steered=n > 0,
        )

    def parse_day(self, q: _Question) -> date | None:
        lex = self.lex
        for pattern, offset in lex.relative_days:
            if pattern.search(q.joined):
                return self.today + timedelta(days=offset)
        m = lex.ordinal_day.search(q.joined)
        if m:
            raw = m.group(1) or m.group(2)
            n = int(raw) if raw.isdigit() else lex.ordinals.get(raw, 0)
            if n == -1:
                return self.k.end_date
            if n >= 1:
                return self.k.start_date + timedelta(days=n - 1)
        for i, name in enumerate(lex.weekdays):
            if re.search(rf"\b{name}\b", q.joined):
                day = self.k.start_date
                while day <= self.k.end_date:
                    if day.weekday() == i:
                        return day
                    day += timedelta(days=1)
                return self.today + timedelta(days=(i - self.today.weekday()) % 7)
        for i, name in enumerate(lex.months):
            m = re.search(
                rf"\b(\d{{1,2}})(?: st| nd| rd| th|st|nd|rd|th)?(?: of)? {name}\b|\b"
                rf"{name} (\d{{1,2}})\b",
                q.joined,
            )
            if m:
                n = int(m.group(1) or m.group(2))
                try:
                    return date(self.k.start_date.year, i + 1, n)
                except ValueError:
                    return None
        return None

    def parse_time(self, q: _Question) -> time | None:
        lex = self.lex
        m = lex.clock.search(q.text)
        if m:
            hour, minute = int(m.group(1)), int(m.group(2))
            suffix = (m.group(3) or "").replace(".", "")
            return _hour(hour, minute, suffix)
        m = lex.hour_ampm.search(q.text)
        if m:
            return _hour(int(m.group(1)), 0, m.group(2).replace(".", ""))
        if lex.noon.search(q.joined):
            return time(12, 0)
        m = lex.at_hour.search(q.joined)
        if m:
            hour = int(m.group(1))
            return time(hour + 12 if 1 <= hour <= 7 else hour, 0)
        return None

    def content_words(self, q: _Question, exclude: Iterable[str] = ()) -> list[str]:
        a = self.index.analyzer
        skip = set(exclude) | self.event_words | self.lex.scaffolding
        skip.update(self.lex.weekdays)
        skip.update(self.lex.months)
        out = []
        for w in q.words:
            if w in a.stopwords or w in skip or w in out:
                continue
            if len(w) == 1 and not w.isdigit():
                continue
            if self.is_typo_of_question_word(w):
                continue
            out.append(w)
        return out

    def is_typo_of_question_word(self, word: str) -> bool:
        """'wher', 'sesions': a misspelt stop word or question word, not a subject."""
        if len(word) < 4 or not word.isalpha() or self.index.is_vocabulary_word(word):
            return False
        choices = self.lex.scaffolding | self.index.analyzer.stopwords
        best = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=88)
        return best is not None

    # Answering ---------------------------------------------------------------------------------

    def answer(self, question: str) -> OfflineAnswer:
        lex = self.lex
        q = self.prepare(question)
        if lex.secret.search(q.all_joined):
            return self.result("secret", [self.t(T.SECRET, event=self.event)], answered=False)
        if self.is_privacy(q):
            return self.result("privacy", [self.t(T.PRIVACY)], answered=False)
        if not q.words:
            if q.steered:
                return self.result(
                    "injection", [self.t(T.OUT_OF_SCOPE, event=self.event)], answered=False
                )
            return self.help()
        social = self.social(q)
        if social is not None:
            return social
        q = self.without_greeting(q)
        if lex.help.search(q.joined):
            return self.help()

        names = self.index.match_guests(q.words)
        rooms = self.index.match_locations(q.words)
        tracks = self.index.match_tracks(q.words)
        day = self.parse_day(q)
        at = self.parse_time(q)
        entity_words: set[str] = set()
        for m in rooms + tracks:
            entity_words.update(m.words)
        if day is not None or at is not None:  # "day 3", "at 11 30", "last day": not subjects
            entity_words.update(w for w in q.words if w.isdigit())
            for found in lex.ordinal_day.finditer(q.joined):
                entity_words.update(found.group(0).split())
            entity_words.update(lex.order_words)
        room = rooms[0].name if rooms else None
        # "last day" is a day, not a question about the end
        plain = lex.ordinal_day.sub(" ", q.joined)

        if lex.math.search(q.text) and not names and not rooms:
            return self.out_of_scope()
        guest_answer = self.guest_intents(q, names, entity_words)
        if guest_answer is not None:
            return guest_answer

        content = self.content_words(q, entity_words)
        session_hits = self.index.search(content, [SESSION], limit=8) if content else []
        if day is not None:  # "the keynote tomorrow": that day's, when there is one
            on_day = [h for h in session_hits if self.session_day(h.id) == day]
            session_hits = on_day or session_hits
        title_next = self.title_mentions_next(q, session_hits)

        if at is not None:
            return self.at_time(day or self.today, at, room)
        if lex.today_question.search(q.joined):
            return self.what_day()
        explicit_now = re.search(r"\b(?:now|currently|at the moment|ongoing)\b", q.joined)
        asks_now = explicit_now or (lex.now.search(q.joined) and day is None)
        if asks_now and day in (None, self.today) and not title_next:
            return self.now_on(room)
        if lex.next.search(q.joined) and not title_next:
            return self.next_on(room)
        if self.is_event_dates(q, content, day):
            return self.event_dates(plain)
        if lex.about_event.search(q.joined):
            return self.about()

        faq_hits = self.index.search(content, [FAQ], limit=5) if content else []
        faq = self.good_faq(faq_hits)
        best_session = session_hits[0] if session_hits else None
        if best_session is not None and best_session.coverage < 0.5:
            best_session = None
        # the FAQ answers when its question says it at least as well as a session's title does
        prefer_faq = faq is not None and (
            best_session is None
            or (faq.title_coverage, faq.coverage)
            >= (best_session.title_coverage, best_session.coverage)
        )
        if best_session is not None and lex.after.search(q.joined):
            prefer_faq = False  # "what's on after lunch" is about the programme
        strong = [h for h in (faq, best_session) if h is not None and h.coverage >= 0.99]
        if (
            lex.out_of_scope.search(q.joined)
            and not names
            and not rooms
            and not any(not h.fuzzy for h in strong)
        ):
            return self.out_of_scope()
        if faq is not None and prefer_faq and faq.title_coverage >= 0.99:
            return self.faq_answer(faq)
        single = self.single_session(session_hits, content, q)
        if single is not None:
            return single
        if rooms:
            if lex.where.search(q.joined) and not content and at is None:
                return self.room_answer(room or rooms[0].name, day, directions=False)
            return self.room_answer(room or rooms[0].name, day)
        if tracks and not content:
            return self.track_answer(tracks[0])
        asks_people = lex.speakers.search(q.joined) or lex.moderators.search(q.joined)
        if asks_people and (not content or best_session is None):
            if day is not None:
                return self.day_answer(day, people_only=True)
            if lex.moderators.search(q.joined) and not re.search(r"\bspeak", q.joined):
                return self.guest_list(moderators=True)
            return self.guest_list(moderators=False)
        if (
            day is not None
            and (not content or lex.schedule.search(q.joined))
            and not (faq is not None and prefer_faq)
        ):
            return self.day_answer(
                day, first=bool(lex.start.search(plain)), last=bool(lex.end.search(plain))
            )
        if faq is not None and prefer_faq:
            return self.faq_answer(faq)
        who = (
            None if (day is not None and best_session is not None) else self.who_answer(q, content)
        )
        if who is not None:
            return who
        if (
            faq is not None
            and best_session is not None
            and self.faq_has_missing_topic(faq, best_session)
        ):  # "is the closing keynote recorded?": the FAQ on recordings
            return self.faq_answer(faq)
        topic = self.maybe_after(q, self.topic_answer(content, session_hits))
        if topic is not None:
            return topic
        if faq is not None:
            return self.faq_answer(faq)
        if lex.later.search(q.joined):
            return self.day_answer(self.today, rest=True)
        if tracks:
            return self.track_answer(tracks[0])
        if lex.schedule.search(q.joined) and not content:
            if self.k.start_date <= self.today <= self.k.end_date:
                return self.now_on(None)
            return self.day_answer(self.first_day())
        return self.unknown(q, content, session_hits, faq_hits)

    def out_of_scope(self) -> OfflineAnswer:
        return self.result(
            "out_of_scope", [self.t(T.OUT_OF_SCOPE, event=self.event)], answered=False
        )

    # Recognizers -------------------------------------------------------------------------------

    def is_privacy(self, q: _Question) -> bool:
        lex = self.lex
        text = q.all_joined
        if lex.privacy_direct.search(text):
            return True
        if lex.contact.search(text) and lex.privacy_guests.search(text):
            return True
        return bool(lex.privacy_people.search(text) and lex.privacy_data.search(text))

    def social(self, q: _Question) -> OfflineAnswer | None:
        lex, t = self.lex, self.t
        if lex.greeting_only.match(q.joined):
            msg = T.GREETING_GROUP if self.group else T.GREETING_ONE
            return self.result("greeting", [t(msg, event=self.event)])
        if lex.goodbye_only.match(q.joined):
            msg = T.GOODBYE_GROUP if self.group else T.GOODBYE_ONE
            return self.result("goodbye", [t(msg, event=self.event)])
        if lex.thanks_only.match(q.joined) and q.joined:
            msg = T.THANKS_GROUP if self.group else T.THANKS_ONE
            return self.result("thanks", [t(msg, event=self.event)])
        return None

    def without_greeting(self, q: _Question) -> _Question:
        m = self.lex.greeting_prefix.match(q.joined)
        if not m or m.end() >= len(q.joined):
            return q
        rest = q.joined[m.end() :]
        words = tuple(rest.split())
        return _Question(q.text, words, " ".join(words), q.all_joined, q.steered)

    def is_event_dates(self, q: _Question, content: Sequence[str], day: date | None) -> bool:
        lex = self.lex
        if day is not None or not lex.date_ask.search(q.joined):
            return False
        refers = bool(lex.event_ref.search(q.joined)) or any(w in self.event_words for w in q.words)
        if not refers:
            return False
        # "when does lunch start" is not about the event
        return not [w for w in content if w not in ("first", "last")]

    def title_mentions_next(self, q: _Question, hits: Sequence[Hit]) -> bool:
        """Whether "next" in the question is part of a session's title ("The next ten years")."""
        if "next" not in q.words or not hits:
            return False
        best = hits[0]
        sf = self.session(best.id)
        return (
            sf is not None
            and "next" in self.index.analyzer.words(sf.title)
            and len(best.matched) >= 2
            and best.title_coverage >= 0.66
        )

    def session_day(self, session_id: int) -> date | None:
        sf = self.session(session_id)
        return self.day_of(sf) if sf is not None else None

    def session(self, session_id: int) -> SessionFact | None:
        for sf in self.sessions:
            if sf.id == session_id:
                return sf
        return None

    def faq_has_missing_topic(self, faq: Hit, session: Hit) -> bool:
        """Whether the FAQ entry covers a practical topic word ("recorded", "parking") that the
        session leaves out."""
        group = self.index.analyzer.group
        return any(group(w) and w not in session.matched for w in faq.matched)

    def good_faq(self, hits: Sequence[Hit]) -> Hit | None:
        """The FAQ entry that answers the question, if one clearly does."""
        if not hits:
            return None
        best = hits[0]
        n_faq = max(1, self.index.count(FAQ))
        distinctive = [
            w
            for w in best.matched
            if self.index.analyzer.group(w) or self.index.df(w, FAQ) <= max(2, n_faq // 4)
        ]
        if not distinctive:
            return None
        if best.fuzzy and best.strength < 0.66:
            return None
        if best.coverage >= 0.99:
            return best
        analyzer = self.index.analyzer
        topical = best.title_coverage > 0 or any(analyzer.group(w) for w in best.matched)
        if best.strength >= 0.5 and topical:
            return best
        return None

    # Intents -----------------------------------------------------------------------------------

    def help(self) -> OfflineAnswer:
        chips = self.suggest("help", count=4)
        parts = [self.t(T.HELP, event=self.event)] + [f"- {c}" for c in chips]
        return self.result("help", parts, suggestions=chips)

    def guest_intents(
        self, q: _Question, names: Sequence[NameMatch], entity_words: set[str]
    ) -> OfflineAnswer | None:
        if not names:
            return None
        lex = self.lex
        best = names[0]
        others = [m for m in names[1:] if m.score >= best.score - 1e-9]
        if others and not best.full:
            choices = [self.guests[m.guest_id] for m in [best, *others]][:4]
            chips = tuple(self.t(T.ASK_WHO, name=g.name) for g in choices)
            parts = [self.t(T.WHICH_ONE)] + [self.guest_line(g) for g in choices]
            return self.result(
                "clarify",
                parts,
                answered=False,
                refs=[f"guest:{g.id}" for g in choices],
                suggestions=chips,
            )
        guest = self.guests[best.guest_id]
        if lex.contact.search(q.joined):
            return self.result(
                "privacy",
                [self.t(T.PRIVACY_GUEST, name=guest.name)],
                answered=False,
                refs=[f"guest:{guest.id}"],
            )
        name_words = set(self.index.analyzer.words(guest.name))
        rest = " ".join(w for w in q.words if w not in name_words)
        if lex.talk.search(rest) and not re.search(r"^(?:who is|tell me about)\b", rest):
            return self.guest_talk(guest)
        if lex.when_where.search(rest):
            return self.guest_when(guest)
        return self.guest_info(guest)

    def guest_info(self, g: GuestFact) -> OfflineAnswer:
        parts = [self.headline(g)]
        bio = _excerpt(g.description)
        if bio:
            parts.append(bio)
        sessions = self.sessions_of(g.id)
        refs = [f"guest:{g.id}"] + [f"session:{sf.id}" for sf in sessions]
        if sessions:
            parts.append(self.t(T.GUEST_SESSIONS))
            parts += self.lines(sessions, with_day=True, people=False)
        return self.result("guest", parts, refs=refs)

    def guest_talk(self, g: GuestFact) -> OfflineAnswer:
        sessions = self.sessions_of(g.id)
        if not sessions:
            return self.not_on_programme(g)
        parts = [self.t(T.GUEST_TALK, name=g.name)]
        for sf in sessions[:3]:
            parts.append(f"{sf.title} — {self.when(sf)}")
            desc = _excerpt(sf.description, 220)
            if desc:
                parts.append(desc)
        refs = [f"guest:{g.id}"] + [f"session:{sf.id}" for sf in sessions]
        return self.result("guest_talk", parts, refs=refs)

    def guest_when(self, g: GuestFact) -> OfflineAnswer:
        sessions = self.sessions_of(g.id)
        if not sessions:
            return self.not_on_programme(g)
        parts = [self.t(T.GUEST_WHEN, name=g.name)]
        parts += self.lines(sessions, with_day=True, people=False)
        refs = [f"guest:{g.id}"] + [f"session:{sf.id}" for sf in sessions]
        return self.result("guest_when", parts, refs=refs)

    def not_on_programme(self, g: GuestFact) -> OfflineAnswer:
        parts = [self.headline(g), self.t(T.GUEST_NOT_ON_PROGRAMME, name=g.name)]
        return self.result("guest", parts, refs=[f"guest:{g.id}"])

    def next_group(self, room: str | None, after: datetime | None = None) -> list[SessionFact]:
        after = after or self.now
        later = [
            sf
            for sf in self.sessions
            if sf.starts_at > after and (room is None or sf.location == room)
        ]
        if not later:
            return []
        first = min(sf.starts_at for sf in later)
        return [sf for sf in later if sf.starts_at == first]

    def now_on(self, room: str | None) -> OfflineAnswer:
        t = self.t
        if not self.sessions:
            return self.result("now", [t(T.NO_PROGRAMME, event=self.event)])
        clock = t.clock(self.now)
        running = [
            sf
            for sf in self.sessions
            if sf.starts_at <= self.now < sf.ends_at and (room is None or sf.location == room)
        ]
        parts: list[str] = []
        if running:
            header = (
                t(T.NOW_IN_ROOM_HEADER, room=room, time=clock)
                if room
                else t(T.NOW_HEADER, time=clock)
            )
            parts.append(header)
            parts += self.lines(running, until=True)
        else:
            parts.append(
                t(T.NOTHING_NOW_IN_ROOM, room=room, time=clock)
                if room
                else t(T.NOTHING_NOW, time=clock)
            )
        upcoming = self.next_group(room)
        if upcoming and len(running) < MAX_LINES - 1:
            parts.append(self.next_header(upcoming[0], room))
            parts += self.lines(upcoming[: MAX_LINES - len(running)])
        elif not running and not upcoming:
            parts.append(
                t(T.NOTHING_NEXT_IN_ROOM, room=room)
                if room
                else t(T.PROGRAMME_OVER, event=self.event)
            )
        refs = [f"session:{sf.id}" for sf in running + upcoming]
        return self.result("now", parts, refs=refs)

    def next_header(self, sf: SessionFact, room: str | None) -> str:
        values = {
            "day": self.day_label(self.day_of(sf)),
            "time": self.t.clock(self.local(sf.starts_at)),
        }
        if room:
            return self.t(T.NEXT_IN_ROOM_HEADER, room=room, **values)
        return self.t(T.NEXT_HEADER, **values)

    def next_on(self, room: str | None) -> OfflineAnswer:
        t = self.t
        if not self.sessions:
            return self.result("next", [t(T.NO_PROGRAMME, event=self.event)])
        upcoming = self.next_group(room)
        if not upcoming:
            text = (
                t(T.NOTHING_NEXT_IN_ROOM, room=room)
                if room
                else t(T.PROGRAMME_OVER, event=self.event)
            )
            return self.result("next", [text])
        parts = [self.next_header(upcoming[0], room)] + self.lines(upcoming)
        return self.result("next", parts, refs=[f"session:{sf.id}" for sf in upcoming])

    def at_time(self, day: date, at: time, room: str | None) -> OfflineAnswer:
        t = self.t
        moment = datetime.combine(day, at, self.zone)
        running = [
            sf
            for sf in self.sessions
            if sf.starts_at <= moment < sf.ends_at and (room is None or sf.location == room)
        ]
        values = {"day": self.day_label(day), "time": t.clock(moment)}
        if not running:
            starting = [
                sf
                for sf in self.next_group(room, after=moment - timedelta(seconds=1))
                if self.day_of(sf) == day
            ]
            text = (
                t(T.NOTHING_AT_TIME_IN_ROOM, room=room, **values)
                if room
                else t(T.NOTHING_AT_TIME, **values)
            )
            parts = [_capital(text)]
            if starting:
                parts.append(self.next_header(starting[0], room))
                parts += self.lines(starting)
            return self.result("at_time", parts, refs=[f"session:{sf.id}" for sf in starting])
        header = (
            t(T.AT_TIME_IN_ROOM_HEADER, room=room, **values)
            if room
            else t(T.AT_TIME_HEADER, **values)
        )
        parts = [_capital(header)] + self.lines(running)
        return self.result("at_time", parts, refs=[f"session:{sf.id}" for sf in running])

    def on_day(self, day: date) -> list[SessionFact]:
        return [sf for sf in self.sessions if self.day_of(sf) == day]

    def first_day(self) -> date:
        return self.day_of(self.sessions[0]) if self.sessions else self.k.start_date

    def day_answer(
        self,
        day: date,
        *,
        rest: bool = False,
        first: bool = False,
        last: bool = False,
        people_only: bool = False,
    ) -> OfflineAnswer:
        t = self.t
        label = self.day_label(day)
        sessions = self.on_day(day)
        if people_only:
            sessions = [sf for sf in sessions if self.people(sf)]
        if rest:
            sessions = [sf for sf in sessions if sf.ends_at > self.now]
        if not sessions:
            msg = T.DAY_NOTHING_LEFT if rest else T.DAY_NOTHING
            return self.result("day", [_capital(t(msg, day=label))])
        if first and not last:
            sf = sessions[0]
            group = [s for s in sessions if s.starts_at == sf.starts_at]
            msg = T.DAY_FIRST if sf.starts_at >= self.now else T.DAY_FIRST_PAST
            parts = [t(msg, day=label, time=t.clock(self.local(sf.starts_at)))]
            parts += self.lines(group)
            return self.result("day", parts, refs=[f"session:{s.id}" for s in group])
        if last and not first:
            sf = max(sessions, key=lambda s: s.ends_at)
            msg = T.DAY_LAST if sf.ends_at >= self.now else T.DAY_LAST_PAST
            parts = [t(msg, day=label, time=t.clock(self.local(sf.ends_at)))]
            parts.append(self.line(sf))
            return self.result("day", parts, refs=[f"session:{sf.id}"])
        header = T.DAY_REST_HEADER if rest else T.DAY_HEADER
        parts = [_capital(t(header, day=label))]
        parts += self.lines(sessions)
        return self.result("day", parts, refs=[f"session:{sf.id}" for sf in sessions[:MAX_LINES]])

    def room_answer(self, room: str, day: date | None, *, directions: bool = True) -> OfflineAnswer:
        """What is on in a room. ``directions`` False: the question was where the room is,
        which the data does not say: say so, then what is on there."""
        if not directions:
            found = self._room_answer(room, day)
            text = self.t(T.NO_DIRECTIONS, room=room) + "\n" + found.text
            return self.result("room", [text], answered=False, refs=found.references)
        return self._room_answer(room, day)

    def _room_answer(self, room: str, day: date | None) -> OfflineAnswer:
        t = self.t
        in_room = [sf for sf in self.sessions if sf.location == room]
        if day is None:
            today_left = [
                sf for sf in in_room if self.day_of(sf) == self.today and sf.ends_at > self.now
            ]
            if today_left:
                day, chosen = self.today, today_left
            else:
                later = [sf for sf in in_room if sf.starts_at > self.now]
                if later:
                    day = self.day_of(later[0])
                    chosen = [sf for sf in later if self.day_of(sf) == day]
                elif in_room:
                    day = self.day_of(in_room[0])
                    chosen = [sf for sf in in_room if self.day_of(sf) == day]
                else:
                    return self.result("room", [t(T.ROOM_NOTHING_AT_ALL, room=room)])
        else:
            chosen = [sf for sf in in_room if self.day_of(sf) == day]
            if not chosen:
                return self.result("room", [t(T.ROOM_NOTHING, room=room, day=self.day_label(day))])
        parts = [t(T.ROOM_HEADER, room=room, day=self.day_label(day))] + self.lines(chosen)
        return self.result("room", parts, refs=[f"session:{sf.id}" for sf in chosen])

    def track_answer(self, track: PlaceMatch) -> OfflineAnswer:
        sessions = self.prefer_upcoming([sf for sf in self.sessions if sf.track == track.name])
        parts = [self.t(T.TRACK_HEADER, track=track.name)]
        parts += self.lines(sessions, with_day=True)
        refs = [f"session:{sf.id}" for sf in sessions[:MAX_LINES]]
        return self.result("track", parts, refs=refs)

    def prefer_upcoming(self, sessions: list[SessionFact]) -> list[SessionFact]:
        """All of them in time order when they fit on the screen, else those still to come."""
        if len(sessions) <= MAX_LINES:
            return sessions
        return [sf for sf in sessions if sf.ends_at > self.now] or sessions

    def guest_list(self, *, moderators: bool) -> OfflineAnswer:
        t = self.t
        if moderators:
            people = [g for g in self.k.guests if g.is_moderator]
            if not people:
                return self.result("speakers", [t(T.NO_MODERATORS, event=self.event)])
            header = t(T.MODERATORS_HEADER, event=self.event)
        else:
            people = [g for g in self.k.guests if g.is_speaker]
            if not people:
                return self.result("speakers", [t(T.NO_SPEAKERS, event=self.event)])
            header = t(T.SPEAKERS_HEADER, event=self.event)
        lines = [self.guest_line(g) for g in people[:12]]
        if len(people) > 12:
            lines.append(t.plural(T.MORE, T.MORE, len(people) - 12))
        refs = [f"guest:{g.id}" for g in people[:12]]
        return self.result("speakers", [header, *lines], refs=refs)

    def what_day(self) -> OfflineAnswer:
        t, k = self.t, self.k
        parts = [t(T.TODAY_IS, day=t.full_date(self.today, year=True))]
        if k.start_date <= self.today <= k.end_date:
            parts.append(
                t(
                    T.EVENT_DAY_N,
                    n=(self.today - k.start_date).days + 1,
                    total=(k.end_date - k.start_date).days + 1,
                    event=self.event,
                )
            )
        elif self.today < k.start_date:
            parts.append(t(T.EVENT_NOT_YET, event=self.event, day=self.day_label(k.start_date)))
        else:
            parts.append(t(T.EVENT_OVER, event=self.event, day=self.day_label(k.end_date)))
        return self.result("today", parts)

    def dates_sentence(self) -> str:
        t, k = self.t, self.k
        if k.start_date == k.end_date:
            return t(T.EVENT_ONE_DAY, event=self.event, day=self.day_label(k.start_date))
        return t(
            T.EVENT_DATES,
            event=self.event,
            start=t.full_date(k.start_date),
            end=t.full_date(k.end_date, year=True),
        )

    def event_dates(self, text: str) -> OfflineAnswer:
        t = self.t
        parts = [self.dates_sentence()]
        refs: list[str] = []
        asks_start = bool(self.lex.start.search(text))
        asks_end = bool(self.lex.end.search(text))
        if self.sessions and (asks_start or not asks_end):
            first = self.sessions[0]
            parts.append(
                t(
                    T.EVENT_FIRST if first.starts_at >= self.now else T.EVENT_FIRST_PAST,
                    day=self.day_label(self.day_of(first)),
                    time=t.clock(self.local(first.starts_at)),
                )
            )
            refs.append(f"session:{first.id}")
        if self.sessions and asks_end:
            last = max(self.sessions, key=lambda s: s.ends_at)
            end_local = self.local(last.ends_at)
            parts.append(
                t(
                    T.EVENT_LAST if last.ends_at >= self.now else T.EVENT_LAST_PAST,
                    day=self.day_label(end_local.date()),
                    time=t.clock(end_local),
                )
            )
            refs.append(f"session:{last.id}")
        return self.result("event_dates", parts, refs=refs)

    def about(self) -> OfflineAnswer:
        description = _excerpt(self.k.description, 400, 3)
        if description:
            parts = [self.t(T.EVENT_ABOUT, event=self.event, description=description)]
        else:
            parts = []
        parts.append(self.dates_sentence())
        return self.result("about", parts)

    def faq_answer(self, hit: Hit) -> OfflineAnswer:
        entry = next(f for f in self.k.faq if f.id == hit.id)
        return self.result("faq", [entry.answer.strip()], refs=[f"faq:{entry.id}"])

    def session_detail(self, sf: SessionFact) -> OfflineAnswer:
        t = self.t
        parts = [sf.title, self.when(sf)]
        if sf.track:
            parts[-1] += " " + t(T.TRACK, track=sf.track)
        speakers = [self.guests[g].name for g in sf.speaker_ids if g in self.guests]
        moderators = [self.guests[g].name for g in sf.moderator_ids if g in self.guests]
        people = []
        if speakers:
            people.append(t.plural(T.SPEAKER, T.SPEAKERS, len(speakers), names=t.join(speakers)))
        if moderators:
            people.append(t(T.MODERATED_BY, names=t.join(moderators)))
        if people:
            parts.append(" ".join(people))
        desc = _excerpt(sf.description, 240)
        if desc:
            parts.append(desc)
        refs = [f"session:{sf.id}"] + [f"guest:{g}" for g in sf.speaker_ids + sf.moderator_ids]
        return self.result("session", parts, refs=refs)

    def single_session(
        self, hits: Sequence[Hit], content: Sequence[str], q: _Question
    ) -> OfflineAnswer | None:
        """A session the question names by its title (or the sessions sharing that title)."""
        return self.maybe_after(q, self._single_session(hits, content, q))

    def maybe_after(self, q: _Question, found: OfflineAnswer | None) -> OfflineAnswer | None:
        """For "what's after X", what follows the session X instead of X itself."""
        if found is None or found.intent != "session" or not self.lex.after.search(q.joined):
            return found
        named = [
            self.session(int(r.split(":")[1])) for r in found.references if r.startswith("session:")
        ]
        sessions = [sf for sf in named if sf is not None]
        if not sessions:
            return found
        sf = sessions[0]
        following = [
            s
            for s in self.next_group(None, after=sf.ends_at - timedelta(microseconds=1))
            if s.id != sf.id
        ]
        if not following:
            return self.result("next", [self.t(T.NOTHING_NEXT)], refs=[f"session:{sf.id}"])
        first = following[0]
        header = self.t(
            T.AFTER_HEADER,
            title=sf.title,
            day=self.day_label(self.day_of(first)),
            time=self.t.clock(self.local(first.starts_at)),
        )
        refs = [f"session:{sf.id}"] + [f"session:{s.id}" for s in following]
        return self.result("next", [header, *self.lines(following)], refs=refs)

    def _single_session(
        self, hits: Sequence[Hit], content: Sequence[str], q: _Question
    ) -> OfflineAnswer | None:
        if not hits or not content:
            return None
        best = hits[0]
        if best.title_coverage < 0.99 or (best.fuzzy and len(best.matched) < 2):
            return None
        others = [h for h in hits[1:] if h.coverage >= 0.99 and not h.fuzzy]
        if others and self.lex.topic.search(q.joined):
            return None  # "talks about robots": every session about them, not one
        sf = self.session(best.id)
        if sf is None:
            return None
        same_words = [h for h in hits if h.title_coverage >= 0.99 and h.id != best.id]
        titles = {sf.title.casefold()}
        for h in same_words:
            other = self.session(h.id)
            if other is not None:
                titles.add(other.title.casefold())
        if len(titles) > 1:
            return None  # several different sessions match: a topic list answers better
        if not same_words:
            return self.session_detail(sf)
        alike = [s for s in self.sessions if s.title.casefold() == sf.title.casefold()]
        upcoming = [s for s in alike if s.ends_at > self.now] or alike
        if len(upcoming) == 1:
            return self.session_detail(upcoming[0])
        parts = [self.t(T.SAME_TITLE, title=sf.title)] + self.lines(upcoming, with_day=True)
        return self.result("session", parts, refs=[f"session:{s.id}" for s in upcoming])

    def who_answer(self, q: _Question, content: Sequence[str]) -> OfflineAnswer | None:
        """'Who is the CEO of Terrabyte?': guests whose card matches."""
        if not content or not self.lex.who.search(q.joined):
            return None
        hits = [h for h in self.index.search(content, [GUEST], limit=5) if h.coverage >= 0.6]
        if not hits:
            return None
        top = hits[0].coverage
        chosen = [
            self.guests[h.id] for h in hits if h.coverage >= top - 1e-9 and h.id in self.guests
        ]
        if len(chosen) == 1:
            return self.guest_info(chosen[0])
        parts = [self.guest_line(g) for g in chosen]
        return self.result("guest", parts, refs=[f"guest:{g.id}" for g in chosen])

    def topic_answer(self, content: Sequence[str], hits: Sequence[Hit]) -> OfflineAnswer | None:
        """Sessions about a topic (their own words, or their speakers' cards)."""
        if not content:
            return None
        found: dict[int, float] = {}
        # a topic answer needs every word found, or most of a longer question
        needed = 0.99 if len(content) <= 2 else 0.6
        for h in hits:
            if h.coverage >= needed and not (h.fuzzy and h.coverage < 0.99):
                found.setdefault(h.id, h.coverage)
        for h in self.index.search(content, [GUEST], limit=5):
            if h.coverage >= 0.99 and not h.fuzzy:
                for sf in self.sessions_of(h.id):
                    own = self.index.coverage(content, SESSION, sf.id)
                    if not sf.description.strip() or (own is not None and own.coverage > 0):
                        found.setdefault(sf.id, h.coverage * 0.9)
        if not found:
            return None
        top = max(found.values())
        chosen_ids = [sid for sid, cov in found.items() if cov >= top - 0.34]
        in_title = {h.id for h in hits if h.title_coverage >= 0.99 and h.id in chosen_ids}
        if len(in_title) >= 2:  # several sessions named after the topic: those answer it
            chosen_ids = list(in_title)
        chosen = [sf for sf in self.sessions if sf.id in chosen_ids]
        if len(chosen) == 1:
            return self.session_detail(chosen[0])
        ordered = self.prefer_upcoming(chosen)
        parts = [self.t(T.TOPIC_HEADER)] + self.lines(ordered, with_day=True)
        refs = [f"session:{sf.id}" for sf in ordered[:MAX_LINES]]
        return self.result("topic", parts, refs=refs)

    def unknown(
        self,
        q: _Question,
        content: Sequence[str],
        session_hits: Sequence[Hit],
        faq_hits: Sequence[Hit],
    ) -> OfflineAnswer:
        t = self.t
        related: list[tuple[float, str, str]] = []
        for h in list(session_hits[:2]) + list(faq_hits[:2]):
            if h.coverage < 0.5 or not h.exact:
                continue
            if h.kind == SESSION:
                sf = self.session(h.id)
                if sf is not None:
                    related.append((h.coverage, self.line(sf, with_day=True), h.ref))
            elif h.kind == FAQ:
                entry = next((f for f in self.k.faq if f.id == h.id), None)
                if entry is not None:
                    related.append((h.coverage, "- " + entry.question, h.ref))
        related.sort(key=lambda r: -r[0])
        if related:
            parts = [t(T.UNKNOWN, event=self.event), t(T.RELATED)]
            parts += [line for _c, line, _r in related[:3]]
        elif self.lex.topic.search(q.joined) and content and self.sessions:
            parts = [t(T.NO_SESSION_FOUND, event=self.event)]
        else:
            parts = [t(T.UNKNOWN, event=self.event)]
        refs = [r for _c, _l, r in related[:3]]
        return self.result("unknown", parts, answered=False, refs=refs)


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _hour(hour: int, minute: int, suffix: str) -> time | None:
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


# Entry points ----------------------------------------------------------------------------------


def answer(
    knowledge: EventKnowledge,
    index: EventIndex,
    question: str,
    now: datetime,
    mode: ConversationMode = ConversationMode.SINGLE,
    *,
    lang: str = "en",
    zone: ZoneInfo | None = None,
) -> OfflineAnswer:
    """Answer a question from the event's data (``now`` aware; local times in the venue's zone,
    ``zone`` or the ``event.timezone`` setting). Never raises on odd input."""
    return _Answerer(knowledge, index, now, mode, lang, zone).answer(question)


def suggestions(
    knowledge: EventKnowledge,
    index: EventIndex,
    now: datetime,
    *,
    count: int = 4,
    lang: str = "en",
    zone: ZoneInfo | None = None,
) -> tuple[str, ...]:
    """Good sample questions for the attract screen, built from the event's data."""
    return _Answerer(knowledge, index, now, ConversationMode.SINGLE, lang, zone).suggest(
        "attract", count=count
    )


__all__ = ["ENGLISH_LEXICON", "LEXICONS", "Lexicon", "OfflineAnswer", "answer", "suggestions"]
