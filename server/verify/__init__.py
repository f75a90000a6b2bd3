"""Anyone can check a receipt: /verify (type a folio or upload a PDF) and /verify/<folio>."""

from flask import Blueprint

bp = Blueprint("verify", __name__, url_prefix="/verify", template_folder="templates",
               static_folder="static", static_url_path="/static")

from server.verify import views  # noqa: E402,F401  (routes register)
