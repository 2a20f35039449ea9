"""The demo conference: a realistic, fictional event to try the kiosk and the console with.

``convergeai demo`` (or :func:`load_demo`) adds "Converge Summit 2026", dated around the venue's
today so it is live whenever it is loaded: a main conference assistant, a workshop track
assistant and an invite-only side event three weeks later, with their guests (speakers and
moderators), 20 attendees and a few past conversations for the dashboards.

Demo sign-in: three attendees (``maya.patel``, ``jonas.weber``, ``chloe.dubois``) have the
password ``summit-demo-2026`` (:data:`DEMO_PASSWORD`). It exists for demo data only, on attendee
accounts only; the demo never creates an organizer account, and no default organizer password
exists anywhere (the first organizer is made with ``convergeai create-admin``).

Every person and organization here is invented. Loading is idempotent: demo records are found by
stable markers (the assistants' names, guests' names within their assistant, usernames, the
messages' client ids), anything missing is added and nothing else changes.

The content lives in the module-level tables below (``DEMO_CHATBOTS``, ``DEMO_GUESTS``,
``DEMO_ATTENDEES``, ``DEMO_CONVERSATIONS``); the agenda and FAQ live in
:mod:`shared.demo_programme`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from shared.db import Database
from shared.demo_programme import add_programme
from shared.errors import ValidationError
from shared.models import Chatbot, ConversationMode, Guest, Message, MessageSource, Role, User
from shared.services import chat
from shared.services.auth import hash_password
from shared.services.chatbots import DESCRIPTION_MAX, SYSTEM_PROMPT_MAX, ensure_participant
from shared.services.common import Actor, venue_today
from shared.services.responder import Reply
from shared.settings import get_settings
from shared.validation import check_password, clean_email, clean_name, clean_text, clean_username

log = logging.getLogger("convergeai.demo")

#: The password of the demo attendees in :data:`DEMO_LOGINS`. Demo data only; never an organizer.
DEMO_PASSWORD = "summit-demo-2026"
#: Kiosk name recorded with the demo conversations.
DEMO_KIOSK = "Demo kiosk"

# The content ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoChatbot:
    """An event assistant of the demo; ``key`` links guests, enrolments and conversations to it.
    Dates are days relative to the venue's today."""

    key: str
    name: str
    event_name: str
    description: str
    system_prompt: str
    start_offset: int
    end_offset: int
    single_mode: bool = True
    multiple_mode: bool = False
    public: bool = True


@dataclass(frozen=True)
class DemoGuest:
    """A speaker or moderator of one demo assistant."""

    chatbot: str
    name: str
    title: str
    organization: str
    description: str
    is_speaker: bool = True
    is_moderator: bool = False


@dataclass(frozen=True)
class DemoAttendee:
    """A demo attendee; ``login`` ones get :data:`DEMO_PASSWORD`, the others no password."""

    username: str
    name: str
    email: str
    enrolled: tuple[str, ...] = ("main",)
    login: bool = False


@dataclass(frozen=True)
class DemoExchange:
    """A question and the assistant's answer, written by hand from the demo's own data.

    ``answered`` False is the assistant saying it does not know (the organizers' list of
    unanswered questions)."""

    question: str
    answer: str
    answered: bool = True


@dataclass(frozen=True)
class DemoConversation:
    """A past conversation: a signed-in attendee's (``username``) or a walk-up one (None)."""

    key: str
    chatbot: str
    username: str | None
    exchanges: tuple[DemoExchange, ...]
    kiosk: str = DEMO_KIOSK


_VENUE_FACTS = """\
Event facts:
- Venue: Harbourside Convention Centre. Main Hall (keynotes and panels, level 0), Rooms A to D \
(track talks, level 1), Workshop Lab (level 2), Expo Hall (sponsors and lunch, level 0).
- Doors open at 08:00 every day; the first keynote starts at 09:00; the last session ends at \
18:00.
- Lunch is served from 12:30 to 13:30 in the Expo Hall. Vegetarian, vegan and gluten-free \
dishes are at the green-labelled counters. Coffee is free all day on every level.
- The Help Desk and the cloakroom are in the main lobby, by the north entrance.
- The Wi-Fi details are printed on the back of every badge.
- The evening reception is on day 2 at 19:00 on the Terrace (level 3); the badge is the ticket.
- Recordings of the Main Hall sessions are sent to registered attendees within a week.
"""

