"""Dramatiq middleware of the project, one behaviour per module."""
