"""The demo application served by ``scripts/serve``."""
