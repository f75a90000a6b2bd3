"""The hall displays: one full-screen page per zone that shows and announces calls, and the
managers' page that sets each zone's ticker line."""

from flask import Blueprint

bp = Blueprint("display", __name__, url_prefix="/display", template_folder="templates",
               static_folder="static", static_url_path="/static")
manage_bp = Blueprint("displays", __name__, url_prefix="/displays",
                      template_folder="templates")

from display import manage, views  # noqa: E402,F401  (routes register)
