"""ConvergeAI's core: settings, database, models, migrations, services, assistant and CLI.

Nothing in this package outside ``shared.ui`` imports Qt.
"""

__version__ = "0.1.0"
