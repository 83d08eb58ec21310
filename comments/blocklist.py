"""The blocklist: the admin's entries plus SPACES_COMMENT_BLOCKLIST, matched against a comment.

The rows are read once and kept in the shared cache (every app server sees one copy), and the
copy is dropped after any change made through `add` or the admin. Changes made elsewhere (the
shell, a data migration) show within CACHE_SECONDS. Reading the rows costs a query per new
comment; the cached copy is one cache round trip (see docs/ROLES.md for the measurement).
"""

import functools
import ipaddress
import re
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction

from comments.models import BlocklistEntry, Comment, normalise_block_value

CACHE_KEY = "comments:blocklist:v2"
CACHE_SECONDS = 300
_HOST_RE = re.compile(r"(?:https?://|www\.)([^\s/?#<>\"'()\[\]]+)", re.IGNORECASE)


# An IP network as plain integers, cheap to cache and to test: (version, network, netmask).
Network = tuple[int, int, int]


@dataclass(frozen=True)
class Blocklist:
    """Compiled entries: matching a comment is a few set lookups and one pass over its text.

    Only plain values inside, so that the cached copy loads without parsing anything again."""

    words: tuple[str, ...] = ()
    emails: frozenset[str] = frozenset()
    domains: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = field(default=())

    @classmethod
    def from_entries(cls, entries: Iterable[tuple[str, str]]) -> "Blocklist":
        words, emails, domains, networks = [], set(), set(), []
        for kind, value in entries:
            match kind:
                case BlocklistEntry.Kind.IP:
                    network = ipaddress.ip_network(value, strict=False)
                    networks.append(
                        (network.version, int(network.network_address), int(network.netmask))
                    )
                case BlocklistEntry.Kind.EMAIL:
                    emails.add(value.lower())
                case BlocklistEntry.Kind.DOMAIN:
                    domains.add(value.lower())
                case _:
                    words.append(value.casefold())
        return cls(tuple(words), frozenset(emails), frozenset(domains), tuple(networks))

    def __or__(self, other: "Blocklist") -> "Blocklist":
        return Blocklist(
            self.words + other.words,
            self.emails | other.emails,
            self.domains | other.domains,
            self.networks + other.networks,
        )

    def matches(self, comment: Comment) -> bool:
        email = comment.author_email.lower()
        if email in self.emails:
            return True
        if self.domains and any(self._blocked_host(host) for host in hosts_of(comment)):
            return True
        if self.networks and comment.ip_address:
            address = ipaddress.ip_address(comment.ip_address)
            number = int(address)
            if any(
                version == address.version and number & mask == network
                for version, network, mask in self.networks
            ):
                return True
        if self.words:
            text = "\n".join(
                [comment.author_name, email, comment.author_url, comment.body, comment.user_agent]
            ).casefold()
            return any(word in text for word in self.words)
        return False

    def _blocked_host(self, host: str) -> bool:
        """The host or any domain above it (mail.spam.example → spam.example, example)."""
        parts = host.split(".")
        return any(".".join(parts[i:]) in self.domains for i in range(len(parts)))


def hosts_of(comment: Comment) -> set[str]:
    """The e-mail domain, the website's host and the hosts of links in the text, lower-cased."""
    hosts = {comment.author_email.rpartition("@")[2]}
    urls = [comment.author_url, *(f"http://{m}" for m in _HOST_RE.findall(comment.body))]
    for url in urls:
        host = urllib.parse.urlsplit(url).hostname if url else None
        if host:
            hosts.add(host)
    return {host.lower().strip(".") for host in hosts if host}


@functools.cache
def _from_setting(values: tuple[str, ...]) -> Blocklist:
    """SPACES_COMMENT_BLOCKLIST: IP addresses and networks, else words (as it always meant)."""
    entries = []
    for value in values:
        try:
            entries.append((BlocklistEntry.Kind.IP, str(ipaddress.ip_network(value, strict=False))))
        except ValueError:
            entries.append((BlocklistEntry.Kind.WORD, value))
    return Blocklist.from_entries(entries)


def _stored() -> Blocklist:
    stored = cache.get(CACHE_KEY)
    if stored is None:
        stored = Blocklist.from_entries(BlocklistEntry.objects.values_list("kind", "value"))
        cache.set(CACHE_KEY, stored, CACHE_SECONDS)
    return stored


def current() -> Blocklist:
    """The blocklist in force now: the admin's entries and the environment's."""
    return _stored() | _from_setting(tuple(settings.SPACES_COMMENT_BLOCKLIST))


def forget() -> None:
    """Drop the cached copy once the change is committed (so no server caches the old rows)."""
    transaction.on_commit(lambda: cache.delete(CACHE_KEY))


def add(kind: str, values: Iterable[str], note: str = "", user=None) -> int:
    """Block `values` of one kind (skipping empty, invalid and known ones); returns how many."""
    added = 0
    for raw in values:
        try:
            value = normalise_block_value(kind, raw or "")
        except ValueError:
            continue
        try:
            with transaction.atomic():
                _entry, created = BlocklistEntry.objects.get_or_create(
                    kind=kind, value=value, defaults={"note": note, "created_by": user}
                )
        except IntegrityError:  # added by someone else at the same moment
            created = False
        added += created
    if added:
        forget()
    return added
