"""The patrol API on the tiny street: my grid's open incidents by urgency, reports with photos, and bad photos."""

from __future__ import annotations

import io
import struct
import zlib

import pandas as pd
import pytest
from PIL import Image

from tests.tiny import GA1

A1 = {"Authorization": "Bearer staff-a1"}
IN_A1 = {"lon": "114.8808", "lat": "40.8011"}  # at building B1, grid A1


@pytest.fixture
def app(roles_app):
    return roles_app(PHOTO_MAX_BYTES=2_000_000, PHOTO_MAX_PIXELS=1_000_000)


@pytest.fixture
def client(app):
    return app.test_client()


def jpeg_with_gps(size=(64, 48)) -> bytes:
    """A JPEG whose EXIF carries a GPS position (the thing that must not be kept)."""
    img = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif.get_ifd(0x8825)[2] = (40.0, 48.0, 4.0)  # GPSLatitude
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A 1×1 PNG made with Pillow whose header is rewritten to claim width × height (a decompression bomb's shape)."""
    out = io.BytesIO()
    Image.new("L", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    return bytes(data)


def report(client, photo: bytes | None, name="photo.jpg", headers=A1, **fields):
    form = {"category": "garbage", "description": "楼道堆物", **IN_A1, **fields}
    if photo is not None:
        form["photo"] = (io.BytesIO(photo), name)
    return client.post("/api/patrol/reports", data=form, headers=headers, content_type="multipart/form-data")


def stored(app) -> list:
    d = app.extensions["twin"].store.state_dir / "photos"
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def test_a_report_with_a_photo_keeps_it_reencoded_without_exif(app, client):
    r = report(client, jpeg_with_gps())
    assert r.status_code == 201, r.json
    doc = r.json
    assert doc["category"] == "garbage" and doc["grid_code"] == GA1 and doc["stage"] == "reported"
    assert doc["photo"] == f"/api/incidents/{doc['incident_id']}/photo"
    assert stored(app) == [f"{doc['incident_id']}.jpg"]
    got = client.get(doc["photo"])  # a garbage report is public; its photo too
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    img = Image.open(io.BytesIO(got.data))
    assert img.format == "JPEG" and img.size == (64, 48)
    assert not img.getexif() and b"PhoneMaker" not in got.data
    listed = client.get("/api/patrol/incidents", headers=A1).json["incidents"]
    assert doc["incident_id"] in [i["incident_id"] for i in listed]


def test_png_and_webp_are_taken_too(client):
    for fmt in ("PNG", "WEBP"):
        out = io.BytesIO()
        Image.new("RGB", (10, 10), (0, 90, 200)).save(out, fmt)
        r = report(client, out.getvalue(), name="x.bin")
        assert r.status_code == 201, (fmt, r.json)


@pytest.mark.parametrize(
    "photo, status",
    [
        (b"this is a text file, not a photo\n" * 10, 400),
        (png_claiming(20_000, 20_000), 413),  # Pillow's own DecompressionBombError (over 2x MAX_IMAGE_PIXELS)
        (png_claiming(2_000, 2_000), 413),  # over the PHOTO_MAX_PIXELS setting, refused before decoding
        (b"GIF89a" + b"\0" * 100, 400),
        (b"", 400),
    ],
    ids=["text-named-jpg", "bomb", "too-many-pixels", "gif", "empty"],
)
def test_bad_photos_are_refused_and_nothing_is_stored(app, client, photo, status):
    before = len(app.extensions["twin"].incidents)
    r = report(client, photo)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.json["status"] == status and r.json["message"] and r.json["code"]
    assert len(app.extensions["twin"].incidents) == before
    assert stored(app) == []


def test_a_50_mb_body_is_413_and_nothing_is_stored(app, client):
    before = len(app.extensions["twin"].incidents)
    r = report(client, b"\xff\xd8\xff" + b"\0" * (50 * 1024 * 1024))
    assert r.status_code == 413 and r.json["status"] == 413
    assert len(app.extensions["twin"].incidents) == before and stored(app) == []


def test_reports_outside_my_grid_and_unknown_categories_are_refused(client):
    assert report(client, None, lon="114.886", lat="40.801").status_code == 403  # grid B1
    assert report(client, None, category="nope").status_code == 400
    assert report(client, None, headers={}).status_code == 401


def test_my_open_incidents_by_urgency_and_only_my_grid(app, client):
    s = app.extensions["twin"].incidents
    t0 = pd.Timestamp("2026-06-01T08:00:00Z")
    ids = []
    for i, c in enumerate(("garbage", "fire_hazard")):
        s.clock = lambda i=i: t0 + pd.Timedelta(seconds=10 * i)
        ids.append(report(client, None, category=c).json["incident_id"])
    other = report(client, None, headers={"Authorization": "Bearer staff-b1"}, lon="114.886", lat="40.801")
    assert other.status_code == 201
    s.clock = lambda: t0 + pd.Timedelta(minutes=5)
    listed = client.get("/api/patrol/incidents", headers=A1).json["incidents"]
    assert {i["grid_code"] for i in listed} == {GA1}
    assert [i["incident_id"] for i in listed] == ids  # both overdue to accept; the first reported is the longer late
    assert all(i["overdue"] and i["overdue_seconds"] > 0 for i in listed)


def test_photo_of_an_incident_outside_my_grid_cannot_be_attached(client):
    other = report(client, None, headers={"Authorization": "Bearer staff-b1"}, lon="114.886", lat="40.801")
    iid = other.json["incident_id"]
    r = client.post(
        f"/api/incidents/{iid}/photo",
        data={"photo": (io.BytesIO(jpeg_with_gps()), "p.jpg")},
        headers=A1,
        content_type="multipart/form-data",
    )
    assert r.status_code == 403
    assert client.get(f"/api/incidents/{iid}/photo").status_code == 404
