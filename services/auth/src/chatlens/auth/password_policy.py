"""What a new password must be: long enough (the request schema), not common, and hard to guess.

The list is the 10,000 most common passwords (``data/common-passwords.txt``; source and licence
in its header). Only lengths of 12 and up reach this check, so a listed word padded with digits
or symbols ("password1234", "monkey123456!") is refused too, as are passwords of a handful of
repeated characters and the account's email (or its local part) with digits around it.
Then zxcvbn (Dropbox's estimator, the ``zxcvbn`` package) scores what is left, with the user's own
email, its parts and their name as dictionary words: a score under :data:`MIN_SCORE` (of 0-4) is
refused with its advice. The same check runs on registration, password change and the admin CLI.
"""

from __future__ import annotations

import re
import string
import unicodedata
from importlib import resources

from zxcvbn import zxcvbn

from chatlens.auth.errors import PasswordRejected

LIST = "common-passwords.txt"
PADDING = string.digits + string.punctuation + string.whitespace
MIN_DISTINCT = 5
# zxcvbn's "safely unguessable" (about 10^8 guesses and up); 4 would refuse many good passphrases.
MIN_SCORE = 3
# zxcvbn refuses longer input (its matching is quadratic); a strong prefix is a strong password.
ESTIMATED_CHARS = 72
_WORD_SPLIT = re.compile(r"[\W_]+")


def personal_words(email: str | None, name: str | None) -> list[str]:
    """The user's own words zxcvbn must treat as guessable: the email, its parts, the name's."""
    words = []
    for value in (email, name):
        if value:
            folded = value.casefold().strip()
            parts = _WORD_SPLIT.split(folded.partition("@")[0] if "@" in folded else folded)
            words += [
                folded,
                folded.partition("@")[0],
                "".join(parts),
                *parts,
                *_WORD_SPLIT.split(folded),
            ]
    return [w for w in dict.fromkeys(words) if len(w) >= 3]


class PasswordPolicy:
    def __init__(self, common: frozenset[str]) -> None:
        self.common = common

    @classmethod
    def packaged(cls) -> PasswordPolicy:
        """The policy with the list shipped in the package (read once, at start)."""
        text = resources.files("chatlens.auth").joinpath("data", LIST).read_text("utf-8")
        words = (line.strip() for line in text.splitlines())
        return cls(frozenset(w for w in words if w and not w.startswith("#")))

    def check(self, password: str, email: str | None = None, name: str | None = None) -> None:
        """Raise :class:`PasswordRejected` for a common, repetitive, personal or guessable one."""
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
        estimate = zxcvbn(password[:ESTIMATED_CHARS], user_inputs=personal_words(email, name))
        if estimate["score"] < MIN_SCORE:
            feedback = estimate["feedback"]
            advice = " ".join(
                filter(None, [feedback.get("warning"), *feedback.get("suggestions", ())])
            )
            raise PasswordRejected(
                "this password is too easy to guess"
                + (f": {advice}" if advice else "; choose a longer one")
            )
