"""Blueprint 'area' (being built)."""
from flask import Blueprint

bp = Blueprint("area", __name__)
