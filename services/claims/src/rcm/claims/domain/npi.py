"""NPI check digit and taxonomy code format."""

from __future__ import annotations

import re

__all__ = ["is_valid_npi", "is_valid_taxonomy", "npi_check_digit"]

# The NPI check digit is a Luhn digit over the 9 leading digits prefixed with 80840,
# the ISO issuer prefix of US health identifiers.
_NPI_PREFIX = "80840"
_TAXONOMY = re.compile(r"^[0-9]{3}[0-9A-Z]{6}X$")


def npi_check_digit(first_nine: str) -> int:
    """The check digit completing the 9 leading digits of an NPI."""
    if len(first_nine) != 9 or not first_nine.isdigit():
        raise ValueError("an NPI stem is 9 digits")
    total = 0
    for position, char in enumerate(reversed(_NPI_PREFIX + first_nine)):
        digit = int(char)
        if position % 2 == 0:  # doubling starts at the rightmost payload digit
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return (10 - total % 10) % 10


def is_valid_npi(value: str) -> bool:
    """True for 10 digits whose last is the Luhn check digit of the first 9 (prefix 80840)."""
    return len(value) == 10 and value.isdigit() and npi_check_digit(value[:9]) == int(value[9])


def is_valid_taxonomy(value: str) -> bool:
    """True for a NUCC taxonomy code shape: 3 digits, 6 letters or digits, then X."""
    return bool(_TAXONOMY.match(value))
