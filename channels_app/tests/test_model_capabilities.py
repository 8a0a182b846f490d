"""What each catalog model can do (streaming, tools, JSON output, reasoning, vision): set in the admin, read from the snapshot."""

from channels_app.providers import catalog
from channels_app.providers.catalog_models import AiModel, Provider


def _model_form(provider: Provider, **checked) -> dict:
    form = {
        "slug": "qwen-in-house", "name": "Qwen (in-house)", "provider": str(provider.pk), "upstream_id": "",
        "position": "5", "context_window": "131072", "max_output": "8192", "input_price": "0.10",
        "output_price": "0.30", "speed": "", "best_for": "", "status": "active", "retires_on": "", "replacement": "",
        "reasoning_effort": "medium",
    }
    form.update({name: "on" for name, on in checked.items() if on})
    return form


def test_staff_set_a_models_capabilities_in_the_admin_and_chats_read_them_from_the_snapshot(staff_web, db):
    provider = Provider.objects.get(from_environment=True)
    r = staff_web.submit("/admin/channels_app/aimodel/add/", _model_form(
        provider, supports_streaming=True, supports_tools=True, supports_json_object=True, supports_reasoning=True,
    ))
    assert r.status_code == 302, r.text
    row = AiModel.objects.get(slug="qwen-in-house")
    assert (row.supports_streaming, row.supports_tools, row.supports_json_object, row.supports_json_schema,
            row.supports_reasoning, row.supports_vision) == (True, True, True, False, True, False)

    model = catalog.snapshot().models["qwen-in-house"]
    assert {name: getattr(model, name) for name in catalog.CAPABILITIES} == {
        "supports_streaming": True, "supports_tools": True, "supports_json_object": True,
        "supports_json_schema": False, "supports_reasoning": True, "supports_vision": False,
    }
    assert model.reasoning_effort == "medium"
    listing = staff_web.get("/admin/channels_app/aimodel/?q=qwen").text
    assert "stream, tools, JSON, reasoning" in listing

    # Unticking in the admin reaches the snapshot at once (the catalog signals reload it).
    r = staff_web.submit(f"/admin/channels_app/aimodel/{row.pk}/change/", _model_form(provider, supports_vision=True))
    assert r.status_code == 302, r.text
    model = catalog.snapshot().models["qwen-in-house"]
    assert not model.supports_tools and not model.supports_reasoning and model.supports_vision
    assert not model.supports_streaming


def test_the_admins_capability_filter_lists_only_models_with_it(staff_web, db):
    AiModel.objects.filter(slug="gemma2-9b-it").update(supports_tools=True)
    listing = staff_web.get("/admin/channels_app/aimodel/?supports_tools__exact=1").text
    assert "gemma2-9b-it" in listing and "mixtral-8x7b-32768" not in listing
