# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every public page of the addon shares: its security headers."""

import functools

# A page reached from a personal link is not cached, not indexed, and its
# address (which holds the link's token) is never sent as a referrer.
PUBLIC_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
}


def gdpr_public_page(endpoint):
    """Decorate a public route (below ``@http.route``): whatever it answers
    (page, redirect, file, error page) carries ``PUBLIC_PAGE_HEADERS``."""

    @functools.wraps(endpoint)
    def wrapper(*args, **kwargs):
        response = endpoint(*args, **kwargs)
        headers = getattr(response, "headers", None)
        if headers is not None:
            for name, value in PUBLIC_PAGE_HEADERS.items():
                headers[name] = value
        return response

    return wrapper
