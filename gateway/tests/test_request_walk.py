"""The walk of a chat is straight: from authentication to the pipeline it never comes back to the view module, and it
comes back up to a room it had already left at most 5 times on /api/chat and 8 on /v1/chat/completions.

Counted on the real request's call graph, as it runs (gateway/testing/walk.py says how): every project function it
enters, the rooms below each on its stack. `pytest gateway/tests/test_request_walk.py -s` prints both walks.
"""

import pytest

from gateway.testing.api import chat
from gateway.testing.walk import LAYERS, Walk

# The two rooms every request stands on from its first frame to its last (the body limit and the API's handler):
# every room calls down into them, so coming back to them is a call down, never a hook.
FLOOR = {"gateway/infra", "gateway/overrides"}


def v1_chat(api, key):
    body = {"model": "openai/gpt-oss-120b", "messages": [{"role": "user", "content": "Hello there"}]}
    return api.post("/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"})


@pytest.mark.parametrize(("call", "handler", "most"), [
    (lambda api, key: chat(api, key, "Hello there"), "edge/views.py:ChatView.post", 5),
    (v1_chat, "edge/openai_views.py:ChatCompletionsView.post", 8),
])
def test_a_chat_walks_straight(api, llm, key, call, handler, most):
    call(api, key)  # warm: the key cache and the catalog are read once, as in a running gateway
    with Walk() as walk:
        answer = call(api, key)
    assert answer.status_code == 200, answer.text
    print(walk.report())

    # Back up the layers, to a room waiting below: a hook or callback. Only the body limit's replay of the body
    # (an ASGI receive callable) is one today.
    assert len(walk.returns_up) <= most, walk.report()
    # Every other return is a call down into the floor; no room above it is ever entered twice over.
    assert {step.room for step in walk.returns} <= FLOOR, walk.report()

    # From authentication to the pipeline: the key is parsed, refused by kind and resolved in channels_app, then
    # the handler runs; the view module is not visited in between.
    after_authentication = walk.after("authentication.py:KeyAuthentication.resolve")
    edge = [step.function for step in after_authentication if step.room == "conversations/edge"]
    assert edge[0].endswith(handler), walk.report()
    pipeline = next(i for i, step in enumerate(after_authentication) if step.function.endswith("pipeline.py:start"))
    assert not [step for step in after_authentication[:pipeline] if "views.py" in step.function and
                not step.function.endswith(handler) and step.caller != "conversations/edge"], walk.report()


def test_the_walk_counts_a_hook_that_calls_back_up(tmp_path, monkeypatch):
    """The count bites: a view whose dispatch, in a room below, calls a hook of the view back (as `before_handler`
    once did) is a return up the layers; the same view calling down to a utility is a return, but not up."""
    (tmp_path / "edge").mkdir()
    (tmp_path / "floor").mkdir()
    (tmp_path / "edge" / "view.py").write_text(
        "from floor import dispatch, utility\n"
        "class View:\n"
        "    def handle(self):\n"
        "        return dispatch.run(self)\n"
        "    def hook(self):\n"
        "        return utility.tidy()\n"
    )
    (tmp_path / "floor" / "dispatch.py").write_text("def run(view):\n    return view.hook()\n")
    (tmp_path / "floor" / "utility.py").write_text("def tidy():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from edge.view import View

    with Walk(root=str(tmp_path), layers=("edge", "floor")) as walk:
        View().handle()
    assert [(step.function, step.returned, step.upward) for step in walk.steps] == [
        ("edge/view.py:View.handle", False, False),
        ("floor/dispatch.py:run", False, False),
        ("edge/view.py:View.hook", True, True),  # back up: the hook
        ("floor/utility.py:tidy", True, False),  # down again, to the floor it stands on
    ]


def test_every_app_is_in_the_layer_order():
    """A new app gets its place in the walk's layer order (the same order as .importlinter's)."""
    from pathlib import Path

    from gateway.testing.walk import ROOT

    apps = {p.parent.name for p in Path(ROOT).glob("*/__init__.py")} - {"e2e", "bench", "scripts"}
    assert apps <= set(LAYERS), apps - set(LAYERS)
