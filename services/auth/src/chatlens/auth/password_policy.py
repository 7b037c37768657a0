"""What a new password must be: long enough (the request schema), and not a common password.

The list is the 10,000 most common passwords (``data/common-passwords.txt``; source and licence
in its header). Only lengths of 12 and up reach this check, so a listed word padded with digits
or symbols ("password1234", "monkey123456!") is refused too, as are passwords of a handful of
repeated characters and the account's email (or its local part) with digits around it.
"""

from __future__ import annotations

import string
import unicodedata
from importlib import resources

from chatlens.auth.errors import PasswordRejected

LIST = "common-passwords.txt"
PADDING = string.digits + string.punctuation + string.whitespace
MIN_DISTINCT = 5


class PasswordPolicy:
    def __init__(self, common: frozenset[str]) -> None:
        self.common = common

    @classmethod
    def packaged(cls) -> PasswordPolicy:
        """The policy with the list shipped in the package (read once, at start)."""
        text = resources.files("chatlens.auth").joinpath("data", LIST).read_text("utf-8")
        words = (line.strip() for line in text.splitlines())
        return cls(frozenset(w for w in words if w and not w.startswith("#")))

    def check(self, password: str, email: str | None = None) -> None:
        """Raise :class:`PasswordRejected` for a common, repetitive or email-based password."""
        folded = unicodedata.normalize("NFKC", password).casefold()
        core = folded.strip(PADDING)
        if folded in self.common or core in self.common:
            raise PasswordRejected("this password is too common; choose another")
        if len(set(folded)) < MIN_DISTINCT:
            raise PasswordRejected("this password repeats too few characters; choose another")
        if email:
            local = email.casefold().partition("@")[0]
            if email.casefold() in folded or core == local:
                raise PasswordRejected("the password must not be built on your email")
