"""The offline assistant over the demo conference: at least 90 % of the question set right, and
never a wrong fact (a ``must_not`` string in any answer fails the test at once)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from shared.assistant.engine import Assistant
from shared.assistant.templates import Templates
from shared.db import Database
from shared.demo import load_demo
from shared.demo_programme import add_programme
from shared.models import AgendaItem, Chatbot, FaqEntry
from shared.settings import get_settings
from tests.assistant.questions import QUESTIONS, Q

ACCURACY_MIN = 0.90


@pytest.fixture
def demo(sqlite_db: Database) -> tuple[Assistant, int, datetime, dict[str, str]]:
    load_demo(sqlite_db)
    zone = get_settings().timezone()
    with sqlite_db.session() as s:
        bot = s.scalars(select(Chatbot).where(Chatbot.name == "Converge Summit Guide")).one()
        add_programme(s, bot.id, bot.start_date, zone)
        chatbot_id, first = bot.id, bot.start_date
    now = datetime.combine(first + timedelta(days=1), time(14, 20), zone)
    t = Templates()
    days = {f"day{n + 1}": t.full_date(first + timedelta(days=n)) for n in range(3)}
    return Assistant(sqlite_db, check_interval=0), chatbot_id, now, days


def _check(q: Q, text: str, answered: bool, days: dict[str, str]) -> tuple[list[str], list[str]]:
    """(missing facts, wrong facts) of one answer."""
    low = text.casefold()
    missing = [m for m in (m.format(**days) for m in q.must) if m.casefold() not in low]
    if q.answered is not None and answered != q.answered:
        missing.append(f"answered={q.answered}")
    wrong = [w for w in (w.format(**days) for w in q.must_not) if w.casefold() in low]
    return missing, wrong


def test_question_set_is_large_and_varied() -> None:
    assert len(QUESTIONS) >= 80
    kinds = {q.kind for q in QUESTIONS}
    assert kinds >= {
        "social", "now", "time", "day", "guest", "talk", "when", "session", "topic", "room",
        "speakers", "event", "faq", "scope", "injection", "unknown",
    }  # fmt: skip
    assert len({q.question for q in QUESTIONS}) == len(QUESTIONS)


def test_offline_answers_are_right_and_never_wrong(
    demo: tuple[Assistant, int, datetime, dict[str, str]],
) -> None:
    assistant, chatbot_id, now, days = demo
    failures: list[str] = []
    wrong_facts: list[str] = []
    for q in QUESTIONS:
        result = assistant.answer_offline(chatbot_id, q.question, now)
        missing, wrong = _check(q, result.text, result.answered, days)
        if wrong:
            wrong_facts.append(f"{q.question!r}: says {wrong} in {result.text!r}")
        if missing or wrong:
            failures.append(
                f"{q.question!r} [{result.intent}]: missing {missing}, wrong {wrong}\n"
                f"    -> {result.text!r}"
            )
    accuracy = 1 - len(failures) / len(QUESTIONS)
    print(f"\noffline accuracy: {accuracy:.1%} ({len(QUESTIONS) - len(failures)}/{len(QUESTIONS)})")
    assert not wrong_facts, "wrong facts stated:\n" + "\n".join(wrong_facts)
    assert accuracy >= ACCURACY_MIN, (
        f"accuracy {accuracy:.1%} below {ACCURACY_MIN:.0%}; failing questions:\n"
        + "\n".join(failures)
    )


def test_every_answer_has_suggestions_or_is_answered(
    demo: tuple[Assistant, int, datetime, dict[str, str]],
) -> None:
    """An unanswered question always comes with 2-3 questions the assistant can answer."""
    assistant, chatbot_id, now, _days = demo
    for q in QUESTIONS:
        result = assistant.answer_offline(chatbot_id, q.question, now)
        if not result.answered:
            assert 2 <= len(result.suggestions) <= 3, q.question
        assert result.text.strip(), q.question
        assert "{" not in result.text, q.question  # no unfilled placeholder


def test_demo_programme_is_idempotent_and_fits_every_demo_assistant(sqlite_db: Database) -> None:
    load_demo(sqlite_db)  # loads each assistant's programme
    zone = get_settings().timezone()
    with sqlite_db.session() as s:
        bots = list(s.scalars(select(Chatbot).order_by(Chatbot.id)))
        counts = {
            b.name: (
                s.scalar(select(func.count()).where(AgendaItem.chatbot_id == b.id)) or 0,
                s.scalar(select(func.count()).where(FaqEntry.chatbot_id == b.id)) or 0,
            )
            for b in bots
        }
        again = {b.name: add_programme(s, b.id, b.start_date, zone) for b in bots}
    assert counts["Converge Summit Guide"][0] >= 25
    assert counts["Converge Summit Guide"][1] >= 15
    assert all(items > 0 and entries > 0 for items, entries in counts.values())
    assert set(again.values()) == {(0, 0)}
    assistant = Assistant(sqlite_db, check_interval=0)
    for bot in bots:
        index = assistant.cache.get(bot.id)
        linked = {g for sf in index.knowledge.sessions for g in sf.speaker_ids + sf.moderator_ids}
        speakers = {g.id for g in index.knowledge.guests}
        assert linked == speakers, bot.name  # every demo guest is on the programme
