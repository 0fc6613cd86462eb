"""Blueprint 'open311' (being built)."""
from flask import Blueprint

bp = Blueprint("open311", __name__)
