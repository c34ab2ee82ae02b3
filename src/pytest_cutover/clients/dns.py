"""DNS answers from explicit resolvers (dnspython, imported lazily), one query each, with a timeout.

Returns facts, never asserts: what a given resolver answers for a name and type, with the TTL,
or the failure (NXDOMAIN, no answer, timeout) as a fact. Resolvers are `host` or `host:port`.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Answer:
    resolver: str
    name: str
    rtype: str
    records: list[str] = field(default_factory=list)  # canonical text, sorted
    ttl: int | None = None
    error: str | None = None  # NXDOMAIN, NOANSWER, timeout ...

    def describe(self) -> str:
        if self.error:
            return f"{self.name} {self.rtype} @{self.resolver}: {self.error}"
        return f"{self.name} {self.rtype} @{self.resolver}: {', '.join(self.records)} (TTL {self.ttl})"


def split_resolver(resolver: str, default_port: int = 53) -> tuple[str, int]:
    host, sep, port = resolver.rpartition(":")
    if not sep or not port.isdigit() or (host.count(":") and not host.startswith("[")):
        return resolver.strip("[]"), default_port  # a bare name or IPv6 address
    return host.strip("[]"), int(port)


def resolve(name: str, rtype: str, resolver: str, timeout_s: float = 3.0) -> Answer:
    """Ask `resolver` (no search list, no recursion through the system configuration)."""
    import dns.exception
    import dns.resolver

    host, port = split_resolver(resolver)
    asker = dns.resolver.Resolver(configure=False)
    asker.nameservers = [host]
    asker.port = port
    asker.timeout = timeout_s
    asker.lifetime = timeout_s
    try:
        answer = asker.resolve(name, rtype, search=False, raise_on_no_answer=True)
    except dns.resolver.NXDOMAIN:
        return Answer(resolver, name, rtype, error="NXDOMAIN")
    except dns.resolver.NoAnswer:
        return Answer(resolver, name, rtype, error=f"no {rtype} record (NOERROR, empty answer)")
    except dns.resolver.NoNameservers as exc:
        return Answer(resolver, name, rtype, error=f"SERVFAIL or refused: {exc}")
    except dns.exception.Timeout:
        return Answer(resolver, name, rtype, error=f"timed out after {timeout_s:g} s")
    except dns.exception.DNSException as exc:
        return Answer(resolver, name, rtype, error=f"{type(exc).__name__}: {exc}")
    records = sorted(rdata.to_text() for rdata in answer)
    ttl = answer.rrset.ttl if answer.rrset is not None else None
    return Answer(resolver, name, rtype, records, ttl)


def same_name(a: str, b: str) -> bool:
    """Names compare case-insensitively, with or without the trailing dot."""
    return a.lower().rstrip(".") == b.lower().rstrip(".")
