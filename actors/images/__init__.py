"""Image variants with Pillow: fitted resizes and an optimised re-encode, and the image queue's actors."""
