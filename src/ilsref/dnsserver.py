"""Two authoritative-style DNS "resolvers" for the ILS names, on loopback UDP ports (dnslib).

Answers: `ils.example.test` A 127.0.0.1, `www.ils.example.test` CNAME ils.example.test. (an A query
for www gets the CNAME plus the target's A, as a recursive resolver would), TTL 300; NXDOMAIN with
the zone's SOA for every other name; an empty answer for other types of a known name.
Faults, re-read from run/faults.json per query:
- dns_disagree: the second resolver still serves the old address 127.0.0.2
- dns_nxdomain: ils.example.test is missing on both resolvers
- dns_ttl_huge: every TTL is 604800 (a week)

python -m ilsref.dnsserver --run-dir RUN --port P1 --port P2
"""

from __future__ import annotations

import argparse
from collections.abc import Collection
from pathlib import Path

from dnslib import CNAME, QTYPE, RCODE, RR, SOA, A, DNSRecord
from dnslib.server import BaseResolver, DNSHandler, DNSLogger, DNSServer

from ilsref.faults import FaultState
from ilsref.runtime import stop_on_signals

ZONE = "example.test."
APEX = "ils.example.test."
WWW = "www.ils.example.test."
ADDRESS = "127.0.0.1"
OLD_ADDRESS = "127.0.0.2"  # before the cutover; `dns_disagree` keeps it on the second resolver
TTL = 300
HUGE_TTL = 604800


def zone(resolver_index: int, active_faults: Collection[str]) -> dict[str, tuple[str, str]]:
    """name -> (type, value) as resolver number `resolver_index` (0-based) currently serves it."""
    address = OLD_ADDRESS if resolver_index == 1 and "dns_disagree" in active_faults else ADDRESS
    records = {APEX: ("A", address), WWW: ("CNAME", APEX)}
    if "dns_nxdomain" in active_faults:
        del records[APEX]
    return records


def answer(request: DNSRecord, resolver_index: int, active_faults: Collection[str]) -> DNSRecord:
    reply = request.reply()  # sets QR, copies id and question
    reply.header.aa = 1
    ttl = HUGE_TTL if "dns_ttl_huge" in active_faults else TTL
    records = zone(resolver_index, active_faults)
    name = str(request.q.qname).lower()
    qtype = QTYPE[request.q.qtype]
    # Follow at most one CNAME hop: the zone has no longer chains.
    for _ in range(2):
        if name not in records:
            # NXDOMAIN describes the end of the chain (RFC 6604), even after a CNAME.
            reply.header.rcode = RCODE.NXDOMAIN
            soa = SOA(f"ns1.{ZONE}", f"hostmaster.{ZONE}", (2026010101, 3600, 600, 86400, 60))
            reply.add_auth(RR(ZONE, QTYPE.SOA, rdata=soa, ttl=60))
            return reply
        rtype, value = records[name]
        if rtype == "CNAME":
            reply.add_answer(RR(name, QTYPE.CNAME, rdata=CNAME(value), ttl=ttl))
            if qtype == "CNAME":
                return reply
            name = value
        else:
            if qtype in (rtype, "ANY"):
                reply.add_answer(RR(name, QTYPE.A, rdata=A(value), ttl=ttl))
            return reply
    return reply


class FaultAwareResolver(BaseResolver):  # type: ignore[misc]
    def __init__(self, index: int, faults: FaultState) -> None:
        self.index = index
        self.faults = faults

    def resolve(self, request: DNSRecord, handler: DNSHandler) -> DNSRecord:
        return answer(request, self.index, self.faults.active())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ilsref.dnsserver")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, action="append", required=True, help="one per resolver")
    args = parser.parse_args(argv)

    faults = FaultState(args.run_dir / "run" / "faults.json")
    logger = DNSLogger("request,error", prefix=False)
    servers = [
        DNSServer(FaultAwareResolver(index, faults), address="127.0.0.1", port=port, logger=logger)
        for index, port in enumerate(args.port)
    ]
    for server in servers:
        server.start_thread()
    print(f"dns resolvers on udp ports {args.port}", flush=True)

    stop = stop_on_signals()
    stop.wait()
    for server in servers:
        server.stop()
    return 0



if __name__ == "__main__":
    raise SystemExit(main())
