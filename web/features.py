"""Blueprint 'features' (being built)."""
from flask import Blueprint

bp = Blueprint("features", __name__)
