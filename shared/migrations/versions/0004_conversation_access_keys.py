"""conversation access keys and visit-bound sessions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("conversations", sa.Column("access_key_hash", sa.String(length=64)))
    op.create_index(
        op.f("ix_conversations_access_key_hash"),
        "conversations",
        ["access_key_hash"],
        unique=False,
    )
    op.add_column("session_tokens", sa.Column("visit_key_hash", sa.String(length=64)))
    op.create_index(
        op.f("ix_session_tokens_visit_key_hash"),
        "session_tokens",
        ["visit_key_hash"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_session_tokens_visit_key_hash"), table_name="session_tokens")
    op.drop_column("session_tokens", "visit_key_hash")
    op.drop_index(op.f("ix_conversations_access_key_hash"), table_name="conversations")
    op.drop_column("conversations", "access_key_hash")
