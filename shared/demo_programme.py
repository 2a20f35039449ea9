"""The demo conference's programme and FAQ (see :mod:`shared.demo` for the event and its guests).

:func:`add_programme` gives a demo assistant its agenda and FAQ: the three-day "Converge Summit
2026" programme (keynotes, talks, panels with moderators, workshops, lunch and breaks in the Main
Hall, Rooms A to D, the Workshop Lab and the Expo Hall, tracks "AI & Data", "Product" and
"Sustainability") with ~16 practical FAQ entries, or the smaller programmes of the workshop track
and the Founders Forum, chosen by the assistant's name. Everything agrees with the guests'
biographies and the organizers' prompt in :mod:`shared.demo` (times, rooms, lunch, cloakroom...).

Times are venue-local wall-clock times, turned into aware UTC with the venue's zone. Speakers are
linked by name to the guests of the same assistant; a name without a guest is skipped (the
session stays, without that speaker). Idempotent: an assistant that has agenda items already is
left alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.db import utcnow
from shared.errors import NotFound
from shared.models import AgendaItem, Chatbot, FaqEntry, Guest
from shared.validation import clean_text

log = logging.getLogger("convergeai.demo")

AI_DATA, PRODUCT, SUSTAINABILITY = "AI & Data", "Product", "Sustainability"
MAIN_HALL, ROOM_A, ROOM_B, ROOM_C, ROOM_D = "Main Hall", "Room A", "Room B", "Room C", "Room D"
LAB, EXPO, TERRACE = "Workshop Lab", "Expo Hall", "Terrace"


@dataclass(frozen=True)
class DemoItem:
    """One agenda item: ``day`` 0 is the assistant's first day; local "HH:MM" times."""

    day: int
    start: str
    end: str
    title: str
    location: str
    track: str = ""
    description: str = ""
    speakers: tuple[str, ...] = ()


@dataclass(frozen=True)
class DemoFaq:
    """One FAQ entry."""

    question: str
    answer: str


_LUNCH = (
    "Lunch is served in the Expo Hall on level 0. Vegetarian, vegan and gluten-free dishes are "
    "at the green-labelled counters."
)
_COFFEE = "Coffee, tea and water in the Expo Hall and on every level."

