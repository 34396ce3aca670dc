"""Contacts through the real binary: create/upsert/get/patch/list/erase and every error status."""
from conftest import Client, create_key


def error_of(resp):
    body = resp.json()
    assert set(body) == {"error"}, body
    err = body["error"]
    assert isinstance(err["code"], str) and err["code"], err
    assert isinstance(err["message"], str) and err["message"], err
    return err


def test_create_then_upsert_returns_201_then_200(api):
    r = api.post("/api/v1/contacts", {"email": "Ada@Example.COM", "attributes": {"first_name": "Ada"}})
    assert r.status == 201, r
    c = r.json()
    assert c["email"] == "Ada@example.com"
    assert c["status"] == "active"
    assert c["attributes"] == {"first_name": "Ada"}
    r2 = api.post("/api/v1/contacts", {"email": "ada@example.com".replace("ada", "Ada"),
                                        "attributes": {"plan": "pro"}})
    assert r2.status == 200, r2
    c2 = r2.json()
    assert c2["id"] == c["id"]
    assert c2["attributes"] == {"first_name": "Ada", "plan": "pro"}


def test_upsert_by_external_id_and_typed_attributes(api):
    r = api.post("/api/v1/contacts", {"email": "bob@example.org", "external_id": "cus_1",
                                       "timezone": "Europe/Paris", "locale": "fr",
                                       "attributes": {"birthday": "1990-02-28", "ltv": 120.5, "vip": True,
                                                      "interests": ["tea", "books"]}})
    assert r.status == 201, r
    r = api.post("/api/v1/contacts", {"external_id": "cus_1", "attributes": {"ltv": 130}})
    assert r.status == 200, r
    c = r.json()
    assert c["email"] == "bob@example.org"
    assert c["timezone"] == "Europe/Paris"
    assert c["attributes"]["ltv"] == 130
    assert c["attributes"]["interests"] == ["tea", "books"]


def test_get_patch_delete(api):
    c = api.post("/api/v1/contacts", {"email": "carol@example.net"}).json()
    r = api.get(f"/api/v1/contacts/{c['id']}")
    assert r.status == 200 and r.json()["email"] == "carol@example.net"
    r = api.patch(f"/api/v1/contacts/{c['id']}", {"attributes": {"city": "Lyon"}, "locale": "fr-FR"})
    assert r.status == 200, r
    assert r.json()["attributes"]["city"] == "Lyon"
    r = api.patch(f"/api/v1/contacts/{c['id']}", {"attributes": {"city": None}})
    assert r.status == 200 and "city" not in r.json()["attributes"]
    r = api.delete(f"/api/v1/contacts/{c['id']}")
    assert r.status == 204, r
    r = api.get(f"/api/v1/contacts/{c['id']}")
    # An erased contact keeps no personal data.
    assert r.status in (404, 200)
    if r.status == 200:
        assert r.json()["status"] == "erased" and "carol" not in r.body


def test_list_paginates_with_cursor_and_filters_by_email(api):
    for i in range(7):
        assert api.post("/api/v1/contacts", {"email": f"p{i}@example.com"}).status == 201
    seen = []
    cursor = ""
    for _ in range(10):
        r = api.get(f"/api/v1/contacts?limit=3&cursor={cursor}")
        assert r.status == 200, r
        page = r.json()
        seen += [c["email"] for c in page["data"]]
        cursor = page.get("next_cursor") or ""
        if not cursor:
            break
    assert sorted(seen) == sorted(f"p{i}@example.com" for i in range(7))
    r = api.get("/api/v1/contacts?email=p3@example.com")
    assert [c["email"] for c in r.json()["data"]] == ["p3@example.com"]


def test_validation_errors_name_the_field(api):
    r = api.post("/api/v1/contacts", {"email": "not-an-email"})
    assert r.status == 422
    assert error_of(r)["field"] == "email"
    r = api.post("/api/v1/contacts", {"email": "x@example.com", "timezone": "Mars/Base"})
    assert r.status == 422 and error_of(r)["field"] == "timezone"
    r = api.post("/api/v1/contacts", {"email": "x@example.com", "attributes": {"bad": {"nested": 1}}})
    assert r.status == 422 and error_of(r)["field"] == "attributes.bad"
    r = api.post("/api/v1/contacts", {"email": "x@example.com", "emial": "typo"})
    assert r.status == 422 and error_of(r)["field"] == "emial"
    r = api.post("/api/v1/contacts", {"email": "x\r\nBcc: victim@example.com@example.com"})
    assert r.status == 422 and error_of(r)["field"] == "email"


def test_bad_json_is_400(api):
    r = api.post("/api/v1/contacts", raw='{"email": ')
    assert r.status == 400
    assert error_of(r)["code"] == "bad_request"


def test_auth_errors(server, api):
    anon = Client(server.base, None)
    r = anon.get("/api/v1/contacts")
    assert r.status == 401 and error_of(r)
    bogus = Client(server.base, "rk_" + "x" * 40)
    assert bogus.get("/api/v1/contacts").status == 401
    reader = Client(server.base, create_key(server.data, "read", "reader"))
    assert reader.get("/api/v1/contacts").status == 200
    r = reader.post("/api/v1/contacts", {"email": "w@example.com"})
    assert r.status == 403 and error_of(r)


def test_not_found_and_conflict(api):
    r = api.get("/api/v1/contacts/999999999")
    assert r.status == 404 and error_of(r)
    r = api.get("/api/v1/no-such-route")
    assert r.status == 404 and error_of(r)
    assert api.post("/api/v1/contacts", {"email": "one@example.com", "external_id": "e1"}).status == 201
    assert api.post("/api/v1/contacts", {"email": "two@example.com", "external_id": "e2"}).status == 201
    # external_id names one contact and email another: a conflict, nothing changes.
    r = api.post("/api/v1/contacts", {"email": "two@example.com", "external_id": "e1"})
    assert r.status == 409 and error_of(r)


def test_body_over_limit_is_413(api):
    big = "x" * (33 * 1024 * 1024)
    r = api.post("/api/v1/contacts", raw='{"email":"a@example.com","attributes":{"a":"' + big + '"}}')
    assert r.status == 413
    assert error_of(r)["code"] == "too_large"


def test_health_metrics_and_openapi(server, api):
    anon = Client(server.base, None)
    assert anon.get("/healthz").status == 200
    api.post("/api/v1/contacts", {"email": "m@example.com"})
    m = anon.get("/metrics")
    assert m.status == 200
    assert "http_requests_total" in m.body
    spec = anon.get("/api/v1/openapi.json")
    assert spec.status == 200
    doc = spec.json()
    assert doc["openapi"].startswith("3.")
    assert "/api/v1/contacts" in doc["paths"] and "/api/v1/events" in doc["paths"]
