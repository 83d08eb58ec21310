"""Password hashes of imported Typecho (and WordPress) accounts, checked as they were made.

Listed after Django's own hashers in PASSWORD_HASHERS, so a successful login re-hashes the
password with the first (preferred) hasher: each old hash is replaced on its owner's next login.
"""

import hashlib

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext_noop as _
from passlib.hash import phpass

# phpass's iteration count as log2: Typecho and WordPress both use 8 → "$P$B" (2^13 rounds).
PHPASS_ROUNDS = 13


class PhpassPasswordHasher(BasePasswordHasher):
    """Portable phpass (`$P$…`, `$H$…`), kept as `phpass$<the hash>`."""

    algorithm = "phpass"

    def salt(self) -> str:
        return phpass.using(rounds=PHPASS_ROUNDS).hash("")[4:12]

    def encode(self, password: str, salt: str) -> str:
        self._check_encode_args(password, salt)
        return f"{self.algorithm}${phpass.using(rounds=PHPASS_ROUNDS, salt=salt).hash(password)}"

    def decode(self, encoded: str) -> dict:
        algorithm, _sep, hashed = encoded.partition("$")
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": hashed[12:], "salt": hashed[4:12]}

    def verify(self, password: str, encoded: str) -> bool:
        try:
            return phpass.verify(password, encoded.partition("$")[2])
        except ValueError:  # a malformed stored hash matches no password
            return False

    def safe_summary(self, encoded: str) -> dict:
        decoded = self.decode(encoded)
        return {
            _("algorithm"): decoded["algorithm"],
            _("salt"): mask_hash(decoded["salt"], show=2),
            _("hash"): mask_hash(decoded["hash"]),
        }

    def must_update(self, encoded: str) -> bool:
        return True


class TypechoMD5PasswordHasher(BasePasswordHasher):
    """The unsalted MD5 of very old Typecho sites, kept as `typecho_md5$<hex>`; never made anew."""

    algorithm = "typecho_md5"

    def salt(self) -> str:
        return ""

    def encode(self, password: str, salt: str) -> str:
        digest = hashlib.md5(password.encode(), usedforsecurity=False).hexdigest()
        return f"{self.algorithm}${digest}"

    def decode(self, encoded: str) -> dict:
        algorithm, _sep, digest = encoded.partition("$")
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": ""}

    def verify(self, password: str, encoded: str) -> bool:
        return constant_time_compare(self.encode(password, ""), encoded.lower())

    def safe_summary(self, encoded: str) -> dict:
        return {_("algorithm"): self.algorithm, _("hash"): mask_hash(self.decode(encoded)["hash"])}

    def must_update(self, encoded: str) -> bool:
        return True


def django_password(typecho_hash: str) -> str:
    """The encoded Django password for a Typecho hash, or "" when the format is unknown."""
    value = (typecho_hash or "").strip()
    if value.startswith(("$P$", "$H$")) and len(value) == 34:
        return f"{PhpassPasswordHasher.algorithm}${value}"
    if len(value) == 32 and all(ch in "0123456789abcdefABCDEF" for ch in value):
        return f"{TypechoMD5PasswordHasher.algorithm}${value.lower()}"
    return ""