DEMO_CHATBOTS: tuple[DemoChatbot, ...] = (
    DemoChatbot(
        key="main",
        name="Converge Summit Guide",
        event_name="Converge Summit 2026",
        description=(
            "Three days of keynotes, panels and track talks on applied AI, products and the "
            "future of work, at the Harbourside Convention Centre. Ask about speakers, "
            "sessions, rooms, food and everything practical."
        ),
        system_prompt=(
            "You are the Converge Summit 2026 assistant on the touchscreen kiosks at the venue. "
            "Help attendees with speakers, sessions, rooms and practical questions.\n"
            "Answer only from the event facts below and the guest list. If the answer is not "
            "there, say that you do not know and suggest the Help Desk in the main lobby; "
            "never guess times, rooms or names.\n"
            "Keep answers short (two to four sentences), friendly and plain, in the language "
            "of the question. Do not ask for personal data.\n\n" + _VENUE_FACTS
        ),
        start_offset=-1,
        end_offset=1,
        single_mode=True,
        multiple_mode=True,
    ),
    DemoChatbot(
        key="workshops",
        name="Converge Workshops Guide",
        event_name="Converge Summit 2026 - Workshop Track",
        description=(
            "Hands-on workshops on days 2 and 3 of the summit, in the Workshop Lab on level 2. "
            "Places are limited: ask which workshops still have seats."
        ),
        system_prompt=(
            "You help attendees choose and prepare for the Converge Summit 2026 workshops. "
            "Answer only from the facts below and the workshop leaders' descriptions; if you do "
            "not know, send them to the Help Desk in the main lobby. Be brief and practical.\n\n"
            "Workshop facts:\n"
            "- All workshops are in the Workshop Lab, level 2, on days 2 and 3.\n"
            "- Each workshop has 25 seats. Sign up at the Help Desk in the main lobby; a seat "
            "is held until 10 minutes after the start.\n"
            "- Bring a charged laptop. Power strips are at every table.\n"
        ),
        start_offset=0,
        end_offset=1,
        single_mode=True,
        multiple_mode=False,
    ),
    DemoChatbot(
        key="forum",
        name="Founders Forum Guide",
        event_name="Converge Founders Forum",
        description=(
            "An invite-only afternoon for founders and investors, three weeks after the summit, "
            "at the Harbourside Convention Centre's Terrace Rooms."
        ),
        system_prompt=(
            "You are the assistant of the Converge Founders Forum, an invite-only afternoon "
            "for founders and investors. Answer from the guest list and these facts only; "
            "otherwise say you do not know.\n\n"
            "Forum facts:\n"
            "- Terrace Rooms, level 3 of the Harbourside Convention Centre, 13:00 to 18:00.\n"
            "- Open to invited guests only; the invitation email is the ticket.\n"
        ),
        start_offset=20,
        end_offset=20,
        single_mode=True,
        multiple_mode=False,
        public=False,
    ),
)

