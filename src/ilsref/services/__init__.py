"""The services `ilsref up` starts, in order. Each module exposes `start(ctx)` and `FAULTS`."""
