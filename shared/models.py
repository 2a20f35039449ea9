"""The data model (SQLAlchemy 2 typed declarative), from the seed's ERD plus conversations.

Counters (``message_count`` and friends) are maintained on write with ``UPDATE ... SET n = n + 1``
and a daily rollup, so dashboards never count millions of rows. Every index below serves a query a
screen or a service runs; the comment beside it says which.
"""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, deferred, mapped_column, relationship

from shared.db import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Integer ids that autoincrement everywhere (SQLite only autoincrements INTEGER PRIMARY KEY).
BigId = BigInteger().with_variant(Integer(), "sqlite")
# Long texts: MySQL's TEXT stops at 64 KiB.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")
# Guest photos: MySQL's BLOB stops at 64 KiB.
Blob = LargeBinary().with_variant(mysql.MEDIUMBLOB(), "mysql", "mariadb")


class Base(DeclarativeBase):
    """Declarative base with a constraint naming convention Alembic can rely on."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(enum.StrEnum):
    """What a user may do: attendees use kiosks, admins (organizers) run the console."""

    ATTENDEE = "attendee"
    ADMIN = "admin"


class ChatbotStatus(enum.StrEnum):
    """Derived from the dates, the venue's today and the active flag."""

    UPCOMING = "upcoming"
    ACTIVE = "active"
    ENDED = "ended"
    INACTIVE = "inactive"


class ConversationMode(enum.StrEnum):
    """Single: one signed-in attendee, persistent. Multiple: walk-up, anonymous, per visit."""

    SINGLE = "single"
    MULTIPLE = "multiple"


class MessageSource(enum.StrEnum):
    """Who produced a message: the attendee, or which part of the assistant."""

    USER = "user"
    OFFLINE = "offline"
    LLM = "llm"
    TEST = "test"


class User(Base):
    """An attendee or an organizer. Usernames and emails are stored lower-case, so unique
    constraints make them unique case-insensitively on every backend."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(32), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)  # users table sorted by name
    #: bcrypt hash; None for imported attendees who sign in with their badge code only.
    password_hash: Mapped[str | None] = mapped_column(String(60))
    role: Mapped[str] = mapped_column(String(16), default=Role.ATTENDEE.value)
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    #: HMAC-SHA256 of the badge code under a key that is not in the database.
    badge_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    session_tokens: Mapped[list[SessionToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    participations: Mapped[list[ChatbotParticipant]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("role IN ('attendee', 'admin')", name="role"),
        # users table filtered by role and active flag
        Index(None, "role", "active"),
        # "most active users" over all events
        Index(None, "message_count"),
    )


class Chatbot(Base):
    """An event assistant: one per event (or per track of an event)."""

    __tablename__ = "chatbots"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    event_name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(LongText, default="")
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    system_prompt: Mapped[str] = mapped_column(LongText, default="")
    single_mode: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    multiple_mode: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    public: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    user_message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    participant_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    guests: Mapped[list[Guest]] = relationship(
        back_populates="chatbot", cascade="all, delete-orphan", passive_deletes=True
    )
    participants: Mapped[list[ChatbotParticipant]] = relationship(
        back_populates="chatbot", cascade="all, delete-orphan", passive_deletes=True
    )

    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="dates"),
        # attendees' list: active, public, not ended; dashboard: active/upcoming counts
        Index(None, "active", "public", "end_date"),
        Index(None, "start_date"),
    )


class ChatbotParticipant(Base):
    """An attendee enrolled in (joined) a chatbot, with their own counters."""

    __tablename__ = "chatbot_participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    chatbot_id: Mapped[int] = mapped_column(ForeignKey("chatbots.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_activity_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    chatbot: Mapped[Chatbot] = relationship(back_populates="participants")
    user: Mapped[User] = relationship(back_populates="participations")

    __table_args__ = (
        UniqueConstraint("chatbot_id", "user_id"),
        # most active participants of one chatbot
        Index(None, "chatbot_id", "message_count"),
    )


class Guest(Base):
    """A speaker or moderator of an event, with an optional photo stored in the database."""

    __tablename__ = "guests"

    id: Mapped[int] = mapped_column(primary_key=True)
    chatbot_id: Mapped[int] = mapped_column(ForeignKey("chatbots.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200), default="")
    organization: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(LongText, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    is_speaker: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    photo: Mapped[bytes | None] = deferred(mapped_column(Blob))
    photo_mime: Mapped[str | None] = mapped_column(String(32))
    photo_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    chatbot: Mapped[Chatbot] = relationship(back_populates="guests")

    __table_args__ = (
        # guests of one chatbot, by name
        Index(None, "chatbot_id", "name"),
    )


agenda_item_speakers = Table(
    "agenda_item_speakers",
    Base.metadata,
    Column(
        "agenda_item_id",
        ForeignKey("agenda_items.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("guest_id", ForeignKey("guests.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AgendaItem(Base):
    """A session on an event's programme: talk, panel, workshop, break."""

    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    chatbot_id: Mapped[int] = mapped_column(ForeignKey("chatbots.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(LongText, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    location: Mapped[str] = mapped_column(String(120), default="")
    track: Mapped[str] = mapped_column(String(120), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    speakers: Mapped[list[Guest]] = relationship(secondary=agenda_item_speakers)

    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="times"),
        # an event's programme in time order; "what is on now / next"
        Index(None, "chatbot_id", "starts_at"),
    )


class FaqEntry(Base):
    """A question and answer the organizers prepared (Wi-Fi, parking, lunch, badges...)."""

    __tablename__ = "faq_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    chatbot_id: Mapped[int] = mapped_column(ForeignKey("chatbots.id", ondelete="CASCADE"))
    question: Mapped[str] = mapped_column(String(500))
    answer: Mapped[str] = mapped_column(LongText)
    position: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        # an event's FAQ in the organizers' order
        Index(None, "chatbot_id", "position"),
    )


