"""/dashboard/channels/<public_id>/integrate/: client examples with this host and the masked key, the try-it box."""

import html
import re
import uuid

from channels_app.integration import PLACEHOLDER_KEY
from channels_app.models import KeyReveal
from channels_app.services import api_key_revoke

SLUGS = ("curl", "javascript", "javascript-stream", "python", "python-stream", "php")
JSON = {"Accept": "application/json"}


def _url(channel):
    return f"/dashboard/channels/{channel.public_id}/integrate/"


def _reveal_url(channel, api_key):
    return f"/dashboard/channels/{channel.public_id}/keys/{api_key.public_id}/reveal/"


def examples_in(page: str) -> dict[str, str]:
    """The page's examples as text, by slug (what a reader copies)."""
    found = re.findall(r'<pre class="snippet" data-example="([a-z-]+)"[^>]*><code>(.*?)</code></pre>', page, re.S)
    return {slug: html.unescape(re.sub(r"<[^>]+>", "", body)) for slug, body in found}


def test_it_shows_all_six_examples_with_this_host_and_the_masked_key(owner_web, gateway_server, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.get(_url(channel))
    assert r.status_code == 200
    examples = examples_in(r.text)
    assert tuple(examples) == SLUGS
    for slug, text in examples.items():
        assert f"{gateway_server.url}/api/chat" in text, slug
        assert issued.api_key.masked in text, slug
    assert examples["curl"].startswith(f"curl -X POST {gateway_server.url}/api/chat")
    assert "stream=True" in examples["python-stream"] and "iter_lines" in examples["python-stream"]
    assert "getReader()" in examples["javascript-stream"] and "stream: true" in examples["javascript-stream"]
    assert "stream_context_create" in examples["php"] and "file_get_contents" in examples["php"]


def test_it_never_puts_the_plaintext_key_in_the_page(owner_web, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.get(_url(channel))
    assert issued.plaintext not in r.text
    assert bytes(issued.api_key.ciphertext).hex() not in r.text
    assert not KeyReveal.objects.exists()


def test_it_has_the_try_it_box_and_links_the_api_docs(owner_web, channel):
    r = owner_web.get(_url(channel))
    assert 'data-try-it data-endpoint="/api/chat"' in r.text
    assert "<textarea" in r.text and ">Send</button>" in r.text
    assert "costs one credit" in r.text and "appears in" in r.text
    assert 'href="/api/docs/"' in r.text and 'href="/api/schema/"' in r.text
    assert '<script src="/static/js/integrate.js" defer></script>' in r.text


def test_its_reveal_form_leads_back_to_this_page(owner_web, channel):
    r = owner_web.get(_url(channel))
    assert '<input type="hidden" name="return_to" value="integrate">' in r.text


def test_the_channel_page_links_to_it(owner_web, channel):
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/")
    assert f'href="{_url(channel)}"' in r.text


def test_it_offers_the_password_page_when_the_last_entry_is_old(owner_web, channel):
    owner_web.age_password_entry(16 * 60)
    r = owner_web.get(_url(channel))
    assert "data-try-reauth" in r.text
    assert f"/accounts/confirm-password/?next=%2Fdashboard%2Fchannels%2F{channel.public_id}%2Fintegrate%2F" in r.text


def test_it_does_not_ask_for_the_password_after_a_recent_login(owner_web, channel):
    assert "data-try-reauth" not in owner_web.get(_url(channel)).text


def test_it_uses_the_host_the_client_reached(owner_web, gateway_server, channel):
    r = owner_web.get(_url(channel), headers={"Host": "localhost"})
    assert r.status_code == 200
    examples = examples_in(r.text)
    assert "http://localhost/api/chat" in examples["curl"]
    assert gateway_server.url not in r.text


def test_it_shows_a_placeholder_and_no_send_without_an_active_key(owner_web, channel_and_key):
    channel, issued = channel_and_key
    api_key_revoke(api_key=issued.api_key)
    r = owner_web.get(_url(channel))
    assert r.status_code == 200
    assert all(PLACEHOLDER_KEY in text for text in examples_in(r.text).values())
    assert "no active key" in r.text
    assert "data-try-send disabled" in r.text
    assert "data-keybox" not in r.text


def test_revealing_from_it_without_javascript_fills_every_example(owner_web, owner, channel_and_key):
    channel, issued = channel_and_key
    r = owner_web.submit(_reveal_url(channel, issued.api_key), {"return_to": "integrate"}, follow_redirects=True)
    assert [h.status_code for h in r.history] == [302]  # post/redirect/get: a reload does not post again
    assert r.status_code == 200 and str(r.url).endswith(_url(channel))
    assert "no-store" in r.headers["cache-control"]
    examples = examples_in(r.text)
    assert tuple(examples) == SLUGS
    assert all(issued.plaintext in text and issued.api_key.masked not in text for text in examples.values())
    reveal = KeyReveal.objects.get()
    assert (reveal.api_key_id, reveal.user_id) == (issued.api_key.pk, owner.pk)


def test_revealing_from_it_after_a_while_leads_back_to_it_after_the_password(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(16 * 60)
    r = owner_web.submit(_reveal_url(channel, issued.api_key), {"return_to": "integrate"}, headers=JSON)
    assert r.status_code == 403
    assert r.json()["reauth_url"].endswith(f"?next=%2Fdashboard%2Fchannels%2F{channel.public_id}%2Fintegrate%2F")
    r = owner_web.submit("/accounts/confirm-password/", {"password": "pw-owner-123!", "next": _url(channel)})
    # Sudo mode: the reveal the owner started is posted again, and leads back to this page.
    assert r.status_code == 200
    assert f'action="{_reveal_url(channel, issued.api_key)}"' in r.text and 'value="integrate"' in r.text
    r = owner_web.submit(_reveal_url(channel, issued.api_key), {"return_to": "integrate"})
    assert r.status_code == 302 and r.headers["location"] == _url(channel)


def test_an_unknown_return_page_falls_back_to_the_channel_page(owner_web, channel_and_key):
    channel, issued = channel_and_key
    owner_web.age_password_entry(16 * 60)
    r = owner_web.submit(_reveal_url(channel, issued.api_key), {"return_to": "https://evil.example/"}, headers=JSON)
    assert r.json()["reauth_url"].endswith(f"?next=%2Fdashboard%2Fchannels%2F{channel.public_id}%2F")


def test_it_is_a_404_for_another_owners_channel(outsider_web, channel_and_key):
    channel, issued = channel_and_key
    r = outsider_web.get(_url(channel))
    assert r.status_code == 404
    assert issued.api_key.masked not in r.text


def test_it_is_a_404_for_an_unknown_channel(owner_web, channel):
    assert owner_web.get(f"/dashboard/channels/{uuid.uuid4()}/integrate/").status_code == 404


def test_it_requires_login(web, channel):
    r = web.get(_url(channel))
    assert r.status_code == 302 and r.headers["location"].startswith("/accounts/login/")
