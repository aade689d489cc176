"""matting."""
