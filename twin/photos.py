"""Incident photos: sniffed (JPEG/PNG/WebP by their bytes), bounded, re-encoded without EXIF, kept atomically."""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile
import warnings
from pathlib import Path

from .errors import InvalidInput, NotFound, TooLarge

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "WEBP")
MAX_EDGE = 2560  # kept photos are scaled down to this many pixels on the long edge
QUALITY = 85
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def clean_photo(data: bytes, max_bytes: int, max_pixels: int) -> bytes:
    """The photo as a fresh JPEG with no metadata (EXIF and its GPS position dropped); InvalidInput/TooLarge if bad."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise InvalidInput("the photo is empty", field="photo")
    if len(data) > max_bytes:
        raise TooLarge(f"the photo is {len(data):,} bytes; at most {max_bytes:,} are accepted", field="photo")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=FORMATS)
            w, h = img.size
            if w * h > max_pixels:
                raise TooLarge(
                    f"the photo is {w}×{h} pixels; at most {max_pixels:,} pixels are accepted", field="photo"
                )
            img.load()
            img = ImageOps.exif_transpose(img)  # keep the picture upright once its EXIF is gone
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge("the photo decodes to too many pixels", field="photo") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InvalidInput(
            "the photo is not a readable JPEG, PNG or WebP image", field="photo", reason=type(e).__name__
        ) from None
    img = img.convert("RGB")
    img.thumbnail((MAX_EDGE, MAX_EDGE))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=QUALITY, optimize=True)  # nothing of the original's metadata is passed on
    return out.getvalue()


class PhotoStore:
    """One JPEG per incident under `directory`, written to a temporary file and renamed into place."""

    def __init__(self, directory):
        self.directory = Path(directory)

    def path(self, incident_id: str) -> Path:
        """Where the photo of `incident_id` is (or would be) kept."""
        if not _ID.fullmatch(str(incident_id)):
            raise NotFound(f"no photo for incident {str(incident_id)[:64]!r}", id=str(incident_id)[:64])
        return self.directory / f"{incident_id}.jpg"

    def has(self, incident_id: str) -> bool:
        """Whether a photo of `incident_id` is kept."""
        return self.path(incident_id).is_file()

    def put(self, incident_id: str, jpeg: bytes) -> Path:
        """Keep `jpeg` as the photo of `incident_id` (replacing any earlier one); nothing half-written is ever seen."""
        final = self.path(incident_id)
        self.directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".upload-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(jpeg)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        log.info("photo of incident %s kept (%d bytes)", incident_id, len(jpeg))
        return final

    def get(self, incident_id: str) -> bytes:
        """The kept photo of `incident_id`; NotFound when there is none."""
        p = self.path(incident_id)
        if not p.is_file():
            raise NotFound(f"incident {incident_id} has no photo", id=str(incident_id))
        return p.read_bytes()
