"""Languages: Spanish (es-MX) by default on every citizen screen, English one tap away.

Message ids are English; the es_MX catalog lives in server/translations and covers every
template and message a citizen sees (a test extracts and checks this).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, request
from flask_babel import Babel

SUPPORTED = ("es_MX", "en")
LANG_COOKIE = "turnos_lang"
TRANSLATIONS = Path(__file__).parent / "translations"


def choose_locale() -> str:
    """?lang= (a tap on the language button), then the cookie it sets, then Spanish."""
    wanted = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    if wanted in SUPPORTED:
        return wanted
    if wanted == "es":
        return "es_MX"
    return SUPPORTED[0]


def init_app(app: Flask, default_locale: str) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = default_locale
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    Babel(app, locale_selector=choose_locale)
    app.after_request(_remember_language)


def _remember_language(response: Response) -> Response:
    """Keep a tapped language for the page's own requests (its fetches carry no ?lang=)."""
    if b"lang=" not in request.query_string:  # the usual case, without parsing the query
        return response
    wanted = request.args.get("lang")
    if wanted in SUPPORTED:
        response.set_cookie(LANG_COOKIE, wanted, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


def short_language(locale: str) -> str:
    """"es" or "en", for <html lang> and the service names of config.toml."""
    return locale.split("_")[0]
