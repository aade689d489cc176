"""foreground."""
