"""The domain pipelines: email, images, reports, campaigns, notifications, file processing, alerts.

Importing this package declares nothing: producers import the ``service``
modules, which talk to queues by name and never load actor code.  Workers load
the actors through :mod:`actors.worker` (``dramatiq actors.worker``, or
``dramatiq pipeline.actors``, which finds it by its ``pipeline.actors`` entry point).
"""