MAIN_PROGRAMME: tuple[DemoItem, ...] = (
    # Day 1
    DemoItem(
        0,
        "08:00",
        "09:00",
        "Registration and welcome coffee",
        EXPO,
        description="Pick up your badge at the registration desk in the main lobby, then "
        "join us for coffee in the Expo Hall.",
    ),
    DemoItem(
        0,
        "09:00",
        "09:45",
        "Opening keynote: Robots that learn on the job",
        MAIN_HALL,
        AI_DATA,
        "How Helix's warehouse robots learn new tasks from a handful of demonstrations, and "
        "what it takes to let a learning machine work next to people.",
        ("Dr. Amara Okafor",),
    ),
    DemoItem(
        0,
        "10:00",
        "10:45",
        "Welcome to the Main Hall: the summit in ten minutes",
        MAIN_HALL,
        "",
        "Your hosts introduce the three days: tracks, rooms, workshops and the evening reception.",
        ("Grace Adeyemi",),
    ),
    DemoItem(0, "10:45", "11:00", "Coffee break", EXPO, "", _COFFEE),
    DemoItem(
        0,
        "11:00",
        "11:45",
        "Shipping AI where mistakes matter",
        ROOM_A,
        PRODUCT,
        "Testing, review and careful roll-outs: how Lumen Health ships an assistant that "
        "drafts clinical notes for nurses and doctors in hospitals.",
        ("Kenji Watanabe",),
    ),
    DemoItem(
        0,
        "11:00",
        "11:45",
        "Lightning talks: data teams",
        ROOM_C,
        AI_DATA,
        "Five short talks from data teams on pipelines, data quality and dashboards people "
        "actually read.",
    ),
    DemoItem(0, "12:30", "13:30", "Lunch", EXPO, "", _LUNCH),
    DemoItem(
        0,
        "14:00",
        "14:45",
        "Climate models on a modest budget",
        ROOM_B,
        SUSTAINABILITY,
        "Satellite and sensor data turned into early warnings for farmers and water "
        "utilities: how a small team builds useful climate models without a supercomputer.",
        ("Sofia Marquez",),
    ),
    DemoItem(0, "15:00", "15:30", "Coffee break", EXPO, "", _COFFEE),
    DemoItem(
        0,
        "15:30",
        "16:30",
        "Startup showcase",
        MAIN_HALL,
        PRODUCT,
        "Ten young companies, five minutes each, one question from the audience.",
        ("Grace Adeyemi",),
    ),
    DemoItem(
        0,
        "16:45",
        "18:00",
        "Meet the sponsors",
        EXPO,
        "",
        "The sponsors' stands in the Expo Hall, with drinks.",
    ),
    # Day 2
    DemoItem(1, "08:30", "09:00", "Welcome coffee", EXPO, "", _COFFEE),
    DemoItem(
        1,
        "09:00",
        "09:30",
        "Day 2 welcome",
        MAIN_HALL,
        "",
        "The hosts open day 2 of the summit.",
        ("Grace Adeyemi",),
    ),
    DemoItem(
        1,
        "10:00",
        "11:00",
        "Panel: Trust by design: AI in regulated industries",
        MAIN_HALL,
        AI_DATA,
        "Banks and city governments use AI in decisions about people. How do they review "
        "models, explain them and keep regulators on board?",
        ("Priya Raman", "Daniel Mensah", "Grace Adeyemi"),
    ),
    DemoItem(
        1,
        "10:00",
        "12:00",
        "Workshop: Fine-tuning small models",
        LAB,
        AI_DATA,
        "Led by Ines Duarte (Helix Robotics). Prepare data, train and evaluate a small "
        "language model. Bring a laptop with at least 16 GB of memory; 25 seats, sign up "
        "at the Help Desk.",
    ),
    DemoItem(1, "11:00", "11:30", "Coffee break", EXPO, "", _COFFEE),
    DemoItem(
        1,
        "11:30",
        "12:15",
        "Inference at scale without the bill shock",
        ROOM_C,
        AI_DATA,
        "Batching, caching and choosing the smallest model that does the job: serving "
        "language models for many customers at a sensible cost.",
        ("Lukas Becker",),
    ),
    DemoItem(1, "12:30", "13:30", "Lunch", EXPO, "", _LUNCH),
    DemoItem(
        1,
        "14:00",
        "14:45",
        "Conversations people finish",
        ROOM_A,
        PRODUCT,
        "What watching thousands of people use chat and voice assistants taught a design "
        "team about conversations that work.",
        ("Hannah Lindqvist",),
    ),
    DemoItem(
        1,
        "14:00",
        "14:45",
        "Greener data centres",
        ROOM_D,
        SUSTAINABILITY,
        "Cooling, scheduling and siting: practical ways to cut the energy and water used "
        "by data centres.",
    ),
    DemoItem(
        1,
        "14:00",
        "16:00",
        "Workshop: Building retrieval pipelines",
        LAB,
        AI_DATA,
        "Led by Tomasz Nowak (Quanta Cloud). Each table builds a working document search "
        "assistant step by step. 25 seats, sign up at the Help Desk.",
    ),
    DemoItem(
        1,
        "15:00",
        "16:00",
        "Panel: What we fund next",
        MAIN_HALL,
        PRODUCT,
        "Investors on the software companies they back in logistics, health and education.",
        ("Aisha Al-Farsi", "Rafael Costa"),
    ),
    DemoItem(1, "16:00", "16:30", "Coffee break", EXPO, "", _COFFEE),
    DemoItem(
        1,
        "16:30",
        "18:00",
        "Community meetups",
        ROOM_B,
        "",
        "Informal meetups of the Converge community by city and by interest.",
    ),
    DemoItem(
        1,
        "19:00",
        "21:00",
        "Evening reception",
        TERRACE,
        "",
        "Drinks and food on the Terrace, level 3. Your badge is your ticket.",
    ),
    # Day 3
    DemoItem(2, "08:30", "09:00", "Welcome coffee", EXPO, "", _COFFEE),
    DemoItem(
        2,
        "09:00",
        "09:30",
        "Day 3 welcome",
        MAIN_HALL,
        "",
        "The host opens the last day of the summit.",
        ("Rafael Costa",),
    ),
    DemoItem(
        2,
        "10:00",
        "10:45",
        "Routing 4,000 vans a day: forecasts meet dispatchers",
        ROOM_B,
        AI_DATA,
        "How Orbit Logistics combines forecasting with human dispatchers to plan delivery "
        "routes across southern Europe, and what they stopped automating.",
        ("Mateo Rossi",),
    ),
    DemoItem(
        2,
        "10:00",
        "12:00",
        "Workshop: Prototyping conversations",
        LAB,
        PRODUCT,
        "Led by Nadia Haddad (Fjord Studio). Design and test a voice or chat interface "
        "with paper and sticky notes; no coding needed. Bring a laptop for the final test.",
    ),
    DemoItem(2, "11:00", "11:30", "Coffee break", EXPO, "", _COFFEE),
    DemoItem(
        2,
        "11:30",
        "12:15",
        "Climate tech demo hour",
        ROOM_D,
        SUSTAINABILITY,
        "Live demonstrations of tools that measure and cut emissions, from farms to factories.",
    ),
    DemoItem(2, "12:30", "13:30", "Lunch", EXPO, "", _LUNCH),
    DemoItem(
        2,
        "14:00",
        "15:00",
        "Product teams in the age of assistants",
        ROOM_A,
        PRODUCT,
        "Roadmaps, research and quality when part of the product is a language model.",
    ),
    DemoItem(
        2,
        "15:00",
        "16:15",
        "Unconference",
        ROOM_C,
        "",
        "Sessions proposed on the day by attendees: add yours to the board in the Expo Hall.",
    ),
    DemoItem(
        2,
        "16:30",
        "17:30",
        "Closing keynote: The next ten years of work",
        MAIN_HALL,
        AI_DATA,
        "How people and AI systems will share decisions at work over the next decade, "
        "from research on real teams.",
        ("Prof. Mei-Lin Chen",),
    ),
    DemoItem(
        2,
        "17:30",
        "18:00",
        "Closing remarks and farewell",
        MAIN_HALL,
        "",
        "Thanks, highlights and the date of next year's summit.",
        ("Rafael Costa",),
    ),
)

