"""Stand-ins for the SaaS parts of ILS's observability: Grafana, Sentry, a Loki-style log store,
and a webhook sink for Alertmanager notifications.

Each speaks the documented HTTP API of the real product (the subset checks use), with the same
JSON shapes and auth behaviour, and reads run/faults.json on every request so faults toggle live.
"""
