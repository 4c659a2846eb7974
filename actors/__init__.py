"""The domain pipelines: email, images, reports, campaigns, notifications, file processing."""
