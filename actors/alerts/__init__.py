"""Alert notifications: signed webhooks (the alert emails go through the email queue)."""
