"""Numbers as a person would write them: "18 min ago", "2.3 MB", "4 h", "0.4 %".

Pure module. Used by the HTML report, summary.md, the terminal summary and notifications;
verdict.json keeps the exact values. `tidy` rounds long decimal tails inside free text (check
messages are written by many hands), so no report line reads `0.00133712 days`.
"""

from __future__ import annotations

import datetime as dt
import math
import re

# unit -> seconds, for measurements whose unit is a time
_TIME_UNITS = {"s": 1.0, "sec": 1.0, "seconds": 1.0, "min": 60.0, "minutes": 60.0,
               "h": 3600.0, "hours": 3600.0, "day": 86400.0, "days": 86400.0}
_SIZE_UNITS = {"B": 1, "bytes": 1, "KB": 1000, "kB": 1000, "MB": 10**6, "GB": 10**9}
_TAIL = re.compile(r"(?<![\w.:])(-?\d+\.\d{3,})(?![\d.])")
_ISO = re.compile(r"\b(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)?")


def number(value: float) -> str:
    """Three significant digits at most, no exponent, thousands separated: 1,234 / 12.3 / 0.042."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return "-" if value is None else str(value)
    if math.isnan(value) or math.isinf(value):
        return str(value)
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 100 or float(value).is_integer():
        return f"{value:,.0f}"
    digits = max(0, 2 - math.floor(math.log10(magnitude)))
    text = f"{value:.{min(digits, 4)}f}".rstrip("0").rstrip(".")
    return text if text not in ("0", "-0") else ("<0.0001" if value > 0 else ">-0.0001")


def percent(value: float) -> str:
    """0.4 %, 3.2 %, 12 %: one decimal below ten, whole numbers above."""
    if value is None:
        return "-"
    if value != 0 and abs(value) < 0.1:
        return "<0.1 %" if value > 0 else f"{number(value)} %"
    return f"{value:.1f}".rstrip("0").rstrip(".") + " %" if abs(value) < 10 else f"{value:.0f} %"


def duration(seconds: float) -> str:
    """42 ms, 3.4 s, 18 min, 2 h 5 min, 3 days."""
    if seconds is None:
        return "-"
    s = abs(float(seconds))
    sign = "-" if seconds < 0 else ""
    if s < 1:
        return f"{sign}{s * 1000:.0f} ms"
    if s < 10:
        return f"{sign}{s:.1f}".rstrip("0").rstrip(".") + " s"
    if s < 90:
        return f"{sign}{s:.0f} s"
    if s < 90 * 60:
        return f"{sign}{s / 60:.0f} min"
    if s < 36 * 3600:
        hours, minutes = divmod(round(s / 60), 60)
        return f"{sign}{hours} h" + (f" {minutes} min" if minutes and hours < 10 else "")
    return f"{sign}{s / 86400:.0f} days"


def size(n_bytes: float) -> str:
    """512 B, 2.3 kB, 14 MB, 1.2 GB (decimal units, as disks and uploads are sold)."""
    if n_bytes is None:
        return "-"
    value = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if abs(value) < 1000 or unit == "GB":
            return f"{number(value) if unit != 'B' else f'{value:.0f}'} {unit}"
        value /= 1000
    return f"{number(value)} TB"  # pragma: no cover - the loop returns at GB


def ago(when: dt.datetime | str | None, now: dt.datetime) -> str:
    """'18 min ago', 'in 3 days', 'just now' (an ISO string is read; naive times are UTC)."""
    if when is None:
        return "-"
    moment = dt.datetime.fromisoformat(when) if isinstance(when, str) else when
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    delta = (now - moment).total_seconds()
    if abs(delta) < 45:
        return "just now"
    text = duration(abs(delta)) if abs(delta) >= 90 else "1 min"
    return f"{text} ago" if delta > 0 else f"in {text}"


def quantity(value: float, unit: str = "") -> str:
    """A measured value with its unit, in the unit a person would use for it."""
    if value is None:
        return "-"
    if unit == "%":
        return percent(value)
    if unit in _TIME_UNITS:
        return duration(value * _TIME_UNITS[unit])
    if unit in _SIZE_UNITS:
        return size(value * _SIZE_UNITS[unit])
    if unit == "ms":
        if value >= 10_000:
            return duration(value / 1000)
        return f"{number(round(value) if value >= 10 else value)} ms"
    return f"{number(value)} {unit}".strip()


def tidy(text: str) -> str:
    """Round every decimal with three or more fraction digits in free text (0.00133712 -> 0.0013)
    and shorten ISO timestamps to the minute (2027-01-01T23:59:59.999999+00:00 -> 2027-01-01 23:59 UTC)."""
    def _time(m: re.Match[str]) -> str:
        zone = m.group(3)
        suffix = " UTC" if zone in ("Z", "+00:00") else f" {zone}" if zone else ""
        return f"{m.group(1)} {m.group(2)}{suffix}"

    return _TAIL.sub(lambda m: number(float(m.group(1))), _ISO.sub(_time, text))
