"""``python -m admin_console``."""

from admin_console.app import main

raise SystemExit(main())
