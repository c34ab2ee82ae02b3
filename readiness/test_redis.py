"""Readiness, Redis: the cache answers, refuses anonymous clients when it has a password, runs a
supported version with a memory limit, the planned eviction policy and persistence, and has
memory headroom; evictions and a poor hit ratio are reported as warnings.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pytest_cutover import not_applicable, unverified
from pytest_cutover.clients import cache
from pytest_cutover.clients.db import parse_size
from pytest_cutover.fixtures import secret_or_unverified
from pytest_cutover.thresholds import Threshold

pytestmark = pytest.mark.checklist("infra.redis")

DEFAULT_MIN_VERSION = "7.0"  # ILS 2.0 runs Redis 7
MIN_LOOKUPS = 100  # below this a hit ratio says nothing about the cache
EVICTED_KEYS = Threshold(warn=0, unit="keys")  # any eviction is worth a look, none blocks


@pytest.fixture
def redis_table(require):
    return require("redis")


@pytest.fixture
def redis_url(redis_table, target):
    if "url_env" not in redis_table:
        unverified(f"redis.url_env is not set for environment {target.name!r}")
    return secret_or_unverified(target, redis_table["url_env"])


@pytest.fixture
def redis_facts(redis_url, probe_timeout_s, evidence):
    try:
        found = cache.facts(redis_url, probe_timeout_s)
    except cache.CacheUnavailable as exc:
        pytest.fail(f"Redis could not be asked: {exc}", pytrace=False)
    evidence("Redis INFO (excerpt)", {k: found.info.get(k) for k in (
        "redis_version", "maxmemory", "maxmemory_policy", "used_memory", "aof_enabled",
        "evicted_keys", "keyspace_hits", "keyspace_misses")}, "json")
    return found


def _version(text):
    return tuple(int(p) for p in text.split(".") if p.isdigit())


def test_redis_answers(redis_facts):
    assert redis_facts.version, "Redis answered INFO without redis_version"


def test_anonymous_clients_are_refused(redis_table, redis_url, probe_timeout_s):
    has_password = bool(urlsplit(redis_url).password)
    if not (has_password or redis_table.get("require_auth")):
        not_applicable("no Redis password is configured (redis.require_auth is not set)")
    answer = cache.anonymous_access(redis_url, probe_timeout_s)
    assert answer == "refused", (
        f"a client without credentials got {answer!r} from {cache.without_password(redis_url)} "
        f"(expected the server to refuse it: NOAUTH)")


def test_redis_version_is_at_least_the_minimum(redis_facts, redis_table):
    minimum = str(redis_table.get("min_version", DEFAULT_MIN_VERSION))
    assert _version(redis_facts.version) >= _version(minimum), (
        f"Redis {redis_facts.version} is older than the minimum {minimum} (redis.min_version)")


def test_memory_limit_is_set_as_planned(redis_facts, redis_table):
    planned = parse_size(str(redis_table["maxmemory"])) if "maxmemory" in redis_table else 1
    assert redis_facts.maxmemory >= (planned or 1), (
        f"Redis maxmemory is {redis_facts.maxmemory} bytes (expected "
        f"{redis_table.get('maxmemory', 'a limit')}; without one Redis grows until the OOM killer)")


def test_eviction_policy_is_as_planned(redis_facts, redis_table, target):
    planned = redis_table.get("maxmemory_policy")
    if not planned:
        unverified(f"redis.maxmemory_policy is not set for environment {target.name!r}: "
                   f"name the planned policy (allkeys-lru for a cache)")
    assert redis_facts.policy == planned, (
        f"Redis maxmemory-policy is {redis_facts.policy!r} (expected {planned!r})")


def test_persistence_is_as_planned(redis_facts, redis_table, target):
    planned = redis_table.get("persistence")
    if not planned:
        unverified(f"redis.persistence is not set for environment {target.name!r}: "
                   f"name it (none, rdb, aof or rdb+aof)")
    if "save" not in redis_facts.config:
        unverified("CONFIG GET is not allowed on this Redis, so persistence cannot be read")
    assert redis_facts.persistence == planned, (
        f"Redis persistence is {redis_facts.persistence!r} (expected {planned!r})")


def test_memory_use_within_thresholds(redis_facts, measure):
    if not redis_facts.maxmemory:
        pytest.fail("Redis has no maxmemory, so memory use has no ceiling to be judged against",
                    pytrace=False)
    pct = 100.0 * redis_facts.used_memory / redis_facts.maxmemory
    measure("memory_pct", round(pct, 1),
            subject=f"Redis ({redis_facts.used_memory} of {redis_facts.maxmemory} bytes)")


def test_evicted_keys_are_reported(redis_facts, measure):
    measure("redis_evicted_keys", redis_facts.evicted_keys, EVICTED_KEYS,
            subject="Redis since its start")


@pytest.mark.non_blocking
def test_cache_hit_ratio_within_thresholds(redis_facts, measure):
    hits, misses = redis_facts.lookups
    if hits + misses < MIN_LOOKUPS:
        unverified(f"Redis has answered {hits + misses} key lookups since its start: too few "
                   f"(fewer than {MIN_LOOKUPS}) for a meaningful hit ratio")
    measure("cache_hit_pct", round(100.0 * hits / (hits + misses), 1),
            subject=f"Redis ({hits} hits, {misses} misses)")
