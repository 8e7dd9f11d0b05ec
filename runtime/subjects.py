"""Who filed a case, without keeping their login id: applicants are stored pseudonymously.

An applicant's login id (the token's ``sub``) may be their ID number. The database
never holds it: ``applications.applicant_sub``, ``evaluations.applicant_sub``,
``idempotency_keys.applicant_sub``, ``material_files.uploaded_by``, the
``applicant_sub`` of ``bundle_filings``, ``profiles`` and ``notifications`` and, for the
applicant's own steps and accesses, ``transitions.actor_sub`` and
``audit_log.actor_sub`` hold its *pseudonym* ``p1.<HMAC-SHA256 hex>``: a blind
index (:func:`runtime.crypto.blind_index`, context ``subject``) under a subkey of
the data key. Equal logins give equal pseudonyms, so an applicant still finds
their cases and the audit log still tells one applicant's entries from another's;
without the data key the pseudonym says nothing. Staff are stored by their login
id: who handled or read a case must stay plain in the audit log.

Key rotation: a pseudonym is written under the first key of ``GOVSTD_DATA_KEY``
and looked up under every key, so cases filed before a rotation are still found.
A pseudonym cannot be recomputed without the login id, so an older key stays in
``GOVSTD_DATA_KEY`` for as long as its applicants should find their earlier cases.

Staff views show :func:`shown`: the first 12 hex digits of the pseudonym, never the
login id or a part of it.

``govstd migrate`` rewrites rows written before pseudonyms
(:func:`pseudonymize_existing`): every value not starting with ``p1.`` is taken
for a login id (a login id that itself starts with ``p1.`` would be left as it is).
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import ColumnElement, Connection, Table, select, update

from runtime.crypto import Cipher
from runtime.masking import mask_value
from runtime.package import Package

PREFIX: Final = "p1."
CONTEXT: Final = "subject"
SHOWN_DIGITS: Final = 12


def pseudonyms(cipher: Cipher, login: str) -> tuple[str, ...]:
    """The pseudonyms of ``login`` under every data key, the one to write first."""
    return tuple(PREFIX + h for h in cipher.blind_indexes(login, context=CONTEXT))


def shown(stored: str | None, role: str | None = "applicant") -> str | None:
    """How staff see a stored subject: staff by login id, applicants by a short
    pseudonym (a value from before pseudonyms, masked)."""
    if stored is None or role != "applicant":
        return stored
    if stored.startswith(PREFIX):
        return stored[len(PREFIX) : len(PREFIX) + SHOWN_DIGITS]
    masked: str = mask_value(stored)
    return masked


def _columns(pkg: Package) -> list[tuple[Table, str, ColumnElement[bool] | None]]:
    """Every column that holds an applicant's subject, with the condition for rows of
    applicants (``None``: every row)."""
    t = pkg.tables
    return [
        (t.applications, "applicant_sub", None),
        (t.evaluations, "applicant_sub", None),
        (t.idempotency_keys, "applicant_sub", None),
        (t.material_files, "uploaded_by", None),
        (t.bundle_filings, "applicant_sub", None),
        (t.profiles, "applicant_sub", None),
        (t.notifications, "applicant_sub", None),
        (t.transitions, "actor_sub", t.transitions.c.actor_role == "applicant"),
        (t.audit_log, "actor_sub", t.audit_log.c.actor_role == "applicant"),
    ]


def legacy_count(conn: Connection, pkg: Package) -> int:
    """How many distinct login ids are stored in plain (written before pseudonyms)."""
    found: set[str] = set()
    for table, name, applicants in _columns(pkg):
        column = table.c[name]
        query = select(column).distinct().where(column.is_not(None), ~column.startswith(PREFIX))
        if applicants is not None:
            query = query.where(applicants)
        found.update(conn.execute(query).scalars())
    return len(found)


def pseudonymize_existing(conn: Connection, pkg: Package, cipher: Cipher) -> int:
    """Replace every plain applicant login id by its pseudonym; the number of rows changed."""
    changed = 0
    for table, name, applicants in _columns(pkg):
        column = table.c[name]
        query = select(column).distinct().where(column.is_not(None), ~column.startswith(PREFIX))
        if applicants is not None:
            query = query.where(applicants)
        for login in conn.execute(query).scalars().all():
            where = column == login
            if applicants is not None:
                where = where & applicants
            result = conn.execute(
                update(table).where(where).values({name: pseudonyms(cipher, login)[0]})
            )
            changed += result.rowcount
    return changed
