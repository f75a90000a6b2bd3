"""The citizen's side: the touchscreen kiosk and the follow-your-ticket page."""

from flask import Blueprint

bp = Blueprint("kiosk", __name__, url_prefix="/kiosk", template_folder="templates",
               static_folder="static", static_url_path="/static")
follow_bp = Blueprint("follow", __name__, template_folder="templates")

from kiosk import follow, views  # noqa: E402,F401  (routes register)