DEMO_GUESTS: tuple[DemoGuest, ...] = (
    # Main conference
    DemoGuest(
        "main",
        "Dr. Amara Okafor",
        "Chief Scientist",
        "Helix Robotics",
        "Amara leads the research team behind Helix's warehouse robots, which learn new tasks "
        "from a handful of demonstrations. She opens the summit with the keynote "
        '"Robots that learn on the job" on day 1 at 09:00 in the Main Hall. Before Helix she '
        "spent eight years in academic research on reinforcement learning.",
    ),
    DemoGuest(
        "main",
        "Kenji Watanabe",
        "VP of Product",
        "Lumen Health",
        "Kenji runs product at Lumen Health, whose assistant drafts clinical notes for nurses "
        'and doctors. His talk "Shipping AI where mistakes matter" (day 1, 11:00, Room A) '
        "covers how his team tests, reviews and rolls out features in hospitals.",
    ),
    DemoGuest(
        "main",
        "Sofia Marquez",
        "Founder and CEO",
        "Terrabyte Analytics",
        "Sofia founded Terrabyte Analytics to turn satellite and sensor data into early "
        "warnings for farmers and water utilities. On day 1 at 14:00 in Room B she shows how "
        "small teams can build useful climate models on a modest budget.",
    ),
    DemoGuest(
        "main",
        "Priya Raman",
        "Head of Responsible AI",
        "Northwind Bank",
        "Priya built Northwind Bank's review process for every model that touches a customer "
        'decision. She speaks on the panel "Trust by design: AI in regulated industries" on '
        "day 2 at 10:00 in the Main Hall.",
    ),
    DemoGuest(
        "main",
        "Lukas Becker",
        "Principal Engineer",
        "Quanta Cloud",
        "Lukas works on the serving platform that runs language models for Quanta Cloud's "
        'customers. His talk "Inference at scale without the bill shock" (day 2, 11:30, '
        "Room C) is about batching, caching and choosing the smallest model that does the job.",
    ),
    DemoGuest(
        "main",
        "Aisha Al-Farsi",
        "Partner",
        "Meridian Ventures",
        "Aisha invests in early-stage companies building software for logistics, health and "
        'education. She joins the investor panel "What we fund next" on day 2 at 15:00 in '
        "the Main Hall.",
    ),
    DemoGuest(
        "main",
        "Daniel Mensah",
        "Director of Data",
        "City of Eastport",
        "Daniel leads the data team of the City of Eastport, which publishes open data and "
        'uses forecasting to plan bus routes and street repairs. On the "Trust by design" '
        "panel he brings the public-sector view.",
    ),
    DemoGuest(
        "main",
        "Hannah Lindqvist",
        "Design Lead",
        "Fjord Studio",
        "Hannah designs conversational products for banks, airlines and museums. Her talk "
        '"Conversations people finish" (day 2, 14:00, Room A) shares what they learned from '
        "watching thousands of people use chat and voice assistants.",
    ),
    DemoGuest(
        "main",
        "Mateo Rossi",
        "Chief Technology Officer",
        "Orbit Logistics",
        "Mateo's team plans routes for 4,000 delivery vans a day across southern Europe. On day "
        "3 at 10:00 in Room B he explains how they combine forecasting with human dispatchers, "
        "and what they stopped automating.",
    ),
    DemoGuest(
        "main",
        "Prof. Mei-Lin Chen",
        "Professor of Computer Science",
        "Westbridge University",
        "Mei-Lin researches how people and AI systems share decisions at work. She gives the "
        'closing keynote "The next ten years of work" on day 3 at 16:30 in the Main Hall.',
    ),
    DemoGuest(
        "main",
        "Grace Adeyemi",
        "Editor-at-Large",
        "Signal & Noise",
        "Grace has reported on the technology industry for fifteen years. She hosts the Main "
        'Hall on days 1 and 2 and moderates the "Trust by design" panel.',
        is_speaker=False,
        is_moderator=True,
    ),
    DemoGuest(
        "main",
        "Rafael Costa",
        "Community Director",
        "Converge",
        "Rafael runs the Converge community and its meetups in twelve cities. He moderates the "
        'investor panel "What we fund next" and hosts the Main Hall on day 3.',
        is_speaker=False,
        is_moderator=True,
    ),
    # Workshop track
    DemoGuest(
        "workshops",
        "Ines Duarte",
        "Machine Learning Engineer",
        "Helix Robotics",
        "Ines trains the compact models that run on Helix's robots. Her workshop \"Fine-tuning "
        'small models" (day 2, 10:00 to 12:00) walks through preparing data, training and '
        "evaluating a small language model. Bring a laptop with at least 16 GB of memory; the "
        "exercises run in the browser.",
    ),
    DemoGuest(
        "workshops",
        "Tomasz Nowak",
        "Developer Advocate",
        "Quanta Cloud",
        "Tomasz helps developers build search and question-answering on their own documents. "
        'In "Building retrieval pipelines" (day 2, 14:00 to 16:00) each table builds a working '
        "document search assistant step by step.",
    ),
    DemoGuest(
        "workshops",
        "Nadia Haddad",
        "Product Designer",
        "Fjord Studio",
        "Nadia designs and tests voice and chat interfaces with real users. Her workshop "
        '"Prototyping conversations" (day 3, 10:00 to 12:00) needs no coding: paper, sticky '
        "notes and a laptop for the final test.",
    ),
    DemoGuest(
        "workshops",
        "Oluwaseun Bello",
        "Workshop Track Host",
        "Converge",
        "Seun runs the Workshop Lab: seating, sign-up lists and help with laptops. Find him at "
        "the Lab entrance fifteen minutes before each workshop.",
        is_speaker=False,
        is_moderator=True,
    ),
    # Founders Forum
    DemoGuest(
        "forum",
        "Elena Petrova",
        "Managing Partner",
        "Northstar Capital",
        "Elena has backed more than forty software companies in their first two years. At the "
        'Forum she leads the session "Raising your first round in a cautious market".',
    ),
    DemoGuest(
        "forum",
        "Julien Moreau",
        "Founder",
        "Atelier AI",
        "Julien started Atelier AI, which helps small manufacturers plan production, and sold "
        "his first company in 2019. He talks about hiring the first ten people.",
    ),
)

