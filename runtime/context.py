"""The runtime context of one application instance: package, engine, settings, cipher.

Immutable; nothing in it changes between requests, so any number of workers can
serve the same database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine

from runtime.crypto import Cipher
from runtime.extensions import Extensions
from runtime.package import Package
from runtime.settings import Settings


@dataclass(frozen=True)
class Context:
    package: Package
    engine: Engine
    settings: Settings
    cipher: Cipher
    # the region's own routes and checks (runtime/extensions.py)
    extensions: Extensions = field(default_factory=Extensions)

    def now(self) -> datetime:
        return self.settings.now()
