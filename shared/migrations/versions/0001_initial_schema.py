"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 13:13:08.296852
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "auth_throttles",
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "last_failure_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column(
            "locked_until",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_auth_throttles")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("password_hash", sa.String(length=60), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("must_change_password", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("badge_code_hash", sa.String(length=64), nullable=True),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "last_login_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.CheckConstraint("role IN ('attendee', 'admin')", name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("badge_code_hash", name=op.f("uq_users_badge_code_hash")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_index(op.f("ix_users_created_at"), "users", ["created_at"], unique=False)
    op.create_index(op.f("ix_users_message_count"), "users", ["message_count"], unique=False)
    op.create_index(op.f("ix_users_name"), "users", ["name"], unique=False)
    op.create_index(op.f("ix_users_role_active"), "users", ["role", "active"], unique=False)

    op.create_table(
        "chatbots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("event_name", sa.String(length=200), nullable=False),
        sa.Column(
            "description",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column(
            "system_prompt",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("single_mode", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("multiple_mode", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("public", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("user_message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("participant_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.CheckConstraint("end_date >= start_date", name=op.f("ck_chatbots_dates")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_chatbots_created_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbots")),
    )
    op.create_index(
        op.f("ix_chatbots_active_public_end_date"),
        "chatbots",
        ["active", "public", "end_date"],
        unique=False,
    )
    op.create_index(op.f("ix_chatbots_created_by_id"), "chatbots", ["created_by_id"], unique=False)
    op.create_index(op.f("ix_chatbots_start_date"), "chatbots", ["start_date"], unique=False)

    op.create_table(
        "session_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device", sa.String(length=64), nullable=False),
        sa.Column("remember", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "expires_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "last_used_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column(
            "revoked_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_session_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_session_tokens_token_hash")),
    )
    op.create_index(
        op.f("ix_session_tokens_expires_at"), "session_tokens", ["expires_at"], unique=False
    )
    op.create_index(op.f("ix_session_tokens_user_id"), "session_tokens", ["user_id"], unique=False)

    op.create_table(
        "chatbot_participants",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chatbot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column(
            "joined_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "last_activity_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbots.id"],
            name=op.f("fk_chatbot_participants_chatbot_id_chatbots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_chatbot_participants_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chatbot_participants")),
        sa.UniqueConstraint(
            "chatbot_id", "user_id", name=op.f("uq_chatbot_participants_chatbot_id_user_id")
        ),
    )
    op.create_index(
        op.f("ix_chatbot_participants_chatbot_id_message_count"),
        "chatbot_participants",
        ["chatbot_id", "message_count"],
        unique=False,
    )
    op.create_index(
        op.f("ix_chatbot_participants_user_id"), "chatbot_participants", ["user_id"], unique=False
    )

    op.create_table(
        "conversations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chatbot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("kiosk_name", sa.String(length=64), nullable=False),
        sa.Column(
            "started_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "ended_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column(
            "last_message_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.CheckConstraint("mode IN ('single', 'multiple')", name=op.f("ck_conversations_mode")),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbots.id"],
            name=op.f("fk_conversations_chatbot_id_chatbots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_conversations_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
    )
    op.create_index(
        op.f("ix_conversations_chatbot_id_started_at"),
        "conversations",
        ["chatbot_id", "started_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_conversations_user_id_chatbot_id_started_at"),
        "conversations",
        ["user_id", "chatbot_id", "started_at"],
        unique=False,
    )

    op.create_table(
        "daily_message_counts",
        sa.Column("chatbot_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("messages", sa.Integer(), server_default="0", nullable=False),
        sa.Column("user_messages", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbots.id"],
            name=op.f("fk_daily_message_counts_chatbot_id_chatbots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chatbot_id", "day", name=op.f("pk_daily_message_counts")),
    )
    op.create_index(
        op.f("ix_daily_message_counts_day"), "daily_message_counts", ["day"], unique=False
    )

    op.create_table(
        "guests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chatbot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("organization", sa.String(length=200), nullable=False),
        sa.Column(
            "description",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("is_speaker", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("is_moderator", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column(
            "photo",
            sa.LargeBinary()
            .with_variant(mysql.MEDIUMBLOB(), "mariadb")
            .with_variant(mysql.MEDIUMBLOB(), "mysql"),
            nullable=True,
        ),
        sa.Column("photo_mime", sa.String(length=32), nullable=True),
        sa.Column(
            "photo_updated_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=True,
        ),
        sa.Column(
            "created_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbots.id"],
            name=op.f("fk_guests_chatbot_id_chatbots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_guests_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guests")),
    )
    op.create_index(
        op.f("ix_guests_chatbot_id_name"), "guests", ["chatbot_id", "name"], unique=False
    )
    op.create_index(op.f("ix_guests_user_id"), "guests", ["user_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "conversation_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("chatbot_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("is_user_message", sa.Boolean(), nullable=False),
        sa.Column(
            "content",
            sa.Text()
            .with_variant(mysql.MEDIUMTEXT(), "mariadb")
            .with_variant(mysql.MEDIUMTEXT(), "mysql"),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=True),
        sa.Column(
            "reply_to_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("client_id", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["chatbot_id"],
            ["chatbots.id"],
            name=op.f("fk_messages_chatbot_id_chatbots"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_messages_conversation_id_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reply_to_id"],
            ["messages.id"],
            name=op.f("fk_messages_reply_to_id_messages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_messages_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("client_id", name=op.f("uq_messages_client_id")),
    )
    op.create_index(
        op.f("ix_messages_chatbot_id_created_at"),
        "messages",
        ["chatbot_id", "created_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_messages_chatbot_id_user_id_created_at_id"),
        "messages",
        ["chatbot_id", "user_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_messages_conversation_id_id"), "messages", ["conversation_id", "id"], unique=False
    )
    op.create_index(op.f("ix_messages_reply_to_id"), "messages", ["reply_to_id"], unique=False)
    op.create_index(
        op.f("ix_messages_user_id_created_at"), "messages", ["user_id", "created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("guests")
    op.drop_table("daily_message_counts")
    op.drop_table("conversations")
    op.drop_table("chatbot_participants")
    op.drop_table("session_tokens")
    op.drop_table("chatbots")
    op.drop_table("users")
    op.drop_table("auth_throttles")
