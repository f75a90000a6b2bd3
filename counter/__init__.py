"""The counter terminal: staff call, serve and hand over citizens all day."""

from flask import Blueprint

bp = Blueprint("counter", __name__, url_prefix="/counter", template_folder="templates",
               static_folder="static", static_url_path="/static")

from counter import views  # noqa: E402,F401  (routes register)
