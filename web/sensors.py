"""Blueprint 'sensors' (being built)."""
from flask import Blueprint

bp = Blueprint("sensors", __name__)
