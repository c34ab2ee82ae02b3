"""The server-rendered UI of the ILS user flows (sign-in, dashboards, patients, orders, reports,
admin), following the routes and `data-testid` selectors of ILS 2.0's React app.

Pages check the `ils.sid` session cookie server-side; their data comes from the JSON API, called
by `/assets/ui.js` with the bearer token that sign-in keeps in localStorage, as the ILS SPA does.
"""

from ilsref.app.ui.views import routes

__all__ = ["routes"]
