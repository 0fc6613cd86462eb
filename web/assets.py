"""Blueprint 'assets' (being built)."""
from flask import Blueprint

bp = Blueprint("assets", __name__)
