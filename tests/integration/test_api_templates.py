"""Templates through the real binary: saved with validation, previewed for a contact."""


def test_template_save_validate_and_preview(api):
    tpl = {"name": "welcome", "subject": "Welcome, {{ contact.first_name | default: 'friend' }}!",
           "preheader": "Hello from the shop",
           "html": "<h1>Hi {{ contact.first_name }}</h1><p>{{ data.note }}</p>{% render 'footer' %}",
           "snippets": {"footer": "<p>Tea Shop</p>"}}
    r = api.post("/api/v1/templates", tpl)
    assert r.status == 201, r
    t = r.json()
    assert api.post("/api/v1/templates", tpl).status == 409
    bad = dict(tpl, name="broken", html="<p>\n{% if contact.vip %}\nnever closed")
    r = api.post("/api/v1/templates", bad)
    assert r.status == 422, r
    err = r.json()["error"]
    assert err["field"] == "html" and err["message"][0].isdigit(), err
    c = api.post("/api/v1/contacts", {"email": "ada@example.com", "attributes": {"first_name": "Ada"}}).json()
    r = api.post(f"/api/v1/templates/{t['id']}/preview", {"contact_id": c["id"], "data": {"note": "<b>hi</b>"}})
    assert r.status == 200, r
    p = r.json()
    assert p["subject"] == "Welcome, Ada!"
    assert "&lt;b&gt;hi&lt;/b&gt;" in p["html"] and "<p>Tea Shop</p>" in p["html"]
    assert "Hi Ada" in p["text"]
    r = api.post(f"/api/v1/templates/{t['id']}/preview", {"contact": {"first_name": "Bo"}, "strict": True})
    assert r.status == 422 and r.json()["error"]["field"] == "html", r
    r = api.put(f"/api/v1/templates/{t['id']}", dict(tpl, subject="Hello {{ contact.first_name }}"))
    assert r.status == 200 and r.json()["subject"] == "Hello {{ contact.first_name }}"
    assert [x["name"] for x in api.get("/api/v1/templates").json()["data"]] == ["welcome"]
    assert api.delete(f"/api/v1/templates/{t['id']}").status == 204
    assert api.get(f"/api/v1/templates/{t['id']}").status == 404
