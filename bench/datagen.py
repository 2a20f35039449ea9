"""Fast synthetic data for the benchmarks: an event season of users, assistants and chats.

:func:`generate` builds the rows in memory (plain tuples, deterministic for a seed);
:func:`load` writes them with the drivers' bulk paths (SQLite ``executemany``, psycopg ``COPY``)
with the secondary indexes (and, on PostgreSQL, the foreign keys) dropped during the load and
rebuilt afterwards, then fills every counter and the daily rollup in SQL from the rows, so the
figures the services read agree with the messages exactly. :func:`verify` checks that they do.

The venue's time zone must be UTC while the data is used: the rollup's days are computed in SQL
as ``DATE(created_at)`` of the stored UTC timestamps (the benchmarks pin the setting).
"""

from __future__ import annotations

import hashlib
import random
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, inspect
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import AddConstraint, CreateIndex, DropConstraint, DropIndex

from shared.db import Database
from shared.models import Base

#: Bump when the generated data changes shape, so cached databases are rebuilt.
DATAGEN_VERSION = 1
SEED = 20261125
BATCH = 50_000

Progress = Callable[[str], None]
Row = tuple[Any, ...]

USER_COLUMNS = (
    "id",
    "username",
    "email",
    "name",
    "password_hash",
    "role",
    "active",
    "must_change_password",
    "badge_code_hash",
    "message_count",
    "created_at",
    "updated_at",
    "last_login_at",
)
CHATBOT_COLUMNS = (
    "id",
    "name",
    "event_name",
    "description",
    "created_by_id",
    "start_date",
    "end_date",
    "system_prompt",
    "single_mode",
    "multiple_mode",
    "public",
    "active",
    "message_count",
    "user_message_count",
    "participant_count",
    "created_at",
    "updated_at",
)
PARTICIPANT_COLUMNS = (
    "id",
    "chatbot_id",
    "user_id",
    "joined_at",
    "message_count",
    "last_activity_at",
)
CONVERSATION_COLUMNS = (
    "id",
    "chatbot_id",
    "user_id",
    "mode",
    "kiosk_name",
    "started_at",
    "ended_at",
    "last_message_at",
    "message_count",
)
MESSAGE_COLUMNS = (
    "id",
    "conversation_id",
    "chatbot_id",
    "user_id",
    "is_user_message",
    "content",
    "source",
    "answered",
    "reply_to_id",
    "client_id",
    "created_at",
)
#: Tables loaded in bulk, in foreign-key order, with their columns.
TABLES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("users", USER_COLUMNS),
    ("chatbots", CHATBOT_COLUMNS),
    ("chatbot_participants", PARTICIPANT_COLUMNS),
    ("conversations", CONVERSATION_COLUMNS),
    ("messages", MESSAGE_COLUMNS),
)
#: Tables whose secondary indexes (and foreign keys, on PostgreSQL) are rebuilt after the load.
REBUILT = ("chatbot_participants", "conversations", "messages")
#: Organizer accounts at the start of the users table; the first one acts in the benchmarks.
ADMINS = 3

