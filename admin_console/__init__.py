"""The ConvergeAI admin console: where organizers run their event assistants from a laptop."""
