"""The one rule for user text (chatlens.shared.text): what is refused, and the one stored form."""

import pytest
from pydantic import BaseModel, Field, ValidationError

from chatlens.shared.text import Line, ModelName, OptionalParagraph, Paragraph, clean


class Body(BaseModel):
    name: Line = Field(min_length=1, max_length=20)
    question: Paragraph = "q"
    description: OptionalParagraph = ""
    model: ModelName | None = None


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("a\x00b", "control character"),
        ("a\x07b", "control character"),
        ("a\x85b", "control character"),  # C1 (NEL)
        ("a\x7fb", "control character"),
        ("a\nb", "control character"),  # one line only
        ("a\u202ab", "bidirectional"),
        ("a\u202eb", "bidirectional"),
        ("a\u2066b", "bidirectional"),
        ("a\u2069b", "bidirectional"),
        ("a\ufdd0b", "noncharacter"),
        ("a\uffffb", "noncharacter"),
        ("\u200b\u2060\ufeff", "no visible character"),
        ("\u3164\u115f\u2800", "no visible character"),
        ("\u0301\u0301", "no visible character"),  # combining marks alone
        (" \t ", "control character"),
        ("   ", "no visible character"),
    ],
)
def test_a_line_with_controls_overrides_or_nothing_visible_is_refused(value, reason):
    with pytest.raises(ValueError, match=reason):
        clean(value)
    with pytest.raises(ValidationError):
        Body(name=value)


def test_the_stored_form_is_nfc_and_trimmed_and_keeps_what_writing_needs():
    assert Body(name="  Cafe\u0301 ").name == "Caf\u00e9"
    assert Body(name="\u05e9\u05dc\u05d5\u05dd\u200f!").name == "\u05e9\u05dc\u05d5\u05dd\u200f!"
    assert Body(name="a\u200db").name == "a\u200db"  # a joiner inside visible text (emoji)
    assert Body(name="x", question="line one\n\tline two").question == "line one\n\tline two"
    assert Body(name="x", description="").description == ""
    with pytest.raises(ValidationError):
        Body(name="x", question="   ")
    with pytest.raises(ValidationError):
        Body(name="x" * 21)


@pytest.mark.parametrize(
    "model",
    [
        "SmolLM2-135M-Instruct",
        "Qwen/Qwen2.5-0.5B-Instruct",
        "llama3.2:1b",
        "org-endpoint_2",
        "gpt-4o@2024-08-06",
    ],
)
def test_model_names_as_registries_and_hubs_write_them_are_taken(model):
    assert Body(name="x", model=model).model == model


@pytest.mark.parametrize(
    "model",
    [
        "../../../etc/passwd",
        "/etc/passwd",
        "a/../b",
        "a//b",
        ".hidden",
        "a b",
        "",
        "a\x00",
        "x" * 201,
        "a/",
    ],
)
def test_a_path_or_anything_else_is_not_a_model_name(model):
    with pytest.raises(ValidationError):
        Body(name="x", model=model)
