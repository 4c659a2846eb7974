"""Notifications about events in the system (the ``notifications`` queue)."""
