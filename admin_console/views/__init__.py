"""The console's views, one per sidebar entry."""
