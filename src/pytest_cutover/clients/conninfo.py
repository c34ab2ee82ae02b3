"""PostgreSQL connection strings (URI or key=value), parsed by libpq itself, without psycopg.

The restore drill builds the DSNs of its scratch database and starts pg_restore before psycopg
is imported (~70 ms, imported meanwhile on another thread): so the parsing is libpq's own
`PQconninfoParse`, called through ctypes on the libpq the PostgreSQL tools use. When no libpq can
be loaded, psycopg's functions (the same parser underneath) are used instead.
"""

from __future__ import annotations

import ctypes
import functools
from typing import Any


class ConninfoError(ValueError):
    """The connection string is not one libpq accepts; the message is libpq's."""


class _Option(ctypes.Structure):
    _fields_ = [("keyword", ctypes.c_char_p), ("envvar", ctypes.c_char_p),
                ("compiled", ctypes.c_char_p), ("val", ctypes.c_char_p),
                ("label", ctypes.c_char_p), ("dispchar", ctypes.c_char_p),
                ("dispsize", ctypes.c_int)]


@functools.cache
def _libpq() -> Any:
    """libpq, or None. By soname: `ctypes.util.find_library` would run ldconfig."""
    for name in ("libpq.so.5", "libpq.5.dylib", "libpq.so"):
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.PQconninfoParse.restype = ctypes.POINTER(_Option)
        lib.PQconninfoParse.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p)]
        lib.PQconninfoFree.argtypes = [ctypes.POINTER(_Option)]
        lib.PQfreemem.argtypes = [ctypes.c_void_p]
        return lib
    return None


def parse(dsn: str) -> dict[str, str]:
    """The parameters the string sets (keyword -> value), as `psycopg.conninfo.conninfo_to_dict`."""
    lib = _libpq()
    if lib is None:
        import psycopg
        from psycopg.conninfo import conninfo_to_dict

        try:
            return {k: str(v) for k, v in conninfo_to_dict(dsn).items()}
        except psycopg.Error as exc:
            raise ConninfoError(str(exc).strip()) from None
    error = ctypes.c_void_p()
    options = lib.PQconninfoParse(dsn.encode(), ctypes.byref(error))
    if not options:
        message = ctypes.string_at(error.value).decode(errors="replace").strip() if error.value else ""
        if error.value:
            lib.PQfreemem(error)
        raise ConninfoError(message or "invalid connection string")
    try:
        found = {}
        for i in range(10_000):  # an array ended by an entry without keyword (about 40 entries)
            option = options[i]
            if option.keyword is None:
                break
            if option.val is not None:
                found[option.keyword.decode()] = option.val.decode(errors="replace")
        return found
    finally:
        lib.PQconninfoFree(options)


def _quoted(value: str) -> str:
    """A key=value value: quoted when empty or holding a space, quote or backslash."""
    if value and not any(c in value for c in " '\\\t\n\r"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def make(dsn: str = "", **changes: str | None) -> str:
    """`dsn` with `changes` applied (None removes a parameter), as a key=value string."""
    params: dict[str, str | None] = {**parse(dsn), **changes}
    return " ".join(f"{key}={_quoted(str(value))}" for key, value in params.items()
                    if value is not None)
