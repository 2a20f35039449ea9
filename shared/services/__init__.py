"""Services: every business rule and permission check, callable without a GUI.

Service functions take the Session (and the acting user) and return frozen dataclasses, never ORM
objects; the caller owns the transaction. Functions that must hash passwords (about 250 ms of
bcrypt) take the :class:`~shared.db.Database` instead and open short transactions of their own, so
no write lock is held while hashing.
"""
