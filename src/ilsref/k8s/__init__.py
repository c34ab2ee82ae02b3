"""A small Kubernetes API server emulator (standard library only) holding the ILS objects.

Run it with `python -m ilsref.k8s --port P --run-dir DIR`; see `__main__.py` for the options.
Layout: `resources` (the kinds served and their discovery documents), `store` (objects,
resourceVersions, watch events), `selectors`, `patching`, `controller` (deployments, replica sets,
pods, endpoints), `batch` (admission of Jobs, CronJobs and PVCs: stored, never run), `faultview`
(fault switches seen by clients), `podlogs`, `seed`, `server` (HTTP).
"""
