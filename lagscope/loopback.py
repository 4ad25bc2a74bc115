"""Load goes to loopback only: the check on every URL the load generator is about to send to.

The harness only ever starts targets on 127.0.0.1, but a scenario may name absolute
URLs.  Those are refused unless the user opts in with ``--allow-remote-target``.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


class RemoteTargetRefused(Exception):
    """A scenario tried to send a request to an address that is not loopback."""


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is 127.0.0.0/8, ::1 or localhost."""
    host = (urlsplit(url).hostname or "").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refusal(url: str) -> RemoteTargetRefused:
    """The error of a request to ``url``, which is not loopback, saying how to opt in."""
    return RemoteTargetRefused(
        f"refused to send load to {url}: not a loopback address (lagscope sends load to "
        "127.0.0.1/localhost only); pass --allow-remote-target to opt in"
    )


def check(url: str) -> str:
    """Return ``url`` if it is loopback, else raise RemoteTargetRefused saying how to opt in."""
    if not is_loopback_url(url):
        raise refusal(url)
    return url


# A refused request's ``error`` in requests.parquet: "RemoteTargetRefused: <message>".
REFUSED_ERROR = f"{RemoteTargetRefused.__name__}: "
_REFUSED_URL = re.compile(r"refused to send load to (\S+): ")


def refused_url(error: str | None) -> str | None:
    """The URL a refused request's ``error`` names; None when it is not a refusal."""
    if not error or not error.startswith(REFUSED_ERROR):
        return None
    match = _REFUSED_URL.search(error)
    return match.group(1) if match else ""
