"""A seeded synthetic district for the redraw bench when the demo generator is not available: square communities
of jittered building blocks (some towers), today's grids as uneven strips (so today's plan is out of band)."""
from __future__ import annotations

import numpy as np
import geopandas as gpd
import pandas as pd
import shapely

LON0, LAT0 = 114.88, 40.80
M_LON, M_LAT = 1 / 84_300, 1 / 111_000  # degrees per metre near 40.8°N


def district(communities: int = 4, buildings: int = 500, grids: int = 40, seed: int = 7) -> dict:
    """Frames (WGS84) of a synthetic district: communities, buildings, grids, households (compounds empty)."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(communities)))
    per = int(np.ceil(np.sqrt(buildings)))
    spacing = 40.0
    size = per * spacing
    comms, blds, grds = [], [], []
    k_per = max(1, grids // communities)
    for c in range(communities):
        cx, cy = (c % side) * size, (c // side) * size
        cid = f"130702001{c + 1:03d}"
        comms.append({"community_id": cid, "name": f"社区{c + 1}", "street_name": "合成街道",
                      "geometry": _box(cx, cy, cx + size, cy + size)})
        n = 0
        for i in range(per):
            for j in range(per):
                if n >= buildings:
                    break
                x = cx + i * spacing + 8 + rng.uniform(0, 8)
                y = cy + j * spacing + 8 + rng.uniform(0, 8)
                w, h = rng.uniform(12, 22), rng.uniform(8, 20)
                tower = rng.random() < 0.08
                hh = int(rng.integers(60, 120) if tower else rng.integers(6, 36))
                blds.append({"building_id": f"{cid}-{n}", "name": str(n), "compound_id": None, "community_id": cid,
                             "floors": 18 if tower else 6, "height_m": 54.0 if tower else 18.0, "units": 2,
                             "households": hh, "use": "residential", "build_year": 1990,
                             "geometry": _box(x, y, x + w, y + h)})
                n += 1
        # today's grids: vertical strips of uneven width
        cuts = np.sort(rng.uniform(0, 1, k_per - 1)) * 0.6 + np.linspace(0, 1, k_per + 1)[1:-1] * 0.4
        edges = np.r_[0, cuts, 1] * size
        for g in range(k_per):
            grds.append({"grid_code": f"{cid}{g + 1:03d}", "community_id": cid, "name": f"网格{g + 1}",
                         "worker": f"网格员{g + 1}", "type": "community",
                         "geometry": _box(cx + edges[g], cy, cx + edges[g + 1], cy + size)})
    b = gpd.GeoDataFrame(blds, crs="EPSG:4326")
    hrows = [{"household_id": f"{bid}-{k}", "building_id": bid, "unit": 1, "floor": 1, "room": str(k), "size": 2,
              "elderly_alone": False, "floating": False, "key_group": False, "name": "x", "phone": None}
             for bid, hh in zip(b["building_id"], b["households"]) for k in range(hh)]
    h = gpd.GeoDataFrame(pd.DataFrame(hrows), geometry=gpd.GeoSeries([None] * len(hrows), crs="EPSG:4326"))
    return {"communities": gpd.GeoDataFrame(comms, crs="EPSG:4326"), "buildings": b,
            "grids": gpd.GeoDataFrame(grds, crs="EPSG:4326"), "households": h}


def twin(**kw):
    """A Twin (no live layers) of the synthetic district."""
    from layers import REGISTRY
    from twin.core import Twin
    frames = district(**kw)
    kinds = {k: REGISTRY[k] for k in frames}
    return Twin.from_frames(frames, kinds)


def _box(x0, y0, x1, y1):
    return shapely.box(LON0 + x0 * M_LON, LAT0 + y0 * M_LAT, LON0 + x1 * M_LON, LAT0 + y1 * M_LAT)