_ALL_EVENTS = ("main", "workshops", "forum")
DEMO_ATTENDEES: tuple[DemoAttendee, ...] = (
    DemoAttendee("maya.patel", "Maya Patel", "maya.patel@example.org", _ALL_EVENTS, login=True),
    DemoAttendee("jonas.weber", "Jonas Weber", "jonas.weber@example.com", _ALL_EVENTS, login=True),
    DemoAttendee(
        "chloe.dubois", "Chloé Dubois", "chloe.dubois@example.org", _ALL_EVENTS, login=True
    ),
    DemoAttendee("samuel.osei", "Samuel Osei", "samuel.osei@example.com", ("main", "workshops")),
    DemoAttendee("yuki.tanaka", "Yuki Tanaka", "yuki.tanaka@example.org", ("main", "workshops")),
    DemoAttendee("fatima.benali", "Fatima Zahra Benali", "f.benali@example.com", ("main", "forum")),
    DemoAttendee("liam.obrien", "Liam O'Brien", "liam.obrien@example.org"),
    DemoAttendee("ana.silva", "Ana Silva", "ana.silva@example.com", ("main", "workshops")),
    DemoAttendee("david.cohen", "David Cohen", "david.cohen@example.org"),
    DemoAttendee("zanele.dlamini", "Zanele Dlamini", "zanele.dlamini@example.com"),
    DemoAttendee("arjun.mehta", "Arjun Mehta", "arjun.mehta@example.org", ("main", "forum")),
    DemoAttendee("sara.lindgren", "Sara Lindgren", "sara.lindgren@example.com"),
    DemoAttendee("marco.bianchi", "Marco Bianchi", "marco.bianchi@example.org"),
    DemoAttendee("hyejin.park", "Hye-jin Park", "hyejin.park@example.com", ("main", "workshops")),
    DemoAttendee("omar.khalil", "Omar Khalil", "omar.khalil@example.org"),
    DemoAttendee("emily.nguyen", "Emily Nguyen", "emily.nguyen@example.com"),
    DemoAttendee("tobias.keller", "Tobias Keller", "tobias.keller@example.org"),
    DemoAttendee("amina.yusuf", "Amina Yusuf", "amina.yusuf@example.com"),
    DemoAttendee("pablo.herrera", "Pablo Herrera", "pablo.herrera@example.org"),
    DemoAttendee("ingrid.larsen", "Ingrid Larsen", "ingrid.larsen@example.com"),
)

