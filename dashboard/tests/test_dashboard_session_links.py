"""Session ids in dashboard URLs: any id an integrator chose links to its own transcript, and NUL is never a 500.

Sessions are made by real chats over HTTP; the owner follows the link from the list page the way a
browser does (the href resolved against the page's URL, dot segments removed).
"""

import html
import re

import httpx
import pytest

from gateway.testing.api import chat

pytestmark = pytest.mark.usefixtures("fast_password_hashing")

HOSTILE_IDS = [
    "../../../../../admin/",
    "..",
    ".",
    "./x",
    "a/b?c=d&e=f#g",
    "100% sure %2F..%2F",
    "with  spaces ",
    "ünï/cødé ✓",
    "/leading/slash",
    "trailing/",
]


def _list_url(channel):
    return f"/dashboard/channels/{channel.public_id}/conversations/"


def follow_link(client: httpx.Client, page: httpx.Response, session_id: str) -> httpx.Response:
    """GET the href of the link whose text is `session_id`, resolved as a browser resolves it."""
    text = html.escape(session_id, quote=True)
    match = re.search(r'<a href="([^"]*)">' + re.escape(text) + "</a>", page.text)
    assert match, f"no link for {session_id!r}"
    return client.get(page.url.join(html.unescape(match.group(1))))


@pytest.mark.parametrize("session_id", HOSTILE_IDS)
def test_the_list_links_every_session_id_to_its_transcript(api, llm, owner_web, channel, key, session_id):
    assert chat(api, key, "the secret recipe", session_id=session_id).status_code == 200
    listing = owner_web.get(_list_url(channel))
    assert listing.status_code == 200
    r = follow_link(owner_web, listing, session_id)
    assert r.status_code == 200, r.url
    assert r.url.path.startswith(f"/dashboard/channels/{channel.public_id}/conversations/1/")
    assert "the secret recipe" in r.text
    assert html.escape(session_id, quote=True) in r.text


def test_the_admin_traversal_id_stays_one_encoded_segment(api, llm, owner_web, channel, key):
    assert chat(api, key, "hello", session_id="../../../../../admin/").status_code == 200
    listing = owner_web.get(_list_url(channel)).text
    assert f'/conversations/1/..%2F..%2F..%2F..%2F..%2Fadmin%2F"' in listing


def test_a_nul_in_the_search_is_a_400_not_a_500(api, llm, owner_web, channel, key):
    assert chat(api, key, "hello", session_id="s-1").status_code == 200
    for q in ("\x00", "a\x00b"):
        r = owner_web.get(_list_url(channel), params={"q": q})
        assert r.status_code == 400
        assert "Search text cannot contain NUL characters." in r.text
    assert owner_web.get(_list_url(channel), params={"q": "s-1"}).status_code == 200


@pytest.mark.parametrize("path", ["1/a%00b", "1/%00", "1/?session_id=%00"])
def test_a_nul_in_a_transcript_url_is_a_404_not_a_500(api, llm, owner_web, channel, key, path):
    assert chat(api, key, "hello", session_id="a").status_code == 200
    r = owner_web.get(_list_url(channel) + path)
    assert r.status_code == 404
