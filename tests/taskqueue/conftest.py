"""The ``env`` fixture (tq_support.py): real servers and workers on RabbitMQ and Redis."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tq_support import env  # noqa: F401
