"""PDF reports: pluggable data sources, reportlab rendering, upload and a presigned link."""
