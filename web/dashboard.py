"""Blueprint 'dashboard' (being built)."""
from flask import Blueprint

bp = Blueprint("dashboard", __name__)
