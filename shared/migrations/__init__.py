"""Alembic migrations of the ConvergeAI schema (run through ``shared.migrate``)."""