MAIN_FAQ: tuple[DemoFaq, ...] = (
    DemoFaq(
        "What is the Wi-Fi network and password?",
        "The Wi-Fi network is Converge-Guest and the password is harbour2026. The details "
        "are also printed on the back of your badge.",
    ),
    DemoFaq(
        "What time do the doors open?",
        "Doors open at 08:00 every day. The first keynote starts at 09:00 and the last "
        "session ends at 18:00.",
    ),
    DemoFaq(
        "Where do I pick up my badge?",
        "At the registration desk in the main lobby, by the north entrance, from 08:00 every "
        "day. Bring your confirmation email or a photo ID. Your badge is your ticket to "
        "every session and to the evening reception.",
    ),
    DemoFaq(
        "When and where is lunch?",
        "Lunch is served from 12:30 to 13:30 in the Expo Hall on level 0, every day. Coffee "
        "is free all day on every level.",
    ),
    DemoFaq(
        "Are there vegetarian, vegan or gluten-free options?",
        "Yes. Vegetarian, vegan and gluten-free food is at the green-labelled counters in "
        "the Expo Hall. For other allergies, ask the catering staff at the counters.",
    ),
    DemoFaq(
        "Is there parking at the venue?",
        "Yes. The Harbourside car park P2 is next to the north entrance and costs 12 euros "
        "a day. Spaces for disabled drivers are on level 0 of P2.",
    ),
    DemoFaq(
        "How do I get to the venue? Is there a shuttle?",
        "A free shuttle bus runs between Central Station and the north entrance every 15 "
        "minutes, from 07:30 to 09:30 and from 17:30 to 19:30.",
    ),
    DemoFaq(
        "Is there a cloakroom?",
        "Yes. The cloakroom is in the main lobby, next to the Help Desk by the north "
        "entrance. It is free and open from 08:00 until 30 minutes after the last session.",
    ),
    DemoFaq(
        "Is the venue wheelchair accessible?",
        "Yes. All levels are step-free and served by the lifts next to the main lobby, and "
        "there are accessible toilets on every level. The Main Hall has a hearing loop and "
        "reserved seats at the front.",
    ),
    DemoFaq("Where are the toilets?", "There are toilets on every level, next to the lifts."),
    DemoFaq(
        "Where is first aid?",
        "The first-aid room is on level 0, behind the Help Desk, and is staffed all day. In "
        "an emergency, tell any staff member in a green Converge shirt.",
    ),
    DemoFaq(
        "I lost something. Where is lost and found?",
        "Lost property is kept at the Help Desk in the main lobby. Please hand in anything "
        "you find there too.",
    ),
    DemoFaq(
        "Will the sessions be recorded? Where can I find the slides?",
        "Recordings of the Main Hall sessions are sent to registered attendees within a "
        "week. Speakers' slides are shared in the same email when the speaker agrees.",
    ),
    DemoFaq(
        "Is there a code of conduct?",
        "Yes. Converge Summit is a harassment-free event for everyone. If you experience or "
        "witness unacceptable behaviour, tell any staff member or go to the Help Desk; "
        "reports are handled in confidence.",
    ),
    DemoFaq(
        "Where can I charge my phone or laptop?",
        "Charging stations are in the Expo Hall and outside Rooms A to D on level 1. Every "
        "table in the Workshop Lab has power strips.",
    ),
    DemoFaq(
        "Is there a prayer or quiet room?",
        "Yes. The quiet room on level 1, next to Room D, is open all day for prayer and "
        "rest. Please keep it silent.",
    ),
    DemoFaq(
        "How can I contact the organizers?",
        "Come to the Help Desk in the main lobby, by the north entrance, from 08:00 to 18:30 "
        "every day, or ask any staff member in a green Converge shirt.",
    ),
)

