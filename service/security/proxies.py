"""Which client address a request comes from. X-Forwarded-For is believed only when the socket
peer is a configured reverse proxy (``XUNCHA_TRUSTED_PROXIES``); otherwise any local process could
name itself anyone and walk around the login throttle or forge the audit trail's client address."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# uvicorn rewrites the ASGI client from X-Forwarded-For for any peer in FORWARDED_ALLOW_IPS
# (127.0.0.1 by default) before the application sees the socket peer; the app decides instead.
UVICORN_OPTIONS = {"proxy_headers": False}


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


class TrustedProxies:
    def __init__(self, spec: str | Iterable[str] = "") -> None:
        items = spec.split(",") if isinstance(spec, str) else spec
        self.networks: list[Network] = []
        for item in (i.strip() for i in items):
            if item:
                try:
                    self.networks.append(ipaddress.ip_network(item, strict=False))
                except ValueError:
                    raise ValueError(f"XUNCHA_TRUSTED_PROXIES 中的地址无效：{item}") from None

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str | None) -> bool:
        address = _address(host) if host else None
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str | None, forwarded_for: Iterable[str]) -> str | None:
        """The client behind ``peer``: the socket peer itself unless it is a trusted proxy, then the
        nearest X-Forwarded-For hop (from the right) that is not a trusted proxy."""
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                return peer  # garbage from an upstream we cannot vouch for
            if not self.trusts(str(address)):
                return str(address)
        return str(_address(hops[0])) if hops else peer
