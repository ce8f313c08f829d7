"""Hostile input gives a clear ConfigError, never a crash, a hang or a memory blow-up."""

from __future__ import annotations

from cityops.config.errors import MAX_ISSUES
from cityops.config.loader import MAX_DEPTH, MAX_NODES
from tests.config.snippets import HEAD, issues


def test_very_long_name() -> None:
    text = HEAD.replace("name: Police", "name: " + "x" * 10_000)
    assert issues(text) == [
        "t.yaml:3:18: agencies[0].name: String should have at most 200 characters"
    ]


def test_escaped_control_character_in_a_name() -> None:
    text = HEAD.replace("name: Police", 'name: "Pol\\x07ice"')
    assert issues(text) == [
        "t.yaml:3:18: agencies[0].name: contains control character U+0007 at position 4"
    ]


def test_bidi_override_in_a_name() -> None:
    text = HEAD.replace("name: Police", 'name: "Pol\\u202eice"')
    assert issues(text) == [
        "t.yaml:3:18: agencies[0].name: contains control character U+202E at position 4"
    ]


def test_raw_control_character() -> None:
    text = HEAD.replace("name: Police", "name: Pol\x1bice")
    assert issues(text) == [
        "t.yaml:3:27: character U+001B is not allowed in YAML (write it as an escape in quotes)"
    ]


def test_billion_laughs_is_refused() -> None:
    lines = ["x-0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"x-{i}: &a{i} [{refs}]")
    text = HEAD + "\n".join(lines) + "\n"
    found = issues(text)
    assert len(found) == 1
    assert found[0].endswith(
        f"the document holds more than {MAX_NODES} values once its aliases are expanded; "
        "refusing it (do anchors and aliases repeat large parts?)"
    )


def test_deep_nesting_is_refused_before_parsing_recursively() -> None:
    text = "municipality: " + "[" * 5000 + "]" * 5000 + "\n"
    assert issues(text) == [f"t.yaml:1:{14 + MAX_DEPTH}: nested more than {MAX_DEPTH} levels deep"]


def test_python_object_tag_is_refused() -> None:
    text = "municipality: !!python/object/apply:os.system ['echo hi']\n"
    assert issues(text) == [
        "t.yaml:1:15: YAML tag 'tag:yaml.org,2002:python/object/apply:os.system' is not supported"
    ]


def test_local_tag_is_refused() -> None:
    assert issues("municipality: !secret abc\n") == [
        "t.yaml:1:15: YAML tag '!secret' is not supported"
    ]


def test_number_with_too_many_digits() -> None:
    text = HEAD.replace("kind: police", "kind: " + "9" * 5000)
    assert issues(text) == ["t.yaml: cannot read a value: a number has too many digits"]


def test_unquoted_date() -> None:
    text = HEAD.replace("name: Police", "name: 2024-05-01")
    assert issues(text) == [
        "t.yaml:3:18: agencies[0].name: unsupported YAML value (date): quote it to make it text"
    ]


def test_key_that_is_not_text() -> None:
    text = HEAD.replace("kind: police", "kind: police, 7: seven")
    assert issues(text) == ["t.yaml:3:46: agencies[0][7]: mapping keys must be text; quote 7"]


def test_long_odd_key_is_clipped_in_the_field_path() -> None:
    text = HEAD.replace("kind: police", "kind: police, " + "k " * 100 + ": v")
    (found,) = issues(text)
    assert found.startswith("t.yaml:3:46: agencies[0]['k k k k k k k k k k k k k k k k k k ...]: ")
    assert found.endswith("Extra inputs are not permitted")


def test_thousands_of_errors_are_summarised() -> None:
    cams = "".join(f"  - {{id: c{i}, name: C}}\n" for i in range(300))
    found = issues(HEAD + "cameras:\n" + cams)
    assert len(found) == MAX_ISSUES
    assert found[0] == "t.yaml:5:5: cameras[0].fov_deg: Field required"
    assert found[-1] == f"t.yaml: ... and {300 * 5 - MAX_ISSUES + 1} more problems"
