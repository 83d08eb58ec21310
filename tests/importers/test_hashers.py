import hashlib

import pytest
from django.contrib.auth.hashers import check_password, identify_hasher

from importers.hashers import django_password
from tests.importers.typecho_site import phpass

HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "importers.hashers.PhpassPasswordHasher",
    "importers.hashers.TypechoMD5PasswordHasher",
]


@pytest.fixture(autouse=True)
def _hashers(settings):
    settings.PASSWORD_HASHERS = HASHERS


def test_phpass_hash_checks_its_password_only():
    encoded = django_password(phpass("密码 with spaces", salt="Zz9./aB1"))
    assert encoded.startswith("phpass$$P$B")
    assert check_password("密码 with spaces", encoded)
    assert not check_password("密码 with space", encoded)


def test_phpass_hash_of_another_cost_and_the_h_variant():
    encoded = django_password(phpass("pw", count_log2=8).replace("$P$", "$H$"))
    assert check_password("pw", encoded)


def test_md5_hash_checks_its_password_only():
    encoded = django_password(hashlib.md5(b"hunter2").hexdigest().upper())
    assert encoded.startswith("typecho_md5$")
    assert check_password("hunter2", encoded)
    assert not check_password("hunter3", encoded)


def test_imported_hash_is_upgraded_on_a_correct_password():
    upgraded = []
    encoded = django_password(phpass("pw"))
    assert check_password("pw", encoded, setter=upgraded.append)
    assert upgraded == ["pw"]
    assert identify_hasher(encoded).must_update(encoded)


@pytest.mark.parametrize("value", ["", "$T$abc", "$P$short", "x" * 32, "plain"])
def test_unknown_hash_formats_are_not_taken(value):
    assert django_password(value) == ""


def test_malformed_phpass_hash_matches_nothing():
    assert not check_password("pw", "phpass$$P$Bnot-a-real-hash-at-all-xx")