WORKSHOP_PROGRAMME: tuple[DemoItem, ...] = (
    DemoItem(
        0,
        "10:00",
        "12:00",
        "Fine-tuning small models",
        LAB,
        AI_DATA,
        "Prepare data, train and evaluate a small language model. Bring a laptop with at "
        "least 16 GB of memory; the exercises run in the browser.",
        ("Ines Duarte", "Oluwaseun Bello"),
    ),
    DemoItem(
        0,
        "14:00",
        "16:00",
        "Building retrieval pipelines",
        LAB,
        AI_DATA,
        "Each table builds a working document search assistant step by step.",
        ("Tomasz Nowak", "Oluwaseun Bello"),
    ),
    DemoItem(
        1,
        "10:00",
        "12:00",
        "Prototyping conversations",
        LAB,
        PRODUCT,
        "Design and test a voice or chat interface with paper and sticky notes; no coding "
        "needed. Bring a laptop for the final test.",
        ("Nadia Haddad", "Oluwaseun Bello"),
    ),
)

WORKSHOP_FAQ: tuple[DemoFaq, ...] = (
    DemoFaq(
        "How do I get a seat in a workshop?",
        "Sign up at the Help Desk in the main lobby. Each workshop has 25 seats, and a seat "
        "is held until 10 minutes after the start.",
    ),
    DemoFaq(
        "What should I bring?",
        "A charged laptop. Power strips are at every table in the Workshop Lab.",
    ),
    DemoFaq(
        "Where is the Workshop Lab?",
        "On level 2 of the Harbourside Convention Centre; take the lifts next to the main lobby.",
    ),
)

