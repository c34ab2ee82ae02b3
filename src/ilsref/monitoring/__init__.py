"""Prometheus and Alertmanager for the reference deployment: config generation and a supervisor.

`plan` holds the coordinates the service decided (ports, paths, scrape targets), `rules` and
`config` turn a plan plus the active faults into the files the two servers read, and `supervisor`
is the process that runs both servers and re-applies the files when a fault is toggled.
"""
