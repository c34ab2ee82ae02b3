"""DNS: two loopback resolvers (one dnslib process) answering the ILS names.

All DNS faults toggle at run time: the server reads run/faults.json on every query.
"""

from __future__ import annotations

import time

from dnslib import DNSRecord

from ilsref import dnsserver
from ilsref.faults import Fault
from ilsref.runtime import free_udp_port
from ilsref.services.base import Context
from ilsref.services.pychild import module_argv, module_env

FAULTS = (
    Fault("dns_disagree", "readiness/dns", "the second resolver still answers the old address 127.0.0.2"),
    Fault("dns_nxdomain", "readiness/dns", "ils.example.test is NXDOMAIN on both resolvers"),
    Fault("dns_ttl_huge", "readiness/dns", "records carry a TTL of 604800 s (one week)"),
)

TTL_MAX = 3600
READY_TIMEOUT = 10.0


def wait_for_dns(port: int, timeout: float = READY_TIMEOUT) -> None:
    """Query the resolver until it answers, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    question = DNSRecord.question(dnsserver.APEX)
    while time.monotonic() < deadline:
        try:
            question.send("127.0.0.1", port, timeout=0.3)
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"no DNS answer on udp 127.0.0.1:{port} after {timeout:.0f} s")


def start(ctx: Context) -> None:
    ports = [free_udp_port(), free_udp_port()]
    ctx.run.spawn(
        "dns",
        module_argv("ilsref.dnsserver", "--run-dir", str(ctx.run.path),
                    *[a for p in ports for a in ("--port", str(p))]),
        env=module_env(),
    )
    for port in ports:
        wait_for_dns(port)
    ctx.facts["dns_resolvers"] = [f"127.0.0.1:{port}" for port in ports]
    ctx.environment["dns"] = {
        "resolvers": [f"127.0.0.1:{port}" for port in ports],
        "records": [
            {"name": dnsserver.APEX.rstrip("."), "type": "A", "expect": [dnsserver.ADDRESS]},
            {"name": dnsserver.WWW.rstrip("."), "type": "CNAME", "expect": [dnsserver.APEX]},
        ],
        "ttl_max": TTL_MAX,
    }
