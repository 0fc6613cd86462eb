"""A seeded synthetic district for the redraw bench: square communities of jittered building blocks (some towers).

Today's grids come in two kinds (`today=`):
- "drifted" (default, what a street office has): grids drawn some years ago as balanced rectangles by recursive
  bisection on the households of that time, since when households have drifted (some buildings emptied or filled,
  some towers are new), so today's plan is out of band by tens of percent but still a sensible start;
- "strips": uneven vertical strips, far out of band (a stress test where most of the plan must be re-cut)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

LON0, LAT0 = 114.88, 40.80
M_LON, M_LAT = 1 / 84_300, 1 / 111_000  # degrees per metre near 40.8°N


TODAY = ("drifted", "strips")


def district(
    communities: int = 4, buildings: int = 500, grids: int = 40, seed: int = 7, today: str = "drifted"
) -> dict:
    """Frames (WGS84) of a synthetic district: communities, buildings, grids, households (compounds empty)."""
    if today not in TODAY:
        raise ValueError(f"today must be one of {TODAY}, not {today!r}")
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
        comms.append(
            {
                "community_id": cid,
                "name": f"社区{c + 1}",
                "street_name": "合成街道",
                "geometry": _box(cx, cy, cx + size, cy + size),
            }
        )
        n, rects, loads = 0, [], []
        for i in range(per):
            for j in range(per):
                if n >= buildings:
                    break
                x = cx + i * spacing + 8 + rng.uniform(0, 8)
                y = cy + j * spacing + 8 + rng.uniform(0, 8)
                w, h = rng.uniform(12, 22), rng.uniform(8, 20)
                tower = rng.random() < 0.08
                hh = int(rng.integers(60, 120) if tower else rng.integers(6, 36))
                blds.append(
                    {
                        "building_id": f"{cid}-{n}",
                        "name": str(n),
                        "compound_id": None,
                        "community_id": cid,
                        "floors": 18 if tower else 6,
                        "height_m": 54.0 if tower else 18.0,
                        "units": 2,
                        "households": hh,
                        "use": "residential",
                        "build_year": 1990,
                        "geometry": _box(x, y, x + w, y + h),
                    }
                )
                rects.append((x + w / 2, y + h / 2))
                loads.append(hh)
                n += 1
        if today == "strips":
            cuts = np.sort(rng.uniform(0, 1, k_per - 1)) * 0.6 + np.linspace(0, 1, k_per + 1)[1:-1] * 0.4
            edges = np.r_[0, cuts, 1] * size
            boxes = [(cx + edges[g], cy, cx + edges[g + 1], cy + size) for g in range(k_per)]
        else:
            past = _past_households(np.asarray(loads, float), rng)
            boxes = _bisect(np.asarray(rects), past, k_per, (cx, cy, cx + size, cy + size))
        for g, box in enumerate(boxes):
            grds.append(
                {
                    "grid_code": f"{cid}{g + 1:03d}",
                    "community_id": cid,
                    "name": f"网格{g + 1}",
                    "worker": f"网格员{g + 1}",
                    "type": "community",
                    "geometry": _box(*box),
                }
            )
    b = gpd.GeoDataFrame(blds, crs="EPSG:4326")
    hrows = [
        {
            "household_id": f"{bid}-{k}",
            "building_id": bid,
            "unit": 1,
            "floor": 1,
            "room": str(k),
            "size": 2,
            "elderly_alone": False,
            "floating": False,
            "key_group": False,
            "name": "x",
            "phone": None,
        }
        for bid, hh in zip(b["building_id"], b["households"])
        for k in range(hh)
    ]
    h = gpd.GeoDataFrame(pd.DataFrame(hrows), geometry=gpd.GeoSeries([None] * len(hrows), crs="EPSG:4326"))
    return {
        "communities": gpd.GeoDataFrame(comms, crs="EPSG:4326"),
        "buildings": b,
        "grids": gpd.GeoDataFrame(grds, crs="EPSG:4326"),
        "households": h,
    }


def twin(**kw):
    """A Twin (no live layers) of the synthetic district."""
    from layers import REGISTRY
    from twin.core import Twin

    frames = district(**kw)
    kinds = {k: REGISTRY[k] for k in frames}
    return Twin.from_frames(frames, kinds)


def _past_households(now: np.ndarray, rng) -> np.ndarray:
    """Households of each building when today's grids were drawn: most within ±25% of today, one in twenty
    built since (none then), one in twenty emptied since (twice as many then)."""
    past = now * rng.lognormal(0.0, 0.2, len(now))
    r = rng.random(len(now))
    past[r < 0.05] = 0.0
    past[(r >= 0.05) & (r < 0.10)] *= 2.0
    return past


def _bisect(xy: np.ndarray, load: np.ndarray, k: int, box: tuple) -> list[tuple]:
    """k rectangles tiling `box`, cut across the longer side between buildings so each holds about 1/k of `load`."""
    if k <= 1 or len(xy) <= 1:
        return [box]
    x0, y0, x1, y1 = box
    axis = 0 if x1 - x0 >= y1 - y0 else 1
    order = np.argsort(xy[:, axis], kind="stable")
    kl = k // 2
    cum = np.cumsum(load[order])
    c = int(np.clip(np.searchsorted(cum, cum[-1] * kl / k), 0, len(order) - 2))
    cut = (xy[order[c], axis] + xy[order[c + 1], axis]) / 2
    left, right = order[: c + 1], order[c + 1 :]
    lbox, rbox = ((x0, y0, cut, y1), (cut, y0, x1, y1)) if axis == 0 else ((x0, y0, x1, cut), (x0, cut, x1, y1))
    return _bisect(xy[left], load[left], kl, lbox) + _bisect(xy[right], load[right], k - kl, rbox)


def _box(x0, y0, x1, y1):
    return shapely.box(LON0 + x0 * M_LON, LAT0 + y0 * M_LAT, LON0 + x1 * M_LON, LAT0 + y1 * M_LAT)