FIRST_NAMES = [
    "Ada",
    "Alan",
    "Alice",
    "Amir",
    "Ana",
    "Anna",
    "Ben",
    "Carla",
    "Chen",
    "Chloe",
    "Dario",
    "David",
    "Elena",
    "Emma",
    "Eva",
    "Farid",
    "Fatima",
    "Felix",
    "Grace",
    "Hannah",
    "Hugo",
    "Ines",
    "Ivan",
    "Jana",
    "Jonas",
    "Julia",
    "Karim",
    "Kenji",
    "Lara",
    "Leo",
    "Lina",
    "Lucas",
    "Maria",
    "Marta",
    "Max",
    "Mei",
    "Mia",
    "Nadia",
    "Noah",
    "Nora",
    "Omar",
    "Paul",
    "Priya",
    "Rosa",
    "Sam",
    "Sara",
    "Sofia",
    "Tariq",
    "Tom",
    "Yara",
    "Yuki",
    "Zoe",
]
LAST_NAMES = [
    "Smith",
    "Garcia",
    "Martin",
    "Muller",
    "Rossi",
    "Silva",
    "Kowalski",
    "Novak",
    "Nielsen",
    "Jensen",
    "Dubois",
    "Moreau",
    "Bernard",
    "Costa",
    "Santos",
    "Ferreira",
    "Tanaka",
    "Suzuki",
    "Kim",
    "Lee",
    "Park",
    "Chen",
    "Wang",
    "Li",
    "Zhang",
    "Singh",
    "Patel",
    "Khan",
    "Ahmed",
    "Haddad",
    "Cohen",
    "Levi",
    "Ivanova",
    "Petrov",
    "Horvat",
    "Kovacs",
    "Nagy",
    "Popescu",
    "Larsen",
    "Berg",
    "Lindqvist",
    "Virtanen",
    "OBrien",
    "Murphy",
    "Walsh",
    "Evans",
    "Jones",
    "Taylor",
    "Brown",
    "Wilson",
    "Clarke",
    "Lopez",
    "Diaz",
    "Romero",
    "Alvarez",
]
TOPICS = (
    "keynote",
    "the opening session",
    "the AI panel",
    "the security workshop",
    "lunch",
    "the networking evening",
    "the poster session",
    "the closing talk",
    "the data track",
    "the startup pitches",
    "the cloud workshop",
    "the hackathon",
)
PLACES = ("Hall A", "Hall B", "room 101", "room 204", "the main stage", "the foyer", "level 2")
QUESTION_FORMS = (
    "Where is {topic}?",
    "When does {topic} start?",
    "Who is speaking at {topic} today?",
    "Is {topic} in {place}?",
    "How do I get from the entrance to {place}?",
    "Can you tell me more about {topic} and whether I need to register for it?",
    "Is there still room at {topic}?",
    "What time is {topic} tomorrow, and is it recorded?",
    "where can i find wifi and the password near {place}",
    "Are slides from {topic} available?",
)
ANSWER_FORMS = (
    "{topic} takes place in {place}. Follow the signs from the registration desk; it is about "
    "two minutes on foot.",
    "{topic} starts at {hour}:00 in {place}. Doors open fifteen minutes before; seating is "
    "first come, first served.",
    "Yes, {topic} is in {place} today. The speakers are listed in the agenda on this screen, and "
    "the session is recorded for attendees who cannot make it.",
    "I don't know that yet. Please ask at the information desk in the foyer, the team there can "
    "help you with {topic}.",
    "The Wi-Fi network near {place} is 'Summit-Guest'; the password is printed on the back of your "
    "badge. If it does not connect, the help desk in the foyer can reset it for you.",
    "Slides from {topic} will be shared after the event by email to every registered attendee. "
    "Some speakers also publish them on the event website in the days after their talk.",
    "{topic} is fully booked, but there is a waiting list at the door of {place}; places often "
    "free up in the first ten minutes.",
)


