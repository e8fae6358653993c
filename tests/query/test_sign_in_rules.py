"""The pure rules behind two-factor and single sign-on: which TOTP steps a code matches, how
recovery codes are compared, and the domain rules' syntax (no services needed)."""

from __future__ import annotations

import pyotp
import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.core.errors import ConfigurationError
from traytic.query.oidc import DomainRule, parse_domain_rules
from traytic.query.two_factor import (
    matching_step,
    new_recovery_codes,
    new_secret,
    recovery_code_hash,
)

SECRET = new_secret()
NOW = 1_800_000_000.0


def test_a_code_matches_its_step_and_one_either_side() -> None:
    totp = pyotp.TOTP(SECRET)
    step = totp.timecode(NOW)
    for offset in (-1, 0, 1):
        assert matching_step(SECRET, totp.generate_otp(step + offset), NOW) == step + offset
    for offset in (-2, 2):
        assert matching_step(SECRET, totp.generate_otp(step + offset), NOW) is None
    spaced = totp.generate_otp(step)
    assert matching_step(SECRET, f" {spaced[:3]} {spaced[3:]} ", NOW) == step


@given(st.text(max_size=40))
def test_any_text_is_a_code_or_not_never_an_error(text: str) -> None:
    step = matching_step(SECRET, text, NOW)
    assert step is None or text.strip().replace(" ", "").isdigit()


def test_recovery_codes_are_random_and_compared_without_case_or_dashes() -> None:
    codes = new_recovery_codes()
    assert len(set(codes)) == 10 and all(len(code.replace("-", "")) == 20 for code in codes)
    code = codes[0]
    assert recovery_code_hash(code.upper()) == recovery_code_hash(code.replace("-", " "))
    assert recovery_code_hash(code) != recovery_code_hash(codes[1])


def test_domain_rules() -> None:
    assert parse_domain_rules(["Example.com=acme", "corp.org=ops:admin"]) == [
        DomainRule("example.com", "acme", "viewer"),
        DomainRule("corp.org", "ops", "admin"),
    ]
    for bad in ("example.com", "=acme", "example.com=", "example.com=acme:owner"):
        with pytest.raises(ConfigurationError, match="TRAYTIC_OIDC_DOMAIN_ORGS"):
            parse_domain_rules([bad])
