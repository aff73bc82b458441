"""The shop's routers, one module per domain, wired together in ``examples/shop/main.py``."""
