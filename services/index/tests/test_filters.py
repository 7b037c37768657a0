"""Filter columns: text fields compared folded (case, accents), as integer codes."""

import numpy as np

from chatlens.index.filters import Codes


def test_values_that_fold_alike_share_a_code_and_match_either_spelling():
    codes = Codes(["Équipe", "equipe", "Ops", "ÉQUIPE", "ops", ""], str.casefold)
    assert codes.codes[0] != codes.codes[1]  # casefold keeps the accent: two values
    folded = Codes(["Équipe", "equipe", "Ops", "ÉQUIPE", "ops", ""],
                   lambda v: v.casefold().replace("é", "e"))
    assert len(set(folded.codes[[0, 1, 3]].tolist())) == 1
    assert folded.isin(["equipe"]).tolist() == [True, True, False, True, False, False]
    assert folded.isin(["ops", "nowhere"]).tolist() == [False, False, True, False, True, False]


def test_no_values_and_no_fold():
    assert Codes([], str.casefold).codes.size == 0
    plain = Codes(iter(["a", "b", "a"]))
    assert plain.codes.tolist() == [0, 1, 0] and plain.codes.dtype == np.int32
