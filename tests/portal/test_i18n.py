"""German rendering of the navigation and the language switch."""

from django.urls import reverse


def test_navigation_in_german(admin_client):
    page = admin_client.get(reverse("portal:dashboard"), HTTP_ACCEPT_LANGUAGE="de")
    html = page.content.decode()
    assert 'lang="de"' in html
    for word in ("Einstellungen", "iOS/iPadOS-Profile", "Geräte", "Benutzer", "Abmelden"):
        assert word in html, word


def test_language_switch_sticks(admin_client):
    admin_client.post(reverse("set_language"), {"language": "de", "next": "/"})
    html = admin_client.get(reverse("portal:dashboard")).content.decode()
    assert "Erste Schritte" in html
    admin_client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Getting started" in admin_client.get(reverse("portal:dashboard")).content.decode()