FORUM_PROGRAMME: tuple[DemoItem, ...] = (
    DemoItem(0, "13:00", "13:30", "Welcome", "Terrace Rooms", ""),
    DemoItem(
        0,
        "13:30",
        "14:30",
        "Raising your first round in a cautious market",
        "Terrace Rooms",
        "",
        "",
        ("Elena Petrova",),
    ),
    DemoItem(
        0,
        "14:45",
        "15:45",
        "Hiring the first ten people",
        "Terrace Rooms",
        "",
        "",
        ("Julien Moreau",),
    ),
    DemoItem(0, "16:00", "18:00", "Founders' drinks", "Terrace Rooms", ""),
)

FORUM_FAQ: tuple[DemoFaq, ...] = (
    DemoFaq(
        "Who can attend?",
        "The Founders Forum is open to invited guests only; your invitation email is your ticket.",
    ),
)

#: assistant name (as in shared.demo) -> its programme and FAQ; anything else gets the main ones
PROGRAMMES: dict[str, tuple[tuple[DemoItem, ...], tuple[DemoFaq, ...]]] = {
    "Converge Workshops Guide": (WORKSHOP_PROGRAMME, WORKSHOP_FAQ),
    "Founders Forum Guide": (FORUM_PROGRAMME, FORUM_FAQ),
}


def _at(first_day: date, day: int, clock: str, tz: ZoneInfo) -> datetime:
    hour, minute = (int(p) for p in clock.split(":"))
    local = datetime.combine(first_day + timedelta(days=day), time(hour, minute), tz)
    return local.astimezone(UTC)


def add_programme(s: Session, chatbot_id: int, first_day: date, tz: ZoneInfo) -> tuple[int, int]:
    """Give a demo assistant its programme and FAQ; returns (agenda items, FAQ entries) added.

    ``first_day`` is the assistant's first day, ``tz`` the venue's zone. Does nothing (0, 0) when
    the assistant has agenda items already.
    """
    bot = s.get(Chatbot, chatbot_id)
    if bot is None:
        raise NotFound(f"There is no event assistant with id {chatbot_id}.")
    has_items = s.scalar(
        select(func.count()).select_from(AgendaItem).where(AgendaItem.chatbot_id == chatbot_id)
    )
    if has_items:
        return 0, 0
    items, faq = PROGRAMMES.get(bot.name, (MAIN_PROGRAMME, MAIN_FAQ))
    guests = {
        g.name.casefold(): g for g in s.scalars(select(Guest).where(Guest.chatbot_id == chatbot_id))
    }
    now = utcnow()
    for spec in items:
        speakers = [guests[n.casefold()] for n in spec.speakers if n.casefold() in guests]
        missing = [n for n in spec.speakers if n.casefold() not in guests]
        if missing:
            log.info("demo programme: no guest named %s in assistant %s", missing, chatbot_id)
        item = AgendaItem(
            chatbot_id=chatbot_id,
            title=clean_text(spec.title, "title", "Title", max_length=200),
            description=clean_text(
                spec.description,
                "description",
                "Description",
                max_length=5000,
                required=False,
                multiline=True,
            ),
            starts_at=_at(first_day, spec.day, spec.start, tz),
            ends_at=_at(first_day, spec.day, spec.end, tz),
            location=spec.location,
            track=spec.track,
            created_at=now,
            updated_at=now,
        )
        item.speakers = speakers
        s.add(item)
    has_faq = s.scalar(
        select(func.count()).select_from(FaqEntry).where(FaqEntry.chatbot_id == chatbot_id)
    )
    added_faq = 0
    if not has_faq:
        for position, entry in enumerate(faq):
            s.add(
                FaqEntry(
                    chatbot_id=chatbot_id,
                    question=clean_text(entry.question, "question", "Question", max_length=500),
                    answer=clean_text(
                        entry.answer, "answer", "Answer", max_length=5000, multiline=True
                    ),
                    position=position,
                    created_at=now,
                    updated_at=now,
                )
            )
            added_faq += 1
    s.flush()
    return len(items), added_faq


__all__ = ["MAIN_FAQ", "MAIN_PROGRAMME", "PROGRAMMES", "DemoFaq", "DemoItem", "add_programme"]
