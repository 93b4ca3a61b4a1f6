"""Health, public pages, OpenAPI, security headers."""

from __future__ import annotations


def test_health_reports_the_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_tenant_home_page_is_french_and_uses_vendored_htmx(client, tenant):
    response = client.get(f"/t/{tenant.slug}/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="fr">' in html
    assert tenant.name in html
    assert "Comment ça marche" in html
    assert "/static/vendor/htmx/htmx-2.0.11.min.js" in html
    script = client.get("/static/vendor/htmx/htmx-2.0.11.min.js")
    assert script.status_code == 200
    assert "htmx" in script.text[:2000]


def test_platform_home_lists_territories(client, tenant):
    response = client.get("/")
    assert response.status_code == 200
    assert f'href="/t/{tenant.slug}/"' in response.text


def test_unknown_territory_page_is_a_french_404_page(client):
    response = client.get("/t/nulle-part/", headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "aucun territoire" in response.text


def test_security_headers(client, tenant):
    response = client.get(f"/t/{tenant.slug}/")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_documents_the_event_api(client):
    schema = client.get("/schema/openapi.json").json()
    assert "/t/{slug}/api/v1/events" in schema["paths"]
    assert "/t/{slug}/oauth/token" in schema["paths"]
    post = schema["paths"]["/t/{slug}/api/v1/events"]["post"]
    assert any(p["name"] == "Idempotency-Key" for p in post["parameters"])


def test_api_viewer_is_served_without_any_cdn(client):
    page = client.get("/schema")
    assert page.status_code == 200
    assert "swagger-ui" in page.text
    assert "cdn" not in page.text.lower()
    assert client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js").status_code == 200
