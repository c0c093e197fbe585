"""The lessons brief: the shareable lessons in one self-contained HTML file that names no person."""

from __future__ import annotations

import re
from datetime import date

from isp_lifecycle import services
from isp_lifecycle.cli import main

from .conftest import given, stock, with_reviews

PEOPLE = ["Kwame Boateng", "Efua Owusu", "Ama Mensah", "Daniel Osei", "Yaw Darko", "Abena Quaye", "Hawa Issah",
          "Salifu Abdulai"]  # every person gh-mnh-north.yaml names


def brief(tmp_path, capsys, *args: str) -> str:
    out = tmp_path / "out" / "brief.html"
    assert main(["lessons", "--brief", str(out), *args]) == 0
    said = capsys.readouterr().out
    assert re.fullmatch(rf"{re.escape(str(out))}: \d+ shareable lessons?\n", said), said
    return out.read_text(encoding="utf-8")


def test_internal_lessons_are_never_in_the_brief_and_shareable_ones_from_both_sources_are(
        store, tmp_path, capsys, assessments):
    stock(store)
    assessments([given("gh-north", "USAID/Ghana", date(2026, 9, 2), "Internal: the budget row with the district."
                       , shareable=False),
                 given("ke-lake", "USAID/Kenya", date(2026, 9, 3), "Publish the water results every quarter.")])
    html = brief(tmp_path, capsys)
    assert "Internal: the budget row" not in html
    assert "Publish the water results every quarter." in html and "Meet where the volunteers are." in html
    assert "6 lessons from 3 partnerships" in html  # five from documents, one shareable assessment
    assert "Share information" in html  # the principle, in the handbook's words


def test_the_brief_names_no_person_even_where_the_lessons_and_documents_do(store, tmp_path, capsys, assessments):
    services.import_document(store, with_reviews(id="gh-north", reviews=[("2026-09-01", [
        "Ama Mensah and Mensah's team at ama.mensah@ghs.example.org carried it; ask Yaw (yaw.darko@ghs.example.org).",
        "Kwame Boateng chaired, with Efua Owusu."])]))
    assessments([given("gh-north", "USAID/Ghana", date(2026, 9, 2),
                       "Write to someone@else.example.org or to Daniel Osei; Hawa Issah agreed.")])
    html = brief(tmp_path, capsys).split("<body>", 1)[1]
    assert "@" not in html
    for person in PEOPLE:
        for part in person.split():
            assert part not in html, part
    assert "[name withheld] and [name withheld]&#39;s team at [email withheld] carried it" in html
    assert "Write to [email withheld] or to [name withheld]; [name withheld] agreed." in html
    assert "Northern Ghana Maternal and Newborn Health Partnership" in html  # organisations are named


def test_the_brief_is_self_contained_and_escapes_what_documents_and_assessments_say(
        store, tmp_path, capsys, assessments):
    services.import_document(store, with_reviews(id="gh-north", name="Tamale <script>alert(1)</script> & Co",
                                                 reviews=[("2026-09-01", ['<img src=x onerror="alert(2)"> first'])]))
    assessments([given("gh-north", "USAID/Ghana", date(2026, 9, 2), "</p><script>alert(3)</script>")])
    html = brief(tmp_path, capsys)
    tags = re.findall(r"<[^>]*>", html)
    assert [t for t in tags if re.search(r"\s(?:src|href|action|on\w+)\s*=", t, re.I)] == []
    assert re.findall(r"url\(|@import|<script|<link|<img|<iframe|<a\s", html, re.I) == []
    assert "Tamale &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in html
    assert "&lt;img src=x onerror=&#34;alert(2)&#34;&gt; first" in html
    assert "&lt;/p&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in html


def test_the_brief_takes_the_registers_filters_and_refuses_what_it_refuses(store, tmp_path, capsys):
    stock(store)
    html = brief(tmp_path, capsys, "--mission", "usaid/kenya")
    assert "Water committees decide faster." in html and "Meet where the volunteers are." not in html
    assert "mission USAID/Kenya" in html
    assert main(["lessons", "--brief", str(tmp_path / "x.html"), "--principle", "nope"]) == 2
    assert not (tmp_path / "x.html").exists()
    assert "No shareable lesson has been recorded" in brief(tmp_path, capsys, "--principle", "shared-vision")
