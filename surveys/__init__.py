"""Public survey pages (no login). Customers answer through personal or open links."""
from flask import Blueprint

bp = Blueprint("surveys", __name__, url_prefix="/s", template_folder="templates")
