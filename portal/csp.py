"""Content-Security-Policy on every response (Django 5 has no CSP support of its own).

The portal's pages load scripts and styles from ``/static/`` only: no inline scripts, event
handler attributes or style attributes (``portal/static/portal/*.js``, ``portal.css``). Data
URIs are allowed for images (QR codes), and Apple's image servers for app icons (the
metadata lookup's artwork URLs are on ``*.mzstatic.com``). ``CSP_REPORT_URI`` adds a report-uri directive.
"""

from django.conf import settings

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:", "https://*.mzstatic.com"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}


# Swagger UI (third-party, /api/docs/) inserts <style> elements at run time; that page shows no
# data, so inline styles are allowed there and nowhere else.
_INLINE_STYLE_PATHS = ("/api/docs/",)


def header_value(*, inline_styles: bool = False) -> str:
    policy = {k: list(v) for k, v in POLICY.items()}
    if inline_styles:
        policy["style-src"].append("'unsafe-inline'")
    report_uri = getattr(settings, "CSP_REPORT_URI", "")
    if report_uri:
        policy["report-uri"] = [report_uri]
    return "; ".join(f"{name} {' '.join(values)}" for name, values in policy.items())


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.value = header_value()
        self.docs_value = header_value(inline_styles=True)

    def __call__(self, request):
        response = self.get_response(request)
        docs = request.path.startswith(_INLINE_STYLE_PATHS)
        response.headers.setdefault(
            "Content-Security-Policy", self.docs_value if docs else self.value
        )
        return response
