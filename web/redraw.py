"""Blueprint 'redraw' (being built)."""
from flask import Blueprint

bp = Blueprint("redraw", __name__)
