"""The dashboard's Knowledge page through real HTTP: add, status, preview, refresh, remove, unanswered, roles."""

import re

import pytest

from conftest import make_channel
from gateway.testing.api import chat
from gateway.testing.waiting import wait_until
from knowledge.models import Answer, Source
from knowledge.testing import pdf_bytes
from teams.tests.worlds import make_user

# Ingestion runs on the job runner's own thread and connection, which sees only committed rows.
pytestmark = pytest.mark.django_db(transaction=True)


def page_url(channel) -> str:
    return f"/dashboard/channels/{channel.public_id}/knowledge/"


def settled(channel) -> bool:
    return wait_until(lambda: not Source.objects.filter(channel=channel, status__in=["pending", "processing"]).exists(), 30)


def test_an_owner_adds_every_kind_and_sees_status_usage_and_preview(owner_web, channel, site):
    site.html("/help/", "Help", "<h1>Help centre</h1><p>Our help centre answers questions about orders.</p>")
    url = page_url(channel)
    assert owner_web.get(url).status_code == 200

    added = [
        owner_web.submit(url + "add/", {"kind": "site", "url": f"{site.url}/help/", "max_pages": "5", "path_prefix": ""}),
        owner_web.submit(url + "add/", {"kind": "text", "title": "Opening hours", "text": "Nine to five, Monday to Friday."}),
        owner_web.submit(url + "add/", {"kind": "qa", "question": "Do you ship abroad?", "answer": "Yes, to the EU."}),
        owner_web.post(url + "add/", data={"csrfmiddlewaretoken": owner_web.csrf_token, "kind": "file"},
                       files={"file": ("manual.pdf", pdf_bytes(["Descale the kettle monthly."]), "application/pdf")}),
    ]
    assert [r.status_code for r in added] == [302] * 4
    assert settled(channel)

    page = owner_web.get(url).text
    assert page.count('data-status>ready<') == 4
    assert "Our help centre answers questions about orders." in page  # the preview
    assert "Descale the kettle monthly." in page
    assert re.search(r"Pages: <strong>4</strong> of \d+", page)
    assert 'href="/dashboard/channels/%s/knowledge/"' % channel.public_id in page  # the tab


def test_bad_input_is_a_form_error_and_stores_nothing(owner_web, channel):
    url = page_url(channel)
    cases = [
        ({"kind": "site", "url": "not a url", "max_pages": "5"}, "Enter a valid URL"),
        ({"kind": "site", "url": "https://example.com/", "max_pages": "5", "path_prefix": "help"}, "must start with /"),
        ({"kind": "text", "title": "", "text": "x"}, "This field is required"),
        ({"kind": "qa", "question": "Q?", "answer": ""}, "This field is required"),
    ]
    for data, message in cases:
        r = owner_web.submit(url + "add/", data)
        assert r.status_code == 400 and message in r.text, data
    r = owner_web.post(url + "add/", data={"csrfmiddlewaretoken": owner_web.csrf_token, "kind": "file"},
                       files={"file": ("tool.exe", b"MZ...", "application/octet-stream")})
    assert r.status_code == 400 and "Unsupported file type" in r.text
    assert not Source.objects.exists()


def test_refresh_and_remove_act_on_the_channels_own_sources_only(owner_web, channel, outsider, outsider_web):
    url = page_url(channel)
    owner_web.submit(url + "add/", {"kind": "text", "title": "Hours", "text": "Nine to five."})
    assert settled(channel)
    mine = Source.objects.get(channel=channel)
    theirs_channel = make_channel(outsider, name="Theirs", credits=1)[0]
    from knowledge import services

    theirs = services.source_add_text(channel=theirs_channel, title="Secret", text="Their text.")
    assert settled(theirs_channel)

    r = owner_web.submit(url + "remove/", {"source": str(theirs.pk)})  # another tenant's source id
    assert r.status_code == 302 and Source.objects.filter(pk=theirs.pk).exists()
    r = owner_web.submit(url + "refresh/", {"source": str(mine.pk)})
    assert r.status_code == 302 and settled(channel)
    assert Source.objects.get(pk=mine.pk).refreshed_at > mine.refreshed_at
    r = owner_web.submit(url + "remove/", {"source": str(mine.pk)})
    assert r.status_code == 302 and not Source.objects.filter(pk=mine.pk).exists()
    # The outsider cannot even see this channel's page.
    assert outsider_web.get(url).status_code == 404


