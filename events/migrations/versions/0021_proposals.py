"""calls for proposals: identity secrets and address confirmations, follows, moderation,
calls, proposals, their people, supports, allowances, trail, updates, merges; the outbox's
one-click unsubscribe address

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 03:54:32.431523
"""

from __future__ import annotations

import advanced_alchemy.types
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "address_confirmation",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("community_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column(
            "expires_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "confirmed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_address_confirmation_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_address_confirmation")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_address_confirmation_token_hash")),
    )
    op.create_index(
        op.f("ix_address_confirmation_community_id"),
        "address_confirmation",
        ["community_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_address_confirmation_email"), "address_confirmation", ["email"], unique=False
    )
    op.create_index(
        op.f("ix_address_confirmation_expires_at"),
        "address_confirmation",
        ["expires_at"],
        unique=False,
    )
    op.create_table(
        "community_secret",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("community_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("secret", sa.LargeBinary(length=64), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_community_secret_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_community_secret")),
        sa.UniqueConstraint("community_id", name=op.f("uq_community_secret_community_id")),
    )
    op.create_table(
        "follow",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("community_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_follow_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follow")),
        sa.UniqueConstraint("subject_kind", "subject_id", "person_key", name="uq_follow_person"),
    )
    op.create_index("ix_follow_community_email", "follow", ["community_id", "email"], unique=False)
    op.create_table(
        "moderation_case",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("community_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("path", sa.String(length=300), nullable=False),
        sa.Column("reports", sa.Integer(), server_default="0", nullable=False),
        sa.Column("hidden", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("hidden_by", sa.String(length=16), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column(
            "decided_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_moderation_case_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_case")),
        sa.UniqueConstraint("subject_kind", "subject_id", name="uq_moderation_subject"),
    )
    op.create_index(
        op.f("ix_moderation_case_community_id"), "moderation_case", ["community_id"], unique=False
    )
    op.create_table(
        "moderation_report",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("case_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("reporter_key", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["moderation_case.id"],
            name=op.f("fk_moderation_report_case_id_moderation_case"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_report")),
        sa.UniqueConstraint("case_id", "reporter_key", name="uq_moderation_reporter"),
    )
    op.create_index(
        op.f("ix_moderation_report_case_id"), "moderation_report", ["case_id"], unique=False
    )
    op.create_table(
        "proposal_call",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("community_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("series_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("event_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("kinds", sa.JSON(), nullable=False),
        sa.Column(
            "opens_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "closes_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "supports_open_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=False,
        ),
        sa.Column(
            "supports_close_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=False,
        ),
        sa.Column("supporters", sa.String(length=20), nullable=False),
        sa.Column("support_budget", sa.Integer(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("proposals_per_person", sa.Integer(), nullable=False),
        sa.Column("public_counts", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("order", sa.String(length=20), nullable=False),
        sa.Column("proposals_made", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_proposal_call_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["event.id"],
            name=op.f("fk_proposal_call_event_id_event"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["series_id"],
            ["series.id"],
            name=op.f("fk_proposal_call_series_id_series"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_call")),
    )
    op.create_index(
        op.f("ix_proposal_call_community_id"), "proposal_call", ["community_id"], unique=False
    )
    op.create_index(op.f("ix_proposal_call_event_id"), "proposal_call", ["event_id"], unique=False)
    op.create_index(
        op.f("ix_proposal_call_series_id"), "proposal_call", ["series_id"], unique=False
    )
    op.create_index(op.f("ix_proposal_call_slug"), "proposal_call", ["slug"], unique=True)
    op.create_table(
        "call_allowance",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("call_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("supports_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("proposals_used", sa.Integer(), server_default="0", nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["proposal_call.id"],
            name=op.f("fk_call_allowance_call_id_proposal_call"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_allowance")),
        sa.UniqueConstraint("call_id", "person_key", name="uq_call_allowance_person"),
    )
    op.create_table(
        "proposal",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("call_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("community_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("needs", sa.JSON(), nullable=False),
        sa.Column("needs_note", sa.String(length=500), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("supports", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "ready_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("proposer_key", sa.String(length=64), nullable=False),
        sa.Column("answer_reason", sa.String(length=40), nullable=False),
        sa.Column("answer_note", sa.Text(), nullable=False),
        sa.Column(
            "answered_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("draft_answer", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("merged_into_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("became_event_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("became_item_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column(
            "published_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "update_mailed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column("request_key", sa.String(length=64), nullable=True),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["became_event_id"],
            ["event.id"],
            name=op.f("fk_proposal_became_event_id_event"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["became_item_id"],
            ["programme_item.id"],
            name=op.f("fk_proposal_became_item_id_programme_item"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["proposal_call.id"],
            name=op.f("fk_proposal_call_id_proposal_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["community_id"],
            ["community.id"],
            name=op.f("fk_proposal_community_id_community"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_merged_into_id_proposal"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal")),
        sa.UniqueConstraint("call_id", "number", name="uq_proposal_number"),
        sa.UniqueConstraint("call_id", "request_key", name="uq_proposal_request_key"),
    )
    op.create_index("ix_proposal_call_status", "proposal", ["call_id", "status"], unique=False)
    op.create_index(op.f("ix_proposal_community_id"), "proposal", ["community_id"], unique=False)
    op.create_table(
        "proposal_log",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("proposal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=False),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("actor_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_log_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_log")),
    )
    op.create_index(
        op.f("ix_proposal_log_proposal_id"), "proposal_log", ["proposal_id"], unique=False
    )
    op.create_table(
        "proposal_merge",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("proposal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("into_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("requested_by_id", advanced_alchemy.types.guid.GUID(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "from_agreed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "into_agreed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column(
            "refused_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column(
            "done_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=True
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["into_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_merge_into_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_merge_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_merge")),
    )
    op.create_index(op.f("ix_proposal_merge_into_id"), "proposal_merge", ["into_id"], unique=False)
    op.create_index(
        op.f("ix_proposal_merge_proposal_id"), "proposal_merge", ["proposal_id"], unique=False
    )
    op.create_table(
        "proposal_person",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("proposal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("named", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("locale", sa.String(length=8), nullable=False),
        sa.Column(
            "confirmed_at",
            advanced_alchemy.types.datetime.DateTimeUTC(timezone=True),
            nullable=True,
        ),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_person_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_person")),
        sa.UniqueConstraint("proposal_id", "person_key", name="uq_proposal_person"),
    )
    op.create_index(op.f("ix_proposal_person_email"), "proposal_person", ["email"], unique=False)
    op.create_index(
        op.f("ix_proposal_person_proposal_id"), "proposal_person", ["proposal_id"], unique=False
    )
    op.create_table(
        "proposal_support",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("proposal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("call_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("supporter_key", sa.String(length=64), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["call_id"],
            ["proposal_call.id"],
            name=op.f("fk_proposal_support_call_id_proposal_call"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_support_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_support")),
        sa.UniqueConstraint("proposal_id", "supporter_key", name="uq_proposal_support_person"),
    )
    op.create_index(
        "ix_proposal_support_call_supporter",
        "proposal_support",
        ["call_id", "supporter_key"],
        unique=False,
    )
    op.create_table(
        "proposal_update",
        sa.Column("id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("proposal_id", advanced_alchemy.types.guid.GUID(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("sa_orm_sentinel", sa.Integer(), nullable=True),
        sa.Column(
            "created_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.Column(
            "updated_at", advanced_alchemy.types.datetime.DateTimeUTC(timezone=True), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_proposal_update_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_update")),
    )
    op.create_index(
        op.f("ix_proposal_update_proposal_id"), "proposal_update", ["proposal_id"], unique=False
    )
    op.add_column(
        "outbox_message", sa.Column("unsubscribe_url", sa.String(length=500), nullable=True)
    )


def downgrade() -> None:
    op.drop_column("outbox_message", "unsubscribe_url")
    op.drop_index(op.f("ix_proposal_update_proposal_id"), table_name="proposal_update")
    op.drop_table("proposal_update")
    op.drop_index("ix_proposal_support_call_supporter", table_name="proposal_support")
    op.drop_table("proposal_support")
    op.drop_index(op.f("ix_proposal_person_proposal_id"), table_name="proposal_person")
    op.drop_index(op.f("ix_proposal_person_email"), table_name="proposal_person")
    op.drop_table("proposal_person")
    op.drop_index(op.f("ix_proposal_merge_proposal_id"), table_name="proposal_merge")
    op.drop_index(op.f("ix_proposal_merge_into_id"), table_name="proposal_merge")
    op.drop_table("proposal_merge")
    op.drop_index(op.f("ix_proposal_log_proposal_id"), table_name="proposal_log")
    op.drop_table("proposal_log")
    op.drop_index(op.f("ix_proposal_community_id"), table_name="proposal")
    op.drop_index("ix_proposal_call_status", table_name="proposal")
    op.drop_table("proposal")
    op.drop_table("call_allowance")
    op.drop_index(op.f("ix_proposal_call_slug"), table_name="proposal_call")
    op.drop_index(op.f("ix_proposal_call_series_id"), table_name="proposal_call")
    op.drop_index(op.f("ix_proposal_call_event_id"), table_name="proposal_call")
    op.drop_index(op.f("ix_proposal_call_community_id"), table_name="proposal_call")
    op.drop_table("proposal_call")
    op.drop_index(op.f("ix_moderation_report_case_id"), table_name="moderation_report")
    op.drop_table("moderation_report")
    op.drop_index(op.f("ix_moderation_case_community_id"), table_name="moderation_case")
    op.drop_table("moderation_case")
    op.drop_index("ix_follow_community_email", table_name="follow")
    op.drop_table("follow")
    op.drop_table("community_secret")
    op.drop_index(op.f("ix_address_confirmation_expires_at"), table_name="address_confirmation")
    op.drop_index(op.f("ix_address_confirmation_email"), table_name="address_confirmation")
    op.drop_index(op.f("ix_address_confirmation_community_id"), table_name="address_confirmation")
    op.drop_table("address_confirmation")
