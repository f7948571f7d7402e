"""The embedded default serves HTTPS with its local CA, and clients that trust it connect."""

import ssl

import httpx


def test_live_server_speaks_https_with_local_ca(live_tls_server):
    with httpx.Client(verify=ssl.create_default_context(cafile=live_tls_server.ca_path)) as client:
        response = client.get(f"{live_tls_server.url}/login/")
    assert response.status_code == 200
    assert "Sign in" in response.text


def test_serve_command_local_ca_is_reused(tmp_path):
    from portal.tls import ensure_local_tls

    first = ensure_local_tls(tmp_path, ("portal.example.test",))
    ca_bytes = first.ca_path.read_bytes()
    second = ensure_local_tls(tmp_path, ("portal.example.test",))
    assert second.ca_path.read_bytes() == ca_bytes
    assert second.cert_path == first.cert_path
