"""Dramatiq middleware of the project, one behaviour per module.

They build on ``pipeline``, whose ``actor()`` gets its broker from the
composition root (``pipeline.composition``), which imports them.  Python
initialises a package before any of its modules, so loading ``pipeline`` here,
first, lets a middleware module be imported before anything else: otherwise
``pipeline``'s initialisation would reach back for the half-loaded module.
"""

import pipeline  # noqa: F401
