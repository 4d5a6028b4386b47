"""makerates."""
