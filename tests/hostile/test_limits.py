"""The intake limits and the output encodings, one rule at a time (docs/spec/partnership-format.md,
"Limits and hostile input")."""

from __future__ import annotations

import json

import pytest

from isp_lifecycle.document import loads
from isp_lifecycle.encoding import json_text, mrkdwn, one_line, quote, terminal
from isp_lifecycle.errors import InvalidDocument
from isp_lifecycle.limits import MAX_BYTES, is_email

MINIMAL = {"schema": "isp/v1", "id": "limits-case", "name": "Limits Case", "country": "GH",
           "mission": "USAID/Ghana", "stage": "convene", "started": "2026-01-15"}


def problems(data=None, text=None, json_only=True):
    try:
        loads(text if text is not None else json.dumps(data), "t", json_only=json_only)
    except InvalidDocument as exc:
        return [str(p) for p in exc.problems]
    return []


def nested(levels: int):
    value: object = "x"
    for _ in range(levels - 1):  # the top mapping is level 1
        value = [value]
    return value


def test_thirty_two_levels_read_and_thirty_three_are_refused_as_a_whole():
    at_limit = problems(dict(MINIMAL, goals=nested(32)))
    assert at_limit and not any(p.startswith("(document)") for p in at_limit)  # the models speak: goals[0] …
    assert problems(dict(MINIMAL, goals=nested(33))) == ["(document): nested deeper than 32 levels of mappings and lists"]
    yaml = "schema: isp/v1\ngoals: " + "[" * 32 + "]" * 32 + "\n"
    assert problems(text=yaml, json_only=False) == ["(document): nested deeper than 32 levels of mappings and lists"]


def test_a_document_over_one_mebibyte_is_refused_whatever_it_holds():
    text = json.dumps(MINIMAL)
    padded = text[:-1] + ', "local_context": "' + "é" * (MAX_BYTES // 2) + '"}'  # 1 MiB of characters, 2 of bytes
    assert problems(text=padded) == ["(document): larger than 1 MiB"]
    assert problems(text=text[:-1] + ', "local_context": "' + "x" * (MAX_BYTES - len(text) - 40) + '"}') == []


@pytest.mark.parametrize("email", ["a@b.org", "o'brien+tag@sub.example.org", "A.B-C@x.test", "x!#$%&*/=?^_`{|}~@a.b"])
def test_a_dot_atom_email_is_accepted_and_stored_as_given(email):
    assert is_email(email)
    doc = loads(json.dumps(dict(MINIMAL, mission_director={"name": "D", "email": email})), json_only=True)
    assert doc.mission_director.email == email


@pytest.mark.parametrize("email", ["a@b.org\n", "a@b", "x,y@b.org", "a<b>@c.org", "a b@c.org", '"a"@b.org',
                                   "(c)a@b.org", "a;b@c.org", "é@b.org", "a@b..org", ".a@b.org", "a@b.org.",
                                   "a" * 250 + "@b.org", "a@b.org\r\nBcc: c@d.org", "a@[127.0.0.1]"])
def test_an_email_that_could_address_another_mailbox_is_refused_at_its_path(email):
    assert not is_email(email)
    found = problems(dict(MINIMAL, delegates=[{"name": "D", "email": email}]))
    assert found and found[0].startswith("delegates[0].email: ")


def test_line_breaks_and_tabs_are_text_in_multi_line_fields_only():
    multi = dict(MINIMAL, local_context="One.\r\nTwo.\tThree.", issue={"statement": "a\nb"},
                 partners=[{"id": "p1", "name": "P", "sector": "public", "goals": ["a\nb"], "motives": "a\nb"}])
    assert problems(multi) == []
    assert problems(dict(MINIMAL, mission="USAID/\nGhana"))[0].startswith("mission: holds the control character U+000A")
    assert problems(dict(MINIMAL, local_context="a\x1bb"))[0].startswith("local_context: holds the control character U+001B")


def test_a_lone_surrogate_is_refused_at_its_field_from_json_and_from_yaml():
    assert problems(text=json.dumps(dict(MINIMAL, name="a\ud800")))[0].startswith("name: holds a lone surrogate (U+D800)")
    yaml = "".join(f"{k}: {v}\n" for k, v in MINIMAL.items() if k != "name") + 'name: "\\udc00"\n'
    assert problems(text=yaml, json_only=False)[0].startswith("name: holds a lone surrogate (U+DC00)")


def test_an_error_quotes_at_most_eighty_characters_of_the_bad_value():
    found = problems(dict(MINIMAL, id="x" * 100_000))
    assert found == [f"id: '{'x' * 80}'\u2026 (100000 characters) is not a valid id: 2-63 characters, lower-case "
                     "letters, digits and '-', starting with a letter or digit"]


def test_a_field_name_with_control_characters_is_named_visibly_and_briefly():
    found = problems(dict(MINIMAL, **{"na\x1bme" + "k" * 200: "x"}))
    assert found[0].startswith("na\\x1bme") and "\x1b" not in found[0] and len(found[0]) < 200


def test_each_encoding_leaves_nothing_its_destination_would_act_on():
    assert terminal("a\x1b[2J\rb\u202ec\ud800") == "a\\x1b[2J\\x0db\\u202ec\\ud800"
    assert terminal("a\nb\tc", keep_lines=True) == "a\nb\tc"
    assert quote("a\x1bb") == "'a\\x1bb'"
    assert json.loads(json_text({"x": "a\x9b\ud800"})) == {"x": "a\x9b\ud800"} and "\x9b" not in json_text({"x": "\x9b"})
    assert one_line("a\r\nBcc: x\x00y\u2028z") == "a Bcc: x y z"
    assert mrkdwn("<!here> & <@U1>") == "&lt;!here&gt; &amp; &lt;@U1&gt;"


def test_aliases_that_expand_a_small_text_into_a_million_values_are_refused_at_once():
    from .corpus import alias_bomb

    assert problems(text=alias_bomb(1000), json_only=False) == [
        "(document): its aliases (*name) expand it to more than 100,000 values"]
    assert "(document)" not in " ".join(problems(text=alias_bomb(20), json_only=False))


@pytest.mark.parametrize("alias", ["vision: &v {statement: *v}", "goals: &g [*g, [*g]]", "issue: &i {stakes: &s [*i, *s]}"])
def test_an_alias_inside_itself_gets_an_answer_not_a_hang(alias):
    yaml = "".join(f"{k}: {v}\n" for k, v in MINIMAL.items()) + alias + "\n"
    assert problems(text=yaml, json_only=False)
