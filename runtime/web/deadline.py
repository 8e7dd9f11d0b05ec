"""What a case's deadline column says: the date once the clock runs, the promise before.

One helper for every page that shows an applicant's or officer's case (``/me``, the
case page, the page after filing, a bundle filing, the staff case page), so that a
承诺件 not accepted yet reads "受理后 3 个工作日内办结" and only a matter whose
``case_type`` is ``instant`` reads 即办件.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runtime.package import Package
from runtime.records import matter_of, rules_of
from runtime.web.hall import limit_text
from runtime.web.i18n import text
from runtime.web.render import local_time


def deadline_note(pkg: Package, app: Mapping[str, Any], lng: str) -> str:
    """``2026-03-12`` · ``已办结 2026-03-10 15:02`` · ``即办件`` ·
    ``受理后 3 个工作日内办结`` · ``—`` for an application view of the API."""
    if app.get("final"):
        finished = local_time(app.get("finished_at") or app.get("updated_at"))
        return text("deadline.closed", lng, at=finished) if finished else "—"
    if app.get("deadline"):
        return local_time(app["deadline"], with_time=False)
    if app.get("deadline_unknown"):
        return text("staff.deadline_unknown", lng)
    matter = matter_of(pkg, app["region"], app["matter"])
    if matter is not None and matter.case_type == "instant":
        return text("case_type.instant", lng)
    promised = _promised(pkg, app, matter)
    if promised:
        return text("bundle.promised", lng, limit=limit_text(promised, lng))
    return "—"


def _promised(pkg: Package, app: Mapping[str, Any], matter: Any) -> dict[str, Any] | None:
    """The limit the case was filed under (its recorded rules, on a detail view), else
    the matter's current promise (a list view does not carry the rules)."""
    if "rules" in app:
        rules = rules_of(pkg, app)
        if rules is not None:
            return rules.promised
    return dict(matter.promised) if matter is not None and matter.promised else None
