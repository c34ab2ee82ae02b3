"""Readiness, DNS: every configured name resolves to the expected address or alias on every
configured resolver, all resolvers give the same answer (propagation finished), and TTLs are
within bounds (short enough to move traffic, long enough not to hammer the resolvers).
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients import dns

pytestmark = pytest.mark.checklist("infra.dns")

MAX_QUERIES = 60
DEFAULT_TTL_MAX = 86400
DEFAULT_TTL_MIN = 30


@pytest.fixture
def answers(require, target, probe_timeout_s, evidence):
    """{(name, type): [Answer per resolver]} for every configured record, at most MAX_QUERIES."""
    table = require("dns")
    resolvers, records = table.get("resolvers"), table.get("records")
    if not resolvers or not records:
        unverified(f"dns.resolvers and dns.records must both be set for environment "
                   f"{target.name!r} (records: [{{name, type, expect = [...]}}])")
    if len(resolvers) * len(records) > MAX_QUERIES:
        pytest.fail(f"{len(records)} records x {len(resolvers)} resolvers exceed the bound of "
                    f"{MAX_QUERIES} queries", pytrace=False)
    found = {}
    for record in records:
        key = (record["name"], record.get("type", "A").upper())
        found[key] = [dns.resolve(*key, resolver, timeout_s=min(probe_timeout_s, 3.0))
                      for resolver in resolvers]
    evidence("DNS answers", [a.describe() for group in found.values() for a in group])
    return table, found


def _expected(table, name, rtype):
    for record in table["records"]:
        if record["name"] == name and record.get("type", "A").upper() == rtype:
            return record.get("expect") or []
    return []


def test_each_name_resolves_as_expected_on_every_resolver(answers):
    table, found = answers
    problems = []
    for (name, rtype), group in found.items():
        expected = sorted(_expected(table, name, rtype))
        for answer in group:
            if answer.error:
                problems.append(answer.describe())
            elif expected and not (len(answer.records) == len(expected) and all(
                    dns.same_name(a, e) for a, e in zip(answer.records, expected, strict=True))):
                problems.append(f"{answer.describe()} (expected {', '.join(expected)})")
    assert not problems, f"names do not resolve as expected: {'; '.join(problems)}"


def test_all_resolvers_agree(answers):
    _, found = answers
    split = {f"{name} {rtype}": {a.resolver: a.error or ", ".join(a.records) for a in group}
             for (name, rtype), group in found.items()
             if len({a.error or tuple(r.lower().rstrip(".") for r in a.records) for a in group}) > 1}
    assert not split, f"resolvers disagree (propagation not finished): {split}"


def test_ttls_are_within_bounds(answers):
    table, found = answers
    low, high = int(table.get("ttl_min", DEFAULT_TTL_MIN)), int(table.get("ttl_max", DEFAULT_TTL_MAX))
    outside = [f"{a.name} {a.rtype} @{a.resolver}: {a.ttl} s" for group in found.values()
               for a in group if a.ttl is not None and not low <= a.ttl <= high]
    assert not outside, (f"TTLs outside {low}..{high} s: {'; '.join(outside)} "
                         f"(a long TTL delays a cutover or a rollback by that long)")
