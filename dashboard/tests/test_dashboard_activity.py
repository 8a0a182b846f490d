"""The activity log: every API request of a channel (answered, refused, failed) on /dashboard/channels/<id>/activity/
and the organisation's on /dashboard/org/<id>/activity/, over HTTP against the running gateway."""

import csv
import datetime as dt
import io
import re

from django.utils import timezone

from accounts.testing import WebClient
from channels_app.models import ApiKey
from channels_app.services import api_key_create, api_key_revoke
from conftest import make_channel
from conversations.engine import retention
from conversations.models import Activity
from dashboard.activity_selectors import PER_PAGE
from gateway.testing.api import WIDGET_ORIGIN, chat, chat_stream, history, widget_chat
from teams import services
from teams.tests.worlds import make_user

AI_ERROR = "AI service error. Please try again."


def _page(web, channel, query=""):
    r = web.get(f"/dashboard/channels/{channel.public_id}/activity/{query}")
    assert r.status_code == 200, r.text
    return r.text


def _rows(html: str) -> list[tuple[str, str]]:
    """(outcome, status) of each row, in the page's order."""
    return re.findall(r'data-activity="(\w+)" data-status="(\d+)"', html)


def test_it_shows_answered_refused_and_failed_requests_with_their_key_session_model_tokens_and_error(
    api, llm, owner_web, channel_and_key
):
    channel, issued = channel_and_key
    assert chat(api, issued.plaintext, "Hi", session_id="customer-42").status_code == 200
    assert chat(api, issued.plaintext, "", session_id="customer-42").status_code == 400
    llm.mode, llm.status = "status", 500
    assert chat(api, issued.plaintext, "Again", session_id="customer-42").status_code == 500

    html = _page(owner_web, channel)
    assert _rows(html) == [("failed", "500"), ("refused", "400"), ("answered", "200")]
    assert "customer-42" in html and "Default" in html and issued.api_key.masked in html
    assert channel.model in html and AI_ERROR in html
    assert issued.plaintext not in html
    answered = Activity.objects.get(status=200)
    assert (answered.session_id, answered.key_name, answered.api_key_id, answered.model) == (
        "customer-42", "Default", issued.api_key.pk, channel.model)
    assert answered.prompt_tokens and answered.completion_tokens and answered.latency_ms is not None
    assert answered.organisation_id == channel.organisation_id
    failed = Activity.objects.get(status=500)
    assert (failed.outcome, failed.error, failed.session_id) == ("failed", AI_ERROR, "customer-42")


def test_a_streamed_chat_and_its_failure_are_recorded_once_each(api, llm, owner_web, channel_and_key):
    channel, issued = channel_and_key
    response, _events = chat_stream(api, issued.plaintext, "Stream it")
    assert response.status_code == 200
    llm.mode, llm.status = "status", 500
    response, events = chat_stream(api, issued.plaintext, "Stream again")
    assert events[-1][0] == "error"
    assert sorted(Activity.objects.values_list("status", "outcome")) == [(200, "answered"), (500, "failed")]


def test_a_rate_limited_request_a_revoked_key_and_a_widget_chat_are_named(api, llm, owner, owner_web, channel_and_key,
                                                                           widget_key):
    channel, issued = channel_and_key
    batch = api_key_create(channel=channel, name="Batch", rate_limit_per_minute=1)
    assert history(api, batch.plaintext).status_code == 200
    assert history(api, batch.plaintext).status_code == 429
    api_key_revoke(api_key=ApiKey.objects.get(pk=batch.api_key.pk))
    assert history(api, batch.plaintext).status_code == 401
    assert history(api, "amgai_" + "x" * 43).status_code == 401  # no channel known: nobody's log
    assert widget_chat(api, widget_key).status_code == 200

    rows = list(Activity.objects.order_by("id").values_list("status", "key_name", "source", "endpoint", "error"))
    assert rows == [
        (200, "Batch", "api", "history", ""),
        (429, "Batch", "api", "history", "Rate limit exceeded"),
        (401, "Batch", "api", "history", "Invalid API key"),
        (200, "Widget (publishable key)", "widget", "chat", ""),
    ]
    html = _page(owner_web, channel, "?outcome=refused")
    assert _rows(html) == [("refused", "401"), ("refused", "429")]


