"""Qt code shared by the kiosk and the admin console (the only Qt inside ``shared``).

Nothing else in ``shared`` imports this package.
"""