@dataclass(frozen=True)
class Sizes:
    """How much data to make. ``conversations`` defaults to two per user."""

    messages: int = 2_000_000
    users: int = 100_000
    chatbots: int = 50
    conversations: int = 0

    def resolved(self) -> Sizes:
        conversations = self.conversations or max(1, 2 * self.users)
        conversations = min(conversations, max(1, self.messages // 2))
        return Sizes(
            self.messages, max(self.users, ADMINS + 1), max(1, self.chatbots), conversations
        )

    def key(self) -> str:
        r = self.resolved()
        return f"m{r.messages}-u{r.users}-c{r.chatbots}-v{r.conversations}"


@dataclass
class Dataset:
    """Generated rows, as tuples in the column order of the ``*_COLUMNS`` constants."""

    sizes: Sizes
    now: datetime
    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    longest_conversation: int = 0
    seconds: float = 0.0


def _stamp(value: datetime) -> str:
    # SQLAlchemy's SQLite DATETIME text, which PostgreSQL's COPY also reads.
    return value.isoformat(" ", "microseconds")


def _texts(rng: random.Random) -> tuple[list[str], list[str]]:
    questions = []
    answers = []
    for _ in range(600):
        topic = rng.choice(TOPICS)
        place = rng.choice(PLACES)
        questions.append(rng.choice(QUESTION_FORMS).format(topic=topic, place=place))
        answer = rng.choice(ANSWER_FORMS).format(
            topic=topic[0].upper() + topic[1:], place=place, hour=rng.randint(9, 18)
        )
        if rng.random() < 0.4:
            answer += " " + rng.choice(ANSWER_FORMS).format(
                topic=rng.choice(TOPICS), place=rng.choice(PLACES), hour=rng.randint(9, 18)
            )
        answers.append(answer)
    return questions, answers


def generate(
    sizes: Sizes, *, seed: int = SEED, now: datetime | None = None, progress: Progress = print
) -> Dataset:
    """Build every row in memory: fast (no ORM), deterministic for a seed and a ``now``."""
    started = time.perf_counter()
    sizes = sizes.resolved()
    rng = random.Random(seed)
    now = (now or datetime.now(UTC)).replace(microsecond=0)
    today = now.date()
    naive_now = now.replace(tzinfo=None)
    data = Dataset(sizes, now)

    # Users: a few organizers, then attendees imported over the last 90 days.
    users: list[Row] = []
    for uid in range(1, sizes.users + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        created = naive_now - timedelta(seconds=rng.uniform(3600, 90 * 86400))
        admin = uid <= ADMINS
        username = f"organizer{uid}" if admin else f"{first.lower()}.{last.lower()}{uid}"
        users.append(
            (
                uid,
                username,
                f"{username}@example.org",
                f"{first} {last}",
                None,
                "admin" if admin else "attendee",
                admin or rng.random() > 0.03,
                False,
                None if admin else hashlib.sha256(f"bench-badge-{uid}".encode()).hexdigest(),
                0,
                _stamp(created),
                _stamp(created),
                _stamp(min(created + timedelta(hours=rng.uniform(0, 48)), naive_now))
                if rng.random() < 0.6
                else None,
            )
        )
    data.rows["users"] = users
    progress(f"  generated {len(users):,} users")

    # Assistants: running today, ended in the last 60 days, or upcoming.
    chatbots: list[Row] = []
    windows: list[tuple[float, float] | None] = []  # message windows, seconds before now
    multiple: list[bool] = []
    for bid in range(1, sizes.chatbots + 1):
        kind = (bid - 1) % 5
        if kind in (0, 1):  # running
            start = today - timedelta(days=rng.randint(3, 59))
            end = today + timedelta(days=rng.randint(0, 10))
        elif kind in (2, 3):  # ended
            start = today - timedelta(days=rng.randint(20, 59))
            end = min(start + timedelta(days=rng.randint(1, 14)), today - timedelta(days=1))
        else:  # upcoming
            start = today + timedelta(days=rng.randint(1, 60))
            end = start + timedelta(days=rng.randint(0, 5))
        active = bid % 10 != 0
        walk_up = bid % 2 == 0
        multiple.append(walk_up)
        if kind == 4:
            windows.append(None)
        else:
            first_s = (now - datetime.combine(start, datetime.min.time(), UTC)).total_seconds()
            end_at = min(datetime.combine(end + timedelta(days=1), datetime.min.time(), UTC), now)
            windows.append((first_s, max(60.0, (now - end_at).total_seconds())))
        created_on = _stamp(naive_now - timedelta(days=90 - bid % 30))
        chatbots.append(
            (
                bid,
                f"Assistant {bid}",
                f"Tech Summit {2026 + bid // 10} track {bid}",
                "The event assistant of a conference track: agenda, rooms, speakers.",
                1,
                start.isoformat(),
                end.isoformat(),
                "You are the assistant of a technology conference. Answer briefly.",
                True,
                walk_up,
                bid % 7 != 0,
                active,
                0,
                0,
                0,
                created_on,
                created_on,
            )
        )
    data.rows["chatbots"] = chatbots
    live = [i for i, w in enumerate(windows) if w is not None] or [0]
    if windows[live[0]] is None:
        windows[live[0]] = (86400.0, 60.0)
    live_weights = [1.0 / (1 + (i % 7)) for i in live]
    walk_up_bots = [i for i in live if multiple[i]]

    # Conversations: one per visit; single mode for a signed-in attendee (heavy users chat more),
    # walk-up (anonymous) at assistants that allow it.
    n_conv = sizes.conversations
    attendees = sizes.users - ADMINS
    conv_bot: list[int] = []
    conv_user: list[int | None] = []
    for _ in range(n_conv):
        if walk_up_bots and rng.random() < 0.15:
            conv_bot.append(rng.choice(walk_up_bots))
            conv_user.append(None)
        else:
            conv_bot.append(rng.choices(live, live_weights)[0])
            conv_user.append(ADMINS + 1 + int(attendees * rng.random() ** 2.5))

    # Message counts: question/answer pairs, a heavy-tailed spread over the conversations.
    pairs = sizes.messages // 2
    counts = [2] * n_conv if pairs >= n_conv else [0] * n_conv
    remaining = pairs - n_conv if pairs >= n_conv else pairs
    weights = [rng.lognormvariate(0.0, 0.9) for _ in range(n_conv)]
    cum = []
    total_w = 0.0
    for w in weights:
        total_w += w
        cum.append(total_w)
    for idx in rng.choices(range(n_conv), cum_weights=cum, k=remaining):
        counts[idx] += 2
    if sizes.messages % 2:
        counts[rng.randrange(n_conv)] += 1  # one question still waiting for its answer
    for idx in range(n_conv):
        if counts[idx] == 0:  # fewer messages than conversations: give each at least one
            counts[idx] = 1
            break
    data.longest_conversation = max(counts)

    # Message times: a visit's turns seconds apart, long conversations resumed over days;
    # all within the assistant's event, before now. Keys sort every message by time.
    base_us = int((now - timedelta(days=70)).timestamp() * 1_000_000)
    now_us = int(now.timestamp() * 1_000_000)
    slots = max(counts) + 1
    span_c = n_conv * slots
    keys: list[int] = []
    conv_start: list[int] = []
    for c in range(n_conv):
        n = counts[c]
        offsets = [0.0]
        t = 0.0
        for seq in range(1, n):
            if seq % 2:
                t += rng.uniform(1.5, 9.0)  # the assistant answers
            elif n > 40 and rng.random() < 0.05:
                t += rng.uniform(3600, 36 * 3600)  # back another day
            else:
                t += rng.uniform(12.0, 180.0)  # the next question
            offsets.append(t)
        window = windows[conv_bot[c]]
        assert window is not None
        earliest, latest = window
        room = earliest - latest
        if t > room:
            offsets = [o * room / t for o in offsets]
            t = room
        begin_s = rng.uniform(latest + t, earliest)  # seconds before now
        start_us = now_us - int(begin_s * 1_000_000)
        conv_start.append(start_us - int(rng.uniform(2, 30) * 1_000_000))
        for seq, off in enumerate(offsets):
            ts = start_us + int(off * 1_000_000) - base_us
            keys.append(ts * span_c + c * slots + seq)
    keys.sort()
    progress(f"  placed {len(keys):,} messages in time ({time.perf_counter() - started:.1f} s)")

    conversations: list[list[Any]] = []
    pair_first: dict[tuple[int, int], str] = {}
    for c in range(n_conv):
        owner = conv_user[c]
        started_at = datetime(1970, 1, 1) + timedelta(microseconds=conv_start[c])
        walk_up = owner is None
        stamp = _stamp(started_at)
        if owner is not None:
            pair = (conv_bot[c] + 1, owner)
            if pair not in pair_first or pair_first[pair] > stamp:
                pair_first[pair] = stamp
        conversations.append(
            [
                c + 1,
                conv_bot[c] + 1,
                owner,
                "multiple" if walk_up else "single",
                f"kiosk-{(c % 12) + 1}",
                stamp,
                None,
                None,
                0,
            ]
        )

    questions, answers = _texts(rng)
    nq, na = len(questions), len(answers)
    base_dt = datetime(1970, 1, 1) + timedelta(microseconds=base_us)
    last_question = [0] * n_conv
    last_at = [""] * n_conv
    messages: list[Row] = []
    for i, key in enumerate(keys):
        mid = i + 1
        ts, rest = divmod(key, span_c)
        c, seq = divmod(rest, slots)
        bot = conv_bot[c] + 1
        owner = conv_user[c]
        stamp = _stamp(base_dt + timedelta(microseconds=ts))
        if seq % 2 == 0:
            last_question[c] = mid
            messages.append(
                (
                    mid,
                    c + 1,
                    bot,
                    owner,
                    True,
                    questions[(mid * 7919) % nq],
                    "user",
                    None,
                    None,
                    f"kiosk-{c + 1}-{seq}",
                    stamp,
                )
            )
        else:
            q = last_question[c]
            messages.append(
                (
                    mid,
                    c + 1,
                    bot,
                    owner,
                    False,
                    answers[(mid * 104729) % na],
                    "offline" if mid % 10 == 0 else "llm",
                    mid % 13 != 0,
                    q,
                    f"reply:{q}",
                    stamp,
                )
            )
        last_at[c] = stamp
    # Walk-up visits end when the kiosk goes idle; attendees' own conversations stay open.
    for c in range(n_conv):
        if conv_user[c] is None and last_at[c]:
            ended = datetime.fromisoformat(last_at[c]) + timedelta(minutes=2)
            conversations[c][6] = _stamp(min(ended, naive_now))
    data.rows["conversations"] = [tuple(row) for row in conversations]
    data.rows["messages"] = messages

    # Enrolments: everyone who chatted in single mode, plus attendees who joined an upcoming
    # event ahead of time.
    participants: list[Row] = []
    for (bot, uid), joined in sorted(pair_first.items()):
        participants.append((len(participants) + 1, bot, uid, joined, 0, None))
    upcoming = [i + 1 for i, w in enumerate(windows) if w is None]
    if upcoming:
        seen = set(pair_first)
        for _ in range(sizes.users // 20):
            pair = (rng.choice(upcoming), ADMINS + 1 + rng.randrange(attendees))
            if pair not in seen:
                seen.add(pair)
                joined = _stamp(naive_now - timedelta(seconds=rng.uniform(60, 20 * 86400)))
                participants.append((len(participants) + 1, pair[0], pair[1], joined, 0, None))
    data.rows["chatbot_participants"] = participants
    data.seconds = time.perf_counter() - started
    progress(
        f"  generated {len(conversations):,} conversations, {len(messages):,} messages, "
        f"{len(participants):,} enrolments in {data.seconds:.1f} s "
        f"(longest conversation: {data.longest_conversation} messages)"
    )
    return data


# Loading ---------------------------------------------------------------------------------------

COUNTER_SQL = (
    # conversations: their messages and the last one's time
    "UPDATE conversations SET message_count = a.n, last_message_at = a.last_at "
    "FROM (SELECT conversation_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM messages "
    "GROUP BY conversation_id) AS a WHERE conversations.id = a.conversation_id",
    # assistants: all messages and the attendees' questions
    "UPDATE chatbots SET message_count = a.n, user_message_count = a.u "
    "FROM (SELECT chatbot_id, COUNT(*) AS n, "
    "SUM(CASE WHEN is_user_message THEN 1 ELSE 0 END) AS u FROM messages GROUP BY chatbot_id) AS a "
    "WHERE chatbots.id = a.chatbot_id",
    "UPDATE chatbots SET participant_count = a.n "
    "FROM (SELECT chatbot_id, COUNT(*) AS n FROM chatbot_participants GROUP BY chatbot_id) AS a "
    "WHERE chatbots.id = a.chatbot_id",
    # enrolments and accounts: questions asked in the attendee's own conversations
    "UPDATE chatbot_participants SET message_count = a.n, last_activity_at = a.last_at "
    "FROM (SELECT chatbot_id, user_id, COUNT(*) AS n, MAX(created_at) AS last_at FROM messages "
    "WHERE is_user_message AND user_id IS NOT NULL GROUP BY chatbot_id, user_id) AS a "
    "WHERE chatbot_participants.chatbot_id = a.chatbot_id "
    "AND chatbot_participants.user_id = a.user_id",
    "UPDATE users SET message_count = a.n "
    "FROM (SELECT user_id, COUNT(*) AS n FROM messages "
    "WHERE is_user_message AND user_id IS NOT NULL GROUP BY user_id) AS a "
    "WHERE users.id = a.user_id",
    # the daily rollup (venue time zone UTC: the day of the stored UTC timestamp)
    "INSERT INTO daily_message_counts (chatbot_id, day, messages, user_messages) "
    "SELECT chatbot_id, DATE(created_at), COUNT(*), "
    "SUM(CASE WHEN is_user_message THEN 1 ELSE 0 END) FROM messages "
    "GROUP BY chatbot_id, DATE(created_at)",
)


def _ddl(element: Any, dialect: Dialect) -> str:
    return str(element.compile(dialect=dialect)).strip()


def _rebuilt_objects() -> tuple[list[Any], list[Any]]:
    tables = [Base.metadata.tables[name] for name in REBUILT]
    indexes = [index for table in tables for index in table.indexes]
    fks = [fk for table in tables for fk in table.foreign_key_constraints]
    return indexes, fks


def _schema_shape(conn: Connection) -> dict[str, tuple[list[str], list[str]]]:
    insp = inspect(conn)
    return {
        table: (
            sorted(str(ix["name"]) for ix in insp.get_indexes(table)),
            sorted(str(fk["name"]) for fk in insp.get_foreign_keys(table)),
        )
        for table in REBUILT
    }


def load(db: Database, data: Dataset, progress: Progress = print) -> float:
    """Write the dataset into an empty, migrated database; returns the seconds it took."""
    started = time.perf_counter()
    with db.engine.connect() as conn:
        before = _schema_shape(conn)
    if db.backend == "sqlite":
        path = db.engine.url.database
        assert path
        db.dispose()
        _load_sqlite(path, data, progress)
    elif db.backend == "postgresql":
        _load_postgresql(db, data, progress)
    else:
        raise ValueError(f"no bulk loader for {db.backend}")
    with db.engine.connect() as conn:
        after = _schema_shape(conn)
    if before != after:
        raise RuntimeError(f"the schema changed during the load: {before} != {after}")
    problems = verify(db)
    if problems:
        raise RuntimeError("generated data is inconsistent: " + "; ".join(problems))
    seconds = time.perf_counter() - started
    progress(f"  loaded, counted and analysed in {seconds:.1f} s; counters verified")
    return seconds


def _load_sqlite(path: str, data: Dataset, progress: Progress) -> None:
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    indexes, _fks = _rebuilt_objects()
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "foreign_keys = OFF",
            "cache_size = -1000000",
            "temp_store = MEMORY",
        ):
            raw.execute(f"PRAGMA {pragma}")
        raw.execute("BEGIN")
        for index in indexes:
            raw.execute(_ddl(DropIndex(index), dialect))
        for table, columns in TABLES:
            t0 = time.perf_counter()
            rows = data.rows[table]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            for start in range(0, len(rows), BATCH):
                raw.executemany(sql, rows[start : start + BATCH])
                if len(rows) > 4 * BATCH and (start // BATCH) % 10 == 9:
                    progress(f"    {table}: {start + BATCH:,} / {len(rows):,}")
            progress(f"  {table}: {len(rows):,} rows in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for index in indexes:
            raw.execute(_ddl(CreateIndex(index), dialect))
        progress(f"  rebuilt {len(indexes)} indexes in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for sql in COUNTER_SQL:
            raw.execute(sql)
        raw.execute("COMMIT")
        progress(f"  filled the counters and the daily rollup in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        raw.execute("ANALYZE")
        raw.execute("PRAGMA journal_mode = WAL")
        progress(f"  ANALYZE in {time.perf_counter() - t0:.1f} s")
    finally:
        raw.close()


def _load_postgresql(db: Database, data: Dataset, progress: Progress) -> None:
    dialect = db.engine.dialect
    indexes, fks = _rebuilt_objects()
    with db.engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
        for fk in fks:
            conn.exec_driver_sql(_ddl(DropConstraint(fk), dialect))
        for index in indexes:
            conn.exec_driver_sql(_ddl(DropIndex(index), dialect))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for table, columns in TABLES:
            t0 = time.perf_counter()
            rows = data.rows[table]
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for n, row in enumerate(rows, 1):
                    copy.write_row(row)
                    if n % (10 * BATCH) == 0 and len(rows) > 4 * BATCH:
                        progress(f"    {table}: {n:,} / {len(rows):,}")
            progress(f"  {table}: {len(rows):,} rows in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        for index in indexes:
            conn.exec_driver_sql(_ddl(CreateIndex(index), dialect))
        for fk in fks:
            conn.exec_driver_sql(_ddl(AddConstraint(fk), dialect))
        progress(
            f"  rebuilt {len(indexes)} indexes and {len(fks)} foreign keys in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        t0 = time.perf_counter()
        for sql in COUNTER_SQL:
            conn.exec_driver_sql(sql)
        for table, _columns in TABLES:
            conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        progress(f"  filled the counters and the daily rollup in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    names = ", ".join(f"'{table}'" for table, _columns in TABLES)
    with db.engine.connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        auto.exec_driver_sql("VACUUM (FREEZE, ANALYZE)")
        # A long-lived table is all-visible (index-only scans need no heap fetches). A VACUUM
        # running beside autovacuum's ANALYZE of the fresh tables can leave pages unmarked
        # (the snapshot holds the horizon back): vacuum again until they are marked.
        for _attempt in range(5):
            pages, visible = auto.exec_driver_sql(
                "SELECT COALESCE(SUM(relpages), 0), COALESCE(SUM(relallvisible), 0) "
                f"FROM pg_class WHERE relname IN ({names})"
            ).one()
            if visible >= 0.98 * pages:
                break
            time.sleep(2)
            auto.exec_driver_sql("VACUUM (FREEZE)")
    progress(
        f"  VACUUM (FREEZE, ANALYZE) in {time.perf_counter() - t0:.1f} s "
        f"({visible:,} of {pages:,} pages all-visible)"
    )


def verify(db: Database) -> list[str]:
    """Check every counter and the rollup against the rows; an empty list means consistent."""
    checks: Sequence[tuple[str, str]] = (
        (
            "chatbot message counters",
            "SELECT COUNT(*) FROM chatbots c WHERE c.message_count <> "
            "(SELECT COUNT(*) FROM messages m WHERE m.chatbot_id = c.id) "
            "OR c.user_message_count <> (SELECT COUNT(*) FROM messages m "
            "WHERE m.chatbot_id = c.id AND m.is_user_message) "
            "OR c.participant_count <> (SELECT COUNT(*) FROM chatbot_participants p "
            "WHERE p.chatbot_id = c.id)",
        ),
        (
            "user message counters",
            "SELECT ABS((SELECT COALESCE(SUM(message_count), 0) FROM users) - "
            "(SELECT COUNT(*) FROM messages WHERE is_user_message AND user_id IS NOT NULL))",
        ),
        (
            "enrolment counters",
            "SELECT ABS((SELECT COALESCE(SUM(message_count), 0) FROM chatbot_participants) - "
            "(SELECT COUNT(*) FROM messages WHERE is_user_message AND user_id IS NOT NULL))",
        ),
        (
            "conversation counters",
            "SELECT ABS((SELECT COALESCE(SUM(message_count), 0) FROM conversations) - "
            "(SELECT COUNT(*) FROM messages))",
        ),
        (
            "daily rollup",
            "SELECT ABS((SELECT COALESCE(SUM(messages), 0) FROM daily_message_counts) - "
            "(SELECT COUNT(*) FROM messages))",
        ),
        (
            "messages in single-mode conversations without an enrolment",
            "SELECT COUNT(*) FROM (SELECT DISTINCT chatbot_id, user_id FROM conversations "
            "WHERE user_id IS NOT NULL) AS cu WHERE NOT EXISTS (SELECT 1 FROM "
            "chatbot_participants p WHERE p.chatbot_id = cu.chatbot_id "
            "AND p.user_id = cu.user_id)",
        ),
    )
    problems = []
    with db.engine.connect() as conn:
        for label, sql in checks:
            off = conn.exec_driver_sql(sql).scalar()
            if off:
                problems.append(f"{label}: off by {off}")
    return problems


__all__ = [
    "DATAGEN_VERSION",
    "Dataset",
    "Sizes",
    "generate",
    "load",
    "verify",
]
