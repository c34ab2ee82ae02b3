"""Suite-wide set-up for the check folders (readiness/ smoke/ e2e/ load/ rollback/).

The plugin itself (options, markers, verdict, reports) comes from the `pytest_cutover` package
through its pytest11 entry point; this file only holds what is specific to running the suite
from this repository.
"""
