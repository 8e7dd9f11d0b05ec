"""Ids of new records (applications, bundle filings, sharing requests, events): UUIDv7.

A UUIDv7 (RFC 9562 §5.7) begins with the milliseconds since the Unix epoch (48 bits),
then the version, 12 random bits, the variant and 62 random bits. Ids taken one after
the other therefore sort one after the other, and each new row's key lands at the end
of its B-tree indexes — the primary key of ``applications`` and of a form's table, and
every ``application_id`` index — instead of on a random page of each. Measured on the
SQLite group commit (issue 13): with uuid4 keys a group of filings dirtied a page of
every such index per filing, and its ``COMMIT`` wrote them all to the WAL; with time
ordered keys the group shares the last page of each. PostgreSQL gains the same
locality (fewer pages written, fewer full-page images after a checkpoint).

What an id tells: the millisecond its record was made (the record shows its
``created_at`` to whoever may read it anyway). It is no capability: every route checks
who may see the record, and 74 random bits keep ids unguessable all the same.

Written here rather than taken from a package: Python 3.11's ``uuid`` has no
``uuid7`` (3.14 adds it); ``uuid6.uuid7`` moves its timestamp a millisecond ahead for
every id taken within one millisecond, so under load its ids run ahead of the clock;
``uuid-utils`` is a compiled dependency for these few lines.
"""

from __future__ import annotations

import os
import time

_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62
_RAND_B = (1 << 62) - 1


def new_id() -> str:
    """A new UUIDv7 as lower-case text, ``xxxxxxxx-xxxx-7xxx-[89ab]xxx-xxxxxxxxxxxx``."""
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits: 12 for rand_a, 62 for rand_b
    value = ms << 80 | _VERSION_7 | (rand >> 68) << 64 | _VARIANT | (rand & _RAND_B)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