DEMO_CONVERSATIONS: tuple[DemoConversation, ...] = (
    DemoConversation(
        "maya-main",
        "main",
        "maya.patel",
        (
            DemoExchange(
                "Who is giving the opening keynote?",
                "The summit opens with Dr. Amara Okafor, Chief Scientist at Helix Robotics. Her "
                'keynote "Robots that learn on the job" is on day 1 at 09:00 in the Main Hall.',
            ),
            DemoExchange(
                "Where can I get lunch with vegan options?",
                "Lunch is served from 12:30 to 13:30 in the Expo Hall on level 0. Vegetarian, "
                "vegan and gluten-free dishes are at the green-labelled counters.",
            ),
        ),
        kiosk="Lobby kiosk 1",
    ),
    DemoConversation(
        "jonas-main",
        "main",
        "jonas.weber",
        (
            DemoExchange(
                "Is there a session about responsible AI in banking?",
                "Yes: Priya Raman, Head of Responsible AI at Northwind Bank, speaks on the panel "
                '"Trust by design: AI in regulated industries" on day 2 at 10:00 in the Main '
                "Hall, with Daniel Mensah of the City of Eastport. Grace Adeyemi moderates.",
            ),
            DemoExchange(
                "Will the talks be recorded?",
                "Yes. Recordings of the Main Hall sessions are sent to registered attendees "
                "within a week.",
            ),
        ),
        kiosk="Lobby kiosk 2",
    ),
    DemoConversation(
        "walkup-main",
        "main",
        None,
        (
            DemoExchange(
                "Where is the cloakroom?",
                "The cloakroom is in the main lobby, next to the Help Desk by the north entrance.",
            ),
            DemoExchange(
                "Is there parking at the venue?",
                "I don't have any information about parking. Please ask at the Help Desk in the "
                "main lobby, by the north entrance.",
                answered=False,
            ),
        ),
        kiosk="Expo Hall kiosk",
    ),
    DemoConversation(
        "samuel-main",
        "main",
        "samuel.osei",
        (
            DemoExchange(
                "Who closes the summit?",
                'Prof. Mei-Lin Chen of Westbridge University gives the closing keynote, "The '
                'next ten years of work", on day 3 at 16:30 in the Main Hall.',
            ),
        ),
        kiosk="Lobby kiosk 1",
    ),
    DemoConversation(
        "chloe-workshops",
        "workshops",
        "chloe.dubois",
        (
            DemoExchange(
                "What do I need for the fine-tuning workshop?",
                'Ines Duarte\'s "Fine-tuning small models" workshop is on day 2 from 10:00 to '
                "12:00 in the Workshop Lab, level 2. Bring a charged laptop with at least 16 GB "
                "of memory; the exercises run in the browser.",
            ),
            DemoExchange(
                "How do I get a seat?",
                "Sign up at the Help Desk in the main lobby. Each workshop has 25 seats, and a "
                "seat is held until 10 minutes after the start.",
            ),
        ),
        kiosk="Workshop Lab kiosk",
    ),
)

# The summary ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoChatbotRef:
    """A demo event assistant: its id, name and dates (those of its first load: a second load
    keeps them)."""

    id: int
    name: str
    start_date: date
    end_date: date