def test_a_replayed_idempotency_key_the_widgets_set_up_calls_and_the_model_list_are_rows_too(
    api, llm, channel_and_key, widget_key
):
    channel, issued = channel_and_key
    once = {"X-API-Key": issued.plaintext, "Idempotency-Key": "order-7"}
    body = {"message": "Hi", "session_id": "s-9"}
    first = api.post("/api/chat", json=body, headers=once)
    replay = api.post("/api/chat", json=body, headers=once)
    assert (first.status_code, replay.status_code, replay.headers.get("Idempotent-Replayed")) == (200, 200, "true")
    assert api.get("/v1/models", headers={"Authorization": f"Bearer {issued.plaintext}"}).status_code == 200
    config = api.get("/api/widget-config", params={"key": widget_key}, headers={"Origin": WIDGET_ORIGIN})
    assert config.status_code == 200, config.text
    calls_before = len(llm.requests)

    rows = list(Activity.objects.order_by("id").values_list("status", "endpoint", "session_id", "cost", "error"))
    assert [row[:3] for row in rows] == [
        (200, "chat", "s-9"), (200, "chat", "s-9"), (200, "v1-models", ""), (200, "widget-config", ""),
    ]
    assert rows[0][3] > 0 and rows[0][4] == ""
    assert rows[1][3] is None and "Replayed" in rows[1][4]  # the replay is charged nothing, and says so
    assert len(llm.requests) == calls_before == 1


