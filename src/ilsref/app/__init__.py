"""The ILS reference web app (Starlette). Run it with `python -m ilsref.app --config run/app.json`.

Kept import-light: `ilsref.app.passwords` is also used by the database seeding.
"""