def test_an_unanswered_question_becomes_a_qa_pair_in_one_click(api, llm, key, owner_web, channel):
    url = page_url(channel)
    owner_web.submit(url + "add/", {"kind": "text", "title": "Hours", "text": "Open nine to five."})
    assert settled(channel)
    assert chat(api, key, "Do you sell umbrellas?", session_id="rainy").json()["sources"] == []
    answer = Answer.objects.get(channel=channel)

    page = owner_web.get(url).text
    assert f'data-question="{answer.pk}"' in page and "Do you sell umbrellas?" in page
    r = owner_web.submit(url + "add/", {"kind": "qa", "unanswered": str(answer.pk), "question": answer.question,
                                        "answer": "Yes, in three colours."})
    assert r.status_code == 302 and settled(channel)
    assert f'data-question="{answer.pk}"' not in owner_web.get(url).text

    chat(api, key, "Hello!", session_id="greeter")
    greeting = Answer.objects.get(channel=channel, session_id="greeter")
    assert f'data-question="{greeting.pk}"' in owner_web.get(url).text
    other_channel = make_channel(channel.owner, name="Other", credits=1)[0]
    r = owner_web.submit(f"/dashboard/channels/{other_channel.public_id}/knowledge/dismiss/", {"unanswered": str(greeting.pk)})
    assert r.status_code == 302 and not Answer.objects.get(pk=greeting.pk).dismissed  # not that channel's question
    assert owner_web.submit(url + "dismiss/", {"unanswered": str(greeting.pk)}).status_code == 302
    assert f'data-question="{greeting.pk}"' not in owner_web.get(url).text

    again = chat(api, key, "Do you sell umbrellas?", session_id="rainy").json()
    assert again["sources"] == [{"title": "Do you sell umbrellas?", "url": ""}]
    transcript = owner_web.get(f"/dashboard/channels/{channel.public_id}/conversations/1/rainy").text
    assert "No knowledge source held an answer" in transcript
    assert "Sources given:" in transcript and "<span>Do you sell umbrellas?</span>" in transcript


@pytest.mark.parametrize("role,can_read,can_manage", [("analyst", True, False), ("developer", False, False), ("admin", True, True)])
def test_roles_read_and_manage_as_the_policy_says(role, can_read, can_manage, gateway_server, owner, channel):
    from accounts.testing import WebClient
    from teams import services as team_services

    member = make_user(f"{role}@example.com")

    team_services.membership_add(organisation=channel.organisation, user=member, role=role, actor=owner)
    with WebClient(base_url=gateway_server.url) as web:
        web.force_login(member)
        page = web.get(page_url(channel))
        assert page.status_code == (200 if can_read else 403)
        r = web.submit(page_url(channel) + "add/", {"kind": "text", "title": "T", "text": "Some text."})
        assert r.status_code == (302 if can_manage else 403)
        if can_read and not can_manage:
            assert "Add a website" not in page.text and "Remove" not in page.text
    assert Source.objects.count() == (1 if can_manage else 0)


def test_staff_read_sources_in_the_admin_without_the_uploaded_file(staff_web, owner_web, channel):
    from knowledge import services

    source = services.source_add_file(channel=channel, name="notes.txt", data=b"Staff may read the extracted text.")
    assert settled(channel)
    listing = staff_web.get("/admin/knowledge/source/")
    assert listing.status_code == 200 and "notes.txt" in listing.text
    detail = staff_web.get(f"/admin/knowledge/source/{source.pk}/change/")
    assert detail.status_code == 200 and "file_data" not in detail.text
    assert staff_web.get("/admin/knowledge/source/add/").status_code == 403
    assert owner_web.get("/admin/knowledge/source/").status_code == 302  # not staff: sent to log in