@dataclass(frozen=True)
class DemoLogin:
    """A demo attendee who can sign in with :data:`DEMO_PASSWORD`."""

    username: str
    name: str
    password: str = DEMO_PASSWORD


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`load_demo` found or made.

    ``created`` is True when this run added anything (a first load, or missing pieces filled
    in); ``added`` counts the rows it added. The other figures describe the demo as it now is.
    """

    created: bool
    chatbots: tuple[DemoChatbotRef, ...]
    guests: int
    attendees: int
    messages: int
    logins: tuple[DemoLogin, ...]
    added: int = 0


DEMO_LOGINS: tuple[DemoLogin, ...] = tuple(
    DemoLogin(a.username, a.name) for a in DEMO_ATTENDEES if a.login
)

# Loading ----------------------------------------------------------------------------------------


@dataclass
class _Run:
    """Ids found or made so far, and how many rows this run added."""

    today: date
    password_hash: str | None
    chatbots: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    added: int = 0


def _find_chatbot(s: Session, spec: DemoChatbot) -> Chatbot | None:
    return s.scalars(
        select(Chatbot)
        .where(Chatbot.name == spec.name, Chatbot.event_name == spec.event_name)
        .order_by(Chatbot.id)
        .limit(1)
    ).one_or_none()


def _load_chatbots(s: Session, run: _Run) -> None:
    for spec in DEMO_CHATBOTS:
        bot = _find_chatbot(s, spec)
        if bot is None:
            start = run.today + timedelta(days=spec.start_offset)
            end = run.today + timedelta(days=spec.end_offset)
            if end < start or not (spec.single_mode or spec.multiple_mode):
                raise ValidationError(f"Demo assistant {spec.name!r} is inconsistent.")
            bot = Chatbot(
                name=clean_text(spec.name, "name", "Name", max_length=120),
                event_name=clean_text(spec.event_name, "event_name", "Event name", max_length=200),
                description=clean_text(
                    spec.description,
                    "description",
                    "Description",
                    max_length=DESCRIPTION_MAX,
                    multiline=True,
                ),
                system_prompt=clean_text(
                    spec.system_prompt,
                    "system_prompt",
                    "System prompt",
                    max_length=SYSTEM_PROMPT_MAX,
                    multiline=True,
                ),
                start_date=start,
                end_date=end,
                single_mode=spec.single_mode,
                multiple_mode=spec.multiple_mode,
                public=spec.public,
                active=True,
                created_by_id=None,  # the demo has no organizer
            )
            s.add(bot)
            s.flush()
            run.added += 1
        run.chatbots[spec.key] = bot.id


def _load_guests(s: Session, run: _Run) -> None:
    for spec in DEMO_GUESTS:
        chatbot_id = run.chatbots[spec.chatbot]
        name = clean_name(spec.name)
        exists = s.scalar(
            select(Guest.id)
            .where(Guest.chatbot_id == chatbot_id, func.lower(Guest.name) == name.lower())
            .limit(1)
        )
        if exists is not None:
            continue
        s.add(
            Guest(
                chatbot_id=chatbot_id,
                name=name,
                title=clean_text(spec.title, "title", "Title", max_length=200, required=False),
                organization=clean_text(
                    spec.organization,
                    "organization",
                    "Organization",
                    max_length=200,
                    required=False,
                ),
                description=clean_text(
                    spec.description,
                    "description",
                    "Description",
                    max_length=DESCRIPTION_MAX,
                    required=False,
                    multiline=True,
                ),
                is_speaker=spec.is_speaker,
                is_moderator=spec.is_moderator,
            )
        )
        run.added += 1
    s.flush()


def _load_attendees(s: Session, run: _Run) -> None:
    for spec in DEMO_ATTENDEES:
        username = clean_username(spec.username)
        email = clean_email(spec.email)
        user = s.scalars(
            select(User).where(or_(User.username == username, User.email == email)).limit(1)
        ).one_or_none()
        if user is None:
            hashed = None
            if spec.login:
                check_password(DEMO_PASSWORD, username=username, email=email)
                if run.password_hash is None:
                    raise AssertionError("the demo password hash was not prepared")
                hashed = run.password_hash
            user = User(
                username=username,
                email=email,
                name=clean_name(spec.name),
                password_hash=hashed,
                role=Role.ATTENDEE.value,
            )
            s.add(user)
            s.flush()
            run.added += 1
        run.users[spec.username] = user.id
        for key in spec.enrolled:
            if ensure_participant(s, run.chatbots[key], user.id):
                run.added += 1


def _load_conversations(s: Session, run: _Run) -> None:
    """The past conversations, through the chat service (counters and daily figures included).
    A conversation is there when its first question's client id is. An assistant loaded long ago
    may have ended meanwhile; the chat service (rightly) refuses new messages to it, so its
    missing conversations are left out."""
    for spec in DEMO_CONVERSATIONS:
        if s.scalar(select(Message.id).where(Message.client_id == _client_id(spec, 0))):
            continue
        chatbot_id = run.chatbots[spec.chatbot]
        bot = s.get(Chatbot, chatbot_id)
        if bot is None or not bot.active or bot.end_date < run.today:
            log.info("demo conversation %s left out: its assistant is not open", spec.key)
            continue
        if spec.username is None:
            actor: Actor | None = None
            mode = ConversationMode.MULTIPLE
        else:
            actor = Actor(run.users[spec.username], Role.ATTENDEE)
            mode = ConversationMode.SINGLE
        conv = chat.start_conversation(
            s, actor, chatbot_id, mode, kiosk_name=spec.kiosk, resume=False
        )
        for n, exchange in enumerate(spec.exchanges):
            question = chat.post_user_message(
                s, actor, conv.id, exchange.question, client_id=_client_id(spec, n)
            )
            reply = Reply(exchange.answer, MessageSource.OFFLINE, exchange.answered)
            chat.post_reply(s, conv.id, question.id, reply)
            run.added += 2
        if mode is ConversationMode.MULTIPLE:
            chat.end_conversation(s, actor, conv.id)  # the walk-up visitor left


def _client_id(spec: DemoConversation, n: int) -> str:
    return f"demo-{spec.key}-{n}"


def _missing_login_users(db: Database) -> bool:
    names = [a.username for a in DEMO_ATTENDEES if a.login]
    with db.read() as s:
        found = set(s.scalars(select(User.username).where(User.username.in_(names))))
    return len(found) < len(names)


def _load(db: Database) -> DemoSummary:
    # bcrypt takes a while at production cost: hash outside the write transaction, and only
    # when a demo login is missing (one hash serves the three: they share the demo password).
    password_hash = hash_password(DEMO_PASSWORD) if _missing_login_users(db) else None
    with db.session() as s:
        run = _Run(today=venue_today(), password_hash=password_hash)
        _load_chatbots(s, run)
        _load_guests(s, run)
        _load_attendees(s, run)
        _load_conversations(s, run)
        _load_programmes(s, run)
        return _summary(s, run)


def _load_programmes(s: Session, run: _Run) -> None:
    """Agenda and FAQ of each demo assistant (shared.demo_programme), where missing."""
    zone = get_settings().timezone()
    for chatbot_id in run.chatbots.values():
        bot = s.get(Chatbot, chatbot_id)
        if bot is not None:
            items, entries = add_programme(s, chatbot_id, bot.start_date, zone)
            run.added += items + entries


def _summary(s: Session, run: _Run) -> DemoSummary:
    ids = list(run.chatbots.values())
    bots = list(s.scalars(select(Chatbot).where(Chatbot.id.in_(ids)).order_by(Chatbot.id)))
    guests = s.scalar(select(func.count()).select_from(Guest).where(Guest.chatbot_id.in_(ids)))
    # the counters the chat service maintains (no count over a busy messages table)
    messages = s.scalar(
        select(func.coalesce(func.sum(Chatbot.message_count), 0)).where(Chatbot.id.in_(ids))
    )
    return DemoSummary(
        created=run.added > 0,
        chatbots=tuple(DemoChatbotRef(b.id, b.name, b.start_date, b.end_date) for b in bots),
        guests=int(guests or 0),
        attendees=len(run.users),
        messages=int(messages or 0),
        logins=DEMO_LOGINS,
        added=run.added,
    )


def load_demo(db: Database) -> DemoSummary:
    """Add the demo conference, or whatever part of it is missing; idempotent.

    Runs in one transaction: a failure leaves nothing half-loaded. If another process loads the
    demo at the same moment, the loser's transaction fails on a unique username and is retried
    once, and then finds everything in place.
    """
    try:
        summary = _load(db)
    except IntegrityError:
        log.info("demo data added concurrently by another process; checking again")
        summary = _load(db)
    log.info("demo conference: %d rows added", summary.added)
    return summary
