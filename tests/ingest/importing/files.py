"""Small source files for importer tests, written into tmp_path."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from tests.tiny import box


def feature(props: dict, geometry: dict | None) -> dict:
    """A GeoJSON Feature."""
    return {"type": "Feature", "properties": props, "geometry": geometry}


def write_geojson(path: Path, features: list[dict], crs: str | None = None) -> Path:
    """A FeatureCollection file (optionally with a legacy `crs` member naming e.g. EPSG:4549)."""
    doc = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:{crs.replace(':', '::')}"}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def write_csv(path: Path, rows: list[dict]) -> Path:
    """A UTF-8 CSV with the keys of the first row as header."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


# OSM-style buildings inside the tiny street: way/1 in compound C1 (community A), way/2 in C2 (A), way/3 in C3 (B).
OSM = [
    feature(
        {"@id": "way/1", "building": "apartments", "building:levels": "6", "name": "1号楼"},
        box(114.8807, 40.8010, 114.8810, 40.8013),
    ),
    feature({"@id": "way/2", "building": "yes", "height": "31.5 m"}, box(114.8828, 40.8010, 114.8831, 40.8013)),
    feature(
        {"@id": "way/3", "building": "retail", "building:levels": "2", "height": "9"},
        box(114.8850, 40.8010, 114.8853, 40.8013),
    ),
]


def multipolygon(*boxes: dict) -> dict:
    """A GeoJSON MultiPolygon of the given box Polygons."""
    return {"type": "MultiPolygon", "coordinates": [b["coordinates"] for b in boxes]}


# One feature holding three footprints in compound C1 and one single footprint in C3 (as the Shenzhen file ships).
MULTI = [
    feature(
        {"id": "SZ-1", "building": "residential", "building:levels": "6"},
        multipolygon(
            box(114.8807, 40.8010, 114.8810, 40.8013),
            box(114.8811, 40.8018, 114.8814, 40.8021),
            box(114.8807, 40.8015, 114.8808, 40.8016),
        ),
    ),
    feature({"id": "SZ-2", "building": "retail", "building:levels": "2"}, box(114.8850, 40.8010, 114.8853, 40.8013)),
]

# OSM extract with old start dates and building types outside the mapping (all in compound C1/C2 of the tiny street).
OLD_OSM = [
    feature({"@id": "way/11", "building": "house", "start_date": "1763"}, box(114.8807, 40.8010, 114.8810, 40.8013)),
    feature(
        {"@id": "way/12", "building": "apartments", "start_date": "1898-05", "building:levels": "4"},
        box(114.8811, 40.8018, 114.8814, 40.8021),
    ),
    feature(
        {"@id": "way/13", "building": "parking", "building:levels": "9"}, box(114.8828, 40.8010, 114.8831, 40.8013)
    ),
    feature({"@id": "way/14", "building": "garage"}, box(114.8807, 40.8015, 114.8808, 40.8016)),
    feature({"@id": "way/15", "building": "yes"}, box(114.8829, 40.8015, 114.8830, 40.8016)),
]


# A 311 export from another system (NYC-style columns and codes) at the tiny street, and the map that fits it.
FOREIGN_311 = [
    {
        "Unique Key": "NY1",
        "Created Date": "11/01/2025 09:30:00",
        "Complaint Type": "Dirty Conditions",
        "Channel": "PHONE",
        "Status": "Open",
        "Longitude": "114.8808",
        "Latitude": "40.8011",
    },
    {
        "Unique Key": "NY2",
        "Created Date": "11/02/2025 18:05:00",
        "Complaint Type": "Illegal Construction",
        "Channel": "MOBILE",
        "Status": "",
        "Longitude": "114.8866",
        "Latitude": "40.8011",
    },
]
FOREIGN_MAP = {
    "columns": {
        "Unique Key": "incident_id",
        "Created Date": "reported_at",
        "Complaint Type": "category",
        "Channel": "source",
        "Status": "stage",
        "Longitude": "lon",
        "Latitude": "lat",
    },
    "values": {
        "category": {"Dirty Conditions": "garbage", "Illegal Construction": "illegal_structure"},
        "source": {"PHONE": "hotline_12345", "MOBILE": "app"},
        "stage": {"Open": "reported", "": "reported"},
        "level": {"": "grid"},
    },
}