def test_its_filters_narrow_by_status_code_key_model_and_time(api, llm, owner_web, channel_and_key):
    channel, issued = channel_and_key
    other = api_key_create(channel=channel, name="Staging")
    assert chat(api, issued.plaintext).status_code == 200
    assert chat(api, other.plaintext).status_code == 200
    assert chat(api, other.plaintext, "").status_code == 400
    old = Activity.objects.create(
        channel=channel, organisation=channel.organisation, created_at=timezone.now() - dt.timedelta(hours=3),
        status=500, outcome="failed", endpoint="chat", error="An old failure", key_name="Default",
    )

    assert _rows(_page(owner_web, channel, "?outcome=failed")) == [("failed", "500")]
    assert _rows(_page(owner_web, channel, "?outcome=failed&period=1h")) == []
    assert _rows(_page(owner_web, channel, "?status=400")) == [("refused", "400")]
    assert len(_rows(_page(owner_web, channel, f"?key={other.api_key.public_id}"))) == 2
    assert len(_rows(_page(owner_web, channel, f"?key={issued.api_key.public_id}"))) == 1
    assert len(_rows(_page(owner_web, channel, f"?model={channel.model}"))) == 3  # the refused chat names it too
    assert len(_rows(_page(owner_web, channel, "?model=openai/gpt-oss-20b"))) == 0
    since = (old.created_at + dt.timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    assert len(_rows(_page(owner_web, channel, f"?since={since}"))) == 3
    assert "An old failure" in _page(owner_web, channel, "?outcome=failed")


def test_it_pages_by_keyset_through_every_row_once(owner_web, channel):
    now = timezone.now()
    Activity.objects.bulk_create([
        Activity(channel=channel, organisation=channel.organisation, created_at=now - dt.timedelta(seconds=i // 3),
                 status=200, outcome="answered", endpoint="chat", session_id=f"s-{i}")
        for i in range(PER_PAGE * 2 + 7)
    ])
    seen, query = [], ""
    while True:
        html = _page(owner_web, channel, query)
        seen += re.findall(r'data-label="Session"><span class="cell break">(s-\d+)<', html)
        older = re.search(r'href="\?before=(\d+_\d+)" data-older', html)
        if older is None:
            break
        query = f"?before={older.group(1)}"
    assert len(seen) == len(set(seen)) == PER_PAGE * 2 + 7


def test_its_csv_export_streams_the_filtered_rows_without_any_key_and_defuses_formulas(
    api, llm, owner_web, channel_and_key
):
    channel, issued = channel_and_key
    assert chat(api, issued.plaintext, session_id="=HYPERLINK(1)").status_code == 200
    assert chat(api, issued.plaintext, "").status_code == 400
    r = owner_web.get(f"/dashboard/channels/{channel.public_id}/activity/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert issued.plaintext not in r.text
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["status"] for row in rows] == ["400", "200"]
    assert rows[1]["session_id"] == "'=HYPERLINK(1)" and rows[1]["key"] == "Default"
    assert rows[1]["key_hint"] == issued.api_key.masked
    only_refused = owner_web.get(f"/dashboard/channels/{channel.public_id}/activity/export.csv?outcome=refused")
    assert [row["status"] for row in csv.DictReader(io.StringIO(only_refused.text))] == ["400"]


def test_the_organisations_log_has_its_channels_requests_and_no_other_organisations(api, llm, owner, owner_web, outsider):
    shop, shop_key = make_channel(owner, name="Shop", credits=5)
    blog, blog_key = make_channel(owner, name="Blog", credits=5)
    elsewhere, elsewhere_key = make_channel(outsider, name="Elsewhere", credits=5)
    for key in (shop_key, blog_key, elsewhere_key):
        assert chat(api, key.plaintext, session_id=f"from-{key.api_key.channel.name}").status_code == 200
    org = shop.organisation
    html = owner_web.get(f"/dashboard/org/{org.public_id}/activity/").text
    assert "from-Shop" in html and "from-Blog" in html and "from-Elsewhere" not in html
    one = owner_web.get(f"/dashboard/org/{org.public_id}/activity/?channel={blog.public_id}").text
    assert "from-Blog" in one and "from-Shop" not in one
    # Another organisation's channel or key as a filter narrows to nothing of theirs.
    stray = owner_web.get(f"/dashboard/org/{org.public_id}/activity/?key={elsewhere_key.api_key.public_id}").text
    assert "from-Elsewhere" not in stray
    exported = owner_web.get(f"/dashboard/org/{org.public_id}/activity/export.csv").text
    assert "from-Shop" in exported and "from-Elsewhere" not in exported


def test_another_organisations_owner_gets_404_and_an_analyst_may_read_but_a_developer_may_not(
    api, llm, owner, outsider_web, channel_and_key, gateway_server
):
    channel, issued = channel_and_key
    assert chat(api, issued.plaintext, session_id="private-session").status_code == 200
    org = channel.organisation
    paths = [f"/dashboard/channels/{channel.public_id}/activity/", f"/dashboard/channels/{channel.public_id}/activity/export.csv",
             f"/dashboard/org/{org.public_id}/activity/", f"/dashboard/org/{org.public_id}/activity/export.csv"]
    for path in paths:
        r = outsider_web.get(path)
        assert r.status_code == 404 and "private-session" not in r.text, path
    for role, status in (("analyst", 200), ("developer", 403)):
        user = make_user(f"{role}@example.com")
        services.membership_add(organisation=org, user=user, role=role, actor=owner)
        with WebClient(base_url=gateway_server.url) as web:
            web.force_login(user)
            for path in paths:
                r = web.get(path)
                assert r.status_code == status, (role, path)
                assert ("private-session" in r.text) == (status == 200)


def test_it_is_purged_with_the_channels_retention(channel):
    now = timezone.now()
    for age in (1, channel.retention_days + 1):
        Activity.objects.create(channel=channel, organisation=channel.organisation, created_at=now - dt.timedelta(days=age),
                                status=200, outcome="answered", endpoint="chat")
    counts = retention.channel_purge(channel=channel, now=now)
    assert counts["activity"] == 1
    assert list(Activity.objects.values_list("created_at", flat=True)) == [now - dt.timedelta(days=1)]
