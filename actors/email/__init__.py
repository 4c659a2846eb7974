"""Transactional email: validation, Jinja2 rendering, SMTP delivery, and the email queue's actors."""
