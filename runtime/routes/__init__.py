"""HTTP routes of the runtime, one module per resource, and the API's table.

Each module ends with its ``ROUTES``: method and path, handler, and what ``openapi.json``
says of it (:class:`runtime.operations.Operation`). :mod:`runtime.app` serves
:data:`ROUTES`; the generator writes the document's paths from it (and so imports this
package, not :mod:`runtime.app` with the web pages).
"""

from runtime.routes import (
    applications,
    bundles,
    catalogue,
    docs,
    evaluations,
    events,
    materials,
    objections,
    policies,
    quality,
    resources,
    sharing,
    staff,
)

# The HTTP API, each route a runtime.operations.Operation (but /static). openapi.json's
# operations come in this order, which tests/security/test_api_fuzz.py calls them in: its
# filed case takes uploads (materials) before a step (applications) can end it.
ROUTES = [
    *docs.ROUTES,
    *catalogue.ROUTES,
    *materials.ROUTES,
    *applications.ROUTES,
    *evaluations.ROUTES,
    *staff.ROUTES,
    *bundles.ROUTES,
    *policies.ROUTES,
    *resources.ROUTES,
    *sharing.ROUTES,
    *quality.ROUTES,
    *events.ROUTES,
    *objections.ROUTES,
]
