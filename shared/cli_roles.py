"""``convergeai db create-roles``: the kiosk and admin database roles (PostgreSQL).

Kept beside :mod:`shared.cli` (which lists it in its command table) so the command's prompts and
output stay apart from the role design in :mod:`shared.roles`.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from shared.db import Database
from shared.errors import ValidationError
from shared.roles import DEFAULT_ADMIN_ROLE, DEFAULT_KIOSK_ROLE, create_roles, generate_password


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``db create-roles``."""
    p.add_argument("--kiosk-role", default=DEFAULT_KIOSK_ROLE, help="default: %(default)s")
    p.add_argument("--admin-role", default=DEFAULT_ADMIN_ROLE, help="default: %(default)s")
    p.add_argument(
        "--generate-passwords",
        action="store_true",
        help="make strong random passwords instead of asking (they appear in the URLs printed)",
    )
    p.add_argument(
        "--passwords-stdin",
        action="store_true",
        help="read the kiosk role's password, then the admin role's, one per line on stdin",
    )


def _ask(role: str) -> str:
    try:
        password = getpass.getpass(f"Password for the database role {role}: ")
        again = getpass.getpass("Repeat it: ")
    except EOFError:
        raise ValidationError("No password given.", "password") from None
    if password != again:
        raise ValidationError("The passwords do not match.", "password")
    return password


def _passwords(args: argparse.Namespace) -> tuple[str, str]:
    if args.generate_passwords:
        return generate_password(), generate_password()
    if args.passwords_stdin:
        lines = [sys.stdin.readline().rstrip("\r\n") for _ in range(2)]
        if not all(lines):
            raise ValidationError("Expected two lines on stdin: kiosk password, admin password.")
        return lines[0], lines[1]
    return _ask(args.kiosk_role), _ask(args.admin_role)


def run(db: Database, args: argparse.Namespace) -> int:
    """Create or update both roles and print the URL each kind of machine should use."""
    kiosk_password, admin_password = _passwords(args)
    created = create_roles(
        db,
        kiosk_role=args.kiosk_role,
        kiosk_password=kiosk_password,
        admin_role=args.admin_role,
        admin_password=admin_password,
    )
    print(f"Roles {created.kiosk_role} (kiosks) and {created.admin_role} (admin console): ready.")
    print('Put these in each machine\'s config.toml as [database] url = "..." (keep them secret):')
    print(f"  kiosks:        {created.kiosk_url}")
    print(f"  admin console: {created.admin_url}")
    print("Keep the owner account (this one) for `convergeai db upgrade` and IT work only.")
    return 0
