"""The ConvergeAI kiosk: a touch-first, locked-down PySide6 app where attendees chat with the
event assistant at a venue touchscreen."""
