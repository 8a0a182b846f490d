"""/api/docs/ tells what "Try it out" costs, is marked up for screen readers, and shows a realistic body."""


def test_it_warns_that_try_it_out_spends_a_credit(web):
    r = web.get("/api/docs/")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text
    assert "“Try it out” sends real requests." in r.text and "spends one credit" in r.text


def test_the_schema_offers_a_realistic_chat_body(web):
    schema = web.get("/api/schema/", headers={"Accept": "application/json"}).json()
    examples = schema["paths"]["/api/chat"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    bodies = [e["value"] for e in examples.values()]
    assert {"message": "Do you ship your mugs to Norway?", "session_id": "user-session-abc123"} in bodies
