"""Tests against a live ``govstd serve`` process (several workers, real sockets)."""
