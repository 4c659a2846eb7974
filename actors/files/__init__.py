"""File processing: chunked conversions with progress, and profile-picture resizing."""