class Conversation(Base):
    """One conversation at a kiosk: a signed-in attendee's (single mode, resumable anywhere) or
    a walk-up visit's (multiple mode, anonymous, ended when the kiosk goes idle)."""

    __tablename__ = "conversations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chatbot_id: Mapped[int] = mapped_column(ForeignKey("chatbots.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))
    kiosk_name: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    message_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: SHA-256 of the walk-up visit's secret key: on PostgreSQL's kiosk role only that visit
    #: can read or write the conversation (see shared.roles). NULL for signed-in conversations.
    access_key_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    __table_args__ = (
        CheckConstraint("mode IN ('single', 'multiple')", name="mode"),
        # resume: the latest conversation of a user with a chatbot
        Index(None, "user_id", "chatbot_id", "started_at"),
        # transcripts per chatbot, newest first
        Index(None, "chatbot_id", "started_at"),
    )


class Message(Base):
    """One chat message, from the attendee or the assistant."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("conversations.id", ondelete="CASCADE")
    )
    chatbot_id: Mapped[int] = mapped_column(ForeignKey("chatbots.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    is_user_message: Mapped[bool] = mapped_column(Boolean)
    content: Mapped[str] = mapped_column(LongText)
    #: MessageSource: user, offline, llm (or test in tests).
    source: Mapped[str] = mapped_column(String(16))
    #: For replies: whether the assistant found an answer (False: "I don't know").
    answered: Mapped[bool | None] = mapped_column(Boolean)
    #: The attendee message a reply answers.
    reply_to_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="SET NULL")
    )
    #: Idempotency key chosen by the client (the kiosk's outbox), so a retried send is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    __table_args__ = (
        # a conversation's messages, keyset-paginated by id
        Index(None, "conversation_id", "id"),
        # a user's chat with one chatbot, newest first
        Index(None, "chatbot_id", "user_id", "created_at", "id"),
        # transcripts and message search per chatbot over a date range
        Index(None, "chatbot_id", "created_at"),
        # deleting a user; their activity
        Index(None, "user_id", "created_at"),
        Index(None, "reply_to_id"),
    )


class DailyMessageCount(Base):
    """Messages per chatbot per venue-local day, maintained on write (an upsert per message)."""

    __tablename__ = "daily_message_counts"

    chatbot_id: Mapped[int] = mapped_column(
        ForeignKey("chatbots.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    user_messages: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        # messages today / per day over all chatbots
        Index(None, "day"),
    )


class SessionToken(Base):
    """A sign-in session. Only the SHA-256 of the token is stored; the token is shown once."""

    __tablename__ = "session_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    device: Mapped[str] = mapped_column(String(64), default="")
    remember: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    #: SHA-256 of the kiosk visit's secret key: the kiosk's outbox proves with it (instead of
    #: keeping the session token on disk) that it may still deliver the attendee's messages.
    visit_key_hash: Mapped[str | None] = mapped_column(String(64), index=True)

    user: Mapped[User] = relationship(back_populates="session_tokens")


class AuthThrottle(Base):
    """Failed sign-in attempts per key ("user:42", "device:kiosk-3"), shared by all machines."""

    __tablename__ = "auth_throttles"

    key: Mapped[str] = mapped_column(String(160), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppSetting(Base):
    """A setting shared by every machine on the database (the kiosk admin PIN's hash...)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(LongText)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


__all__ = [
    "AgendaItem",
    "AppSetting",
    "AuthThrottle",
    "Base",
    "Chatbot",
    "ChatbotParticipant",
    "ChatbotStatus",
    "Conversation",
    "ConversationMode",
    "DailyMessageCount",
    "FaqEntry",
    "Guest",
    "Message",
    "MessageSource",
    "Role",
    "SessionToken",
    "User",
]
