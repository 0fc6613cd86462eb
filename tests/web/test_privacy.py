"""No response to a public or planner caller carries a personal value of any household (the demo street), and no
response to a staff member limited to one grid carries one of a household (or incident contact) outside that grid.

Every route registered in the app (iterating `app.url_map`, so a new endpoint is probed without editing this file)
is called by each caller with every method it takes: path variables are filled with real values (every collection,
every feature, incidents with contacts, service codes, report periods, redraw jobs, static files), and endpoints
with options get their variants (formats, tables, filters). Each body, text or binary (zip and GeoPackage
included), is scanned for the demo street's household names, phone numbers and household ids, the incident
contacts' names and phones, grid workers' phones, and a contact filed through Open311 during the test.
Callers: the public, a planner with a bearer token, and people signed in on /login (session cookie and CSRF token):
a planner, and staff of one grid (for whom only the values of other grids are secrets).
"""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from layers import REGISTRY
from tests.web.signin import signed_in
from twin.store import default_data_dir
from twin.vocab import INCIDENT_CATEGORIES
from web import create_app

DEMO = default_data_dir()
WEB = Path(__file__).resolve().parents[2] / "web"
PHONE = re.compile(r"(?<!\d)1\d{10}(?!\d)")
HOUSEHOLD_ID = re.compile(r"H\d{7}")
CJK_RUN = re.compile(r"[\u3400-\u9fff]+")
CALLERS = {
    "public": {},
    "planner": {"Authorization": "Bearer plan-token"},
    "planner-signed-in": ("planner", None),
    "staff-of-one-grid": ("staff", "first grid"),
}
JOB_WAIT_S = 180

pytestmark = pytest.mark.slow  # about 15,000 requests


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    return create_app(
        {
            "TESTING": True,
            "DATA_DIR": str(DEMO),
            "STATE_DIR": str(state),
            "REDRAW_WORKERS": 1,
            "TOKENS": json.dumps([{"role": "planner", "token": "plan-token"}]),
        }
    )


@pytest.fixture(scope="module")
def filed(demo_app):
    """An Open311 request filed by a resident whose name and phone are a household's: a secret from then on."""
    twin = demo_app.extensions["twin"]
    hh = twin.frame("households").iloc[101]
    b = twin.frame("buildings").set_index("building_id").geometry.loc[hh["building_id"]].representative_point()
    surname, given = hh["name"][0], hh["name"][1:]
    r = demo_app.test_client().post(
        "/open311/v2/requests.json",
        json={
            "lat": b.y,
            "long": b.x,
            "service_code": "roof_leak",
            "description": "屋顶漏水",
            "first_name": given,
            "last_name": surname,
            "phone": hh["phone"],
            "email": "resident101@example.com",
        },
    )
    assert r.status_code == 201, r.json
    return {
        "id": r.json[0]["service_request_id"],
        "name": given + " " + surname,
        "phone": hh["phone"],
        "email": "resident101@example.com",
    }


def _public_text(twin) -> str:
    """Every string a caller may legitimately see: public fields, the incident vocabulary, pages and scripts."""
    parts = []
    for name, layer in twin.layers.items():
        kind = REGISTRY[name]
        for f in kind.schema.fields:
            if f.dtype == "str" and not f.personal and f.name in layer.frame.columns:
                parts += layer.frame[f.name].dropna().astype(str).unique().tolist()
    parts += [" ".join(map(str, v)) if isinstance(v, (tuple, list)) else str(v) for v in INCIDENT_CATEGORIES.values()]
    for p in WEB.rglob("*"):
        if p.is_file() and p.suffix in (".py", ".html", ".js", ".css", ".json"):
            parts.append(p.read_text(encoding="utf-8", errors="ignore"))
    return "\n".join(parts)


@pytest.fixture(scope="module")
def secrets(demo_app, filed):
    """Personal values to look for; a name that also occurs in public text (a grid worker, a place) is left out."""
    twin = demo_app.extensions["twin"]
    h = twin.frame("households")
    names = set(h["name"].dropna().astype(str))
    phones = set(h["phone"].dropna().astype(str)) | {filed["phone"]}
    ids = set(h["household_id"].astype(str))
    inc = twin.incidents.frame()
    for f in REGISTRY["incidents"].schema.fields:
        if f.personal:
            values = set(inc[f.name].dropna().astype(str))
            phones |= {v for v in values if PHONE.fullmatch(v)}
            if f.name == "contact_name":
                names |= {v for v in values if not PHONE.fullmatch(v)}
    phones |= set(twin.frame("grids")["worker_phone"].dropna().astype(str))
    shared = names & _grams(_public_text(twin))
    assert len(shared) < 0.05 * len(names), "too many personal names double as public text for a fair test"
    names -= shared
    assert filed["name"].replace(" ", "") not in shared
    names.add(filed["name"].replace(" ", ""))
    return {"names": names, "phones": phones, "ids": ids, "others": {filed["email"], filed["name"]}, "households": h}


def _caller(app, caller: str):
    """(test client, headers) of a caller: bearer headers, or a client signed in through /login (CSRF header)."""
    spec = CALLERS[caller]
    if isinstance(spec, dict):
        return app.test_client(), spec
    role, grids = spec
    grids = [_staff_grid(app)] if grids else None
    client = signed_in(app, caller, role, grids=grids)
    return client, client.csrf


def _staff_grid(app) -> str:
    """The grid the staff caller is limited to (the first of the street)."""
    return str(app.extensions["twin"].frame("grids")["grid_code"].iloc[0])


def _visible_to_staff(app, secrets: dict, grid: str) -> dict:
    """`secrets` without the values a staff member of `grid` may see (that grid's households and contacts)."""
    twin = app.extensions["twin"]
    h = twin.frame("households")
    own = h[h["grid_code"].astype(str) == grid]
    inc = twin.incidents.frame()
    mine = inc[inc["grid_code"].astype(str) == grid]
    names = set(own["name"].dropna().astype(str)) | set(mine["contact_name"].dropna().astype(str))
    phones = set(own["phone"].dropna().astype(str)) | set(mine["contact_phone"].dropna().astype(str))
    phones |= set(twin.frame("grids")["worker_phone"].dropna().astype(str))  # staff call grid workers: not secret
    return {
        **secrets,
        "names": secrets["names"] - names - _grams("\n".join(names)),  # 丁云 inside a visible 丁云飞 is no leak
        "phones": secrets["phones"] - phones,
        "ids": secrets["ids"] - set(own["household_id"].astype(str)),
        "others": secrets["others"] - set(mine["contact_name"].dropna()) - set(mine["contact_email"].dropna()),
    }


# --- what to call ---------------------------------------------------------------------------------------------------
def _values(app, client, headers, jobs) -> dict:
    """Values for every path variable name used by the app's routes."""
    twin = app.extensions["twin"]
    inc = twin.incidents.frame()
    with_contact = inc.loc[inc["contact_name"].notna(), "incident_id"].head(20).tolist()
    with_household = inc.loc[inc["household_id"].notna(), "incident_id"].head(10).tolist()
    return {
        "collection_id": [c["id"] for c in client.get("/collections", headers=headers).json["collections"]]
        + ["households"],
        "incident_id": with_contact + with_household + inc["incident_id"].iloc[::600].tolist(),
        "code": [s["service_code"] for s in client.get("/open311/v2/services.json").json],
        "period": ["week", "month", "quarter", "sixnos", "year"],
        "job_id": jobs + ["no-such-job"],
        "plan_id": ["1", "no-such-plan"],
        "digest": ["0" * 12],
        "filename": sorted(str(p.relative_to(WEB / "static")) for p in (WEB / "static").rglob("*") if p.is_file()),
        "building_id": twin.frame("buildings")["building_id"].iloc[::60].tolist(),
        "household_id": twin.frame("households")["household_id"].iloc[::5000].tolist(),
    }


def _queries(app) -> dict:
    """Extra query strings per endpoint: formats, tables, filters and areas (each also called bare)."""
    twin = app.extensions["twin"]
    grid = twin.frame("grids")["grid_code"].iloc[0]
    comm = twin.frame("communities")["community_id"].iloc[0]
    comp = twin.frame("compounds")
    unmanaged = comp.loc[comp["state"] == "unmanaged", "compound_id"].iloc[0]
    c = twin.frame("buildings").geometry.iloc[0].representative_point()
    areas = [f"grid={grid}", f"community={comm}", f"compound={unmanaged}", f"lon={c.x}&lat={c.y}&radius=300"]
    fmts = (
        [f"&format={f}" for f in ("json", "geojson", "xlsx")]
        + [f"&format=csv&table={t}" for t in ("figures", "compounds", "overdue", "households")]
        + ["&households=1"]
    )
    return {
        "area.area_by_id": [a + f for a in areas for f in fmts[:1]] + [areas[1] + f for f in fmts],
        "area.area_of_polygon": [f.lstrip("&") for f in fmts],
        "open311.get_requests": [
            "status=open",
            "status=closed&page_size=1000",
            "start_date=2025-11-01T00:00:00Z&end_date=2026-11-01T00:00:00Z&page_size=1000",
            "service_code=sos,care_visit",
        ],
        "reports.report": ["f=csv", "date=2026-06-15", "date=2026-06-15&f=csv&lang=en"],
        "reports.sixnos": ["f=csv", "quarter=2026Q2"],
        "redraw.result": ["which=before", "f=gpkg"],
        "dashboard.page": ["lang=en", "transport=geojson"],
        "features.landing": ["f=html"],
        "care.calls": ["household_id=H0000001"],
        "search.search": ["q=1-1-101", "q=1-1", "q=H00000", "q=ylht", "q=玉兰华庭1号楼", "q=GD", "q=1307020010"],
        "work.queue": ["stage=all&page_size=200", "overdue=true&page_size=200", "stage=all&page=2&page_size=200"],
    }


def _bodies(app, filed_id: str) -> dict:
    """JSON bodies per POST endpoint (any other POST gets an empty object)."""
    twin = app.extensions["twin"]
    street = json.loads(json.dumps(twin.frame("communities").geometry.union_all().convex_hull.__geo_interface__))
    hid = twin.frame("households")["household_id"].iloc[0]
    return {
        "area.area_of_polygon": [street],
        "care.record": [{"household_id": hid, "answered": False}],
        "open311.act": [{"action": "accept"}],
        "sensors.events": [{"device_id": "w-1", "kind": "sos", "household_id": hid}],
        "open311.post_request": [{}],
        "redraw.start": [{"effort": 0}],  # refused at once: the real jobs ran in _redraw_jobs
    }


def _redraw_jobs(client, headers) -> list[str]:
    """Start a small redraw (one community) as this caller and wait for it; the job ids (none if refused)."""
    r = client.post("/api/redraw", headers=headers, json={"communities": ["130702001001"], "effort": 1, "workers": 1})
    if r.status_code != 202:
        return []
    job = r.json["id"]
    deadline = time.monotonic() + JOB_WAIT_S
    while time.monotonic() < deadline:
        status = client.get(f"/api/jobs/{job}", headers=headers).json["status"]
        if status in ("done", "failed"):
            break
        time.sleep(0.5)
    return [job]


def _calls(app, client, headers, filed_id: str, jobs: list[str]):
    """(endpoint, method, url, json body) for every route of the app as this caller."""
    values, queries, bodies = _values(app, client, headers, jobs), _queries(app), _bodies(app, filed_id)
    values["incident_id"].append(filed_id)
    unknown = set()
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if rule.endpoint == "features.items" or rule.endpoint == "features.item":
                continue  # crawled page by page and item by item below
            missing = [a for a in rule.arguments if a not in values]
            if missing:
                unknown |= {f"{rule.endpoint}: <{a}>" for a in missing}
                continue
            urls = [""]
            for arg in sorted(rule.arguments):
                urls = [u + f"|{arg}={v}" for u in urls for v in values[arg]]
            for filled in urls:
                kw = dict(part.split("=", 1) for part in filled.split("|")[1:])
                path = rule.build(kw, append_unknown=False)[1]
                for q in [""] + queries.get(rule.endpoint, []):
                    url = path + (f"?{q}" if q else "")
                    for body in bodies.get(rule.endpoint, [{}]) if method == "POST" else [None]:
                        yield rule.endpoint, method, url, body
    assert not unknown, f"add values for these path variables to _values(): {sorted(unknown)}"
    yield from _features(client, headers)


def _features(client, headers):
    """Every items page and every single item of every collection the caller sees (and the households ones)."""
    for c in client.get("/collections", headers=headers).json["collections"] + [{"id": "households"}]:
        base = f"/collections/{c['id']}"
        url = f"{base}/items?limit=10000"
        while url:
            yield "features.items", "GET", url, None
            r = client.get(url, headers=headers)
            if r.status_code != 200:
                break
            for f in r.json["features"]:
                yield "features.item", "GET", f"{base}/items/{f['id']}", None
            nxt = [link["href"] for link in r.json["links"] if link["rel"] == "next"]
            url = urlsplit(nxt[0])._replace(scheme="", netloc="").geturl() if nxt else None
    for hid in ("H0000001", "H0012345"):
        yield "features.item", "GET", f"/collections/households/items/{hid}", None


# --- scanning -------------------------------------------------------------------------------------------------------
def _texts(resp) -> str:
    """The body as text to scan: zips (XLSX) unpacked, binaries (GeoPackage, typed arrays) read for their bytes."""
    data = resp.get_data()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "\n".join(z.read(n).decode("utf-8", errors="ignore") for n in z.namelist())
    return data.decode("utf-8", errors="ignore")


def _grams(text: str) -> set[str]:
    """Every run of 2 to 4 Chinese characters inside `text` (names are 2 to 4 characters long)."""
    out = set()
    for run in set(CJK_RUN.findall(text)):
        for n in (2, 3, 4):
            out.update(run[i : i + n] for i in range(len(run) - n + 1))
    return out


def _leaks(text: str, secrets: dict) -> list[str]:
    """Personal values found in `text`: phones and household ids by pattern, names as substrings of CJK runs."""
    found = sorted(set(PHONE.findall(text)) & secrets["phones"])
    found += sorted(set(HOUSEHOLD_ID.findall(text)) & secrets["ids"])
    found += sorted(_grams(text) & secrets["names"])
    found += [o for o in secrets["others"] if o in text]
    return found


@pytest.mark.parametrize("caller", sorted(CALLERS))
def test_no_personal_value_reaches_public_or_planner(demo_app, secrets, filed, caller):
    client, headers = _caller(demo_app, caller)
    staff = caller.startswith("staff")
    if staff:
        secrets = _visible_to_staff(demo_app, secrets, _staff_grid(demo_app))
    assert len(secrets["names"]) > 1000 and len(secrets["phones"]) > 1000
    listed = {c["id"] for c in client.get("/collections", headers=headers).json["collections"]}
    assert staff or "households" not in listed
    assert "household-counts-by-building" in listed
    answered: dict[str, set] = {}
    jobs = _redraw_jobs(client, headers)  # redraw is for staff today; if that changes, its results get scanned
    for endpoint, method, url, body in _calls(demo_app, client, headers, filed["id"], jobs):
        if endpoint == "session.logout" and client.get_cookie("twin_session") is not None:
            answered[endpoint] = {303}  # signing out would end the scan's session: called last, below
            continue
        r = client.open(url, method=method, headers=headers, json=body)
        assert r.status_code < 500, (method, url, r.status_code, r.get_data(as_text=True)[:300])
        answered.setdefault(endpoint, set()).add(r.status_code)
        leaks = _leaks(_texts(r), secrets)
        assert not leaks, f"{method} {url} as {caller} leaks {leaks[:5]}"
        if url.startswith("/collections/households") and not staff:
            assert r.status_code == 403 and r.json["code"] == "forbidden", url
    if isinstance(CALLERS[caller], tuple):
        assert client.get("/api/alerts", headers=headers).status_code == (200 if staff else 403)  # still signed in
        assert client.post("/logout", headers=headers).status_code == 303
    rules = {r.endpoint for r in demo_app.url_map.iter_rules()}
    assert rules <= set(answered), f"never called: {sorted(rules - set(answered))}"
    ok = {e for e, codes in answered.items() if 200 in codes or 201 in codes or 202 in codes}
    must = {
        "features.landing",
        "features.collections",
        "features.items",
        "features.item",
        "features.openapi",
        "open311.get_requests",
        "open311.get_request",
        "dashboard.page",
        "dashboard.kpis_view",
        "dashboard.incidents_bin",
        "dashboard.grids_json",
        "area.area_by_id",
        "area.area_of_polygon",
    }
    if jobs:
        must |= {"redraw.job", "redraw.result"}
    assert must <= ok, f"these answered no 2xx to {caller}, so their bodies were not really scanned: {must - ok}"
    if caller != "public":
        assert {"reports.report", "reports.sixnos"} <= ok
    if staff:
        assert {"work.queue", "work.detail", "alerts.alerts"} <= ok


def test_counts_of_one_or_two_are_suppressed_on_the_demo_street(demo_app, secrets):
    h = secrets["households"]
    exact = h.groupby("building_id").size()
    doc = demo_app.test_client().get("/collections/household-counts-by-building/items?limit=10000").json
    shown = {f["id"]: f["properties"]["households"] for f in doc["features"]}
    for bid, n in exact.items():
        assert shown[bid] == (None if n in (1, 2) else n)
    client = demo_app.test_client()
    for by in ("building", "grid"):
        feats = client.get(f"/collections/household-counts-by-{by}/items?limit=10000").json["features"]
        counts = [
            v
            for f in feats
            for k, v in f["properties"].items()
            if k in ("households", "persons", "elderly_alone", "floating", "key_group")
        ]
        assert counts and not {1, 2} & set(counts)


def test_the_scan_finds_what_it_looks_for(secrets):
    """The scanner itself: a name inside a sentence, a phone, a household id are all caught."""
    name = sorted(secrets["names"])[0]
    phone = sorted(secrets["phones"])[0]
    assert _leaks(f"报告人：{name}反映楼道堆物", secrets) == [name]
    assert _leaks(f'{{"tel": "{phone}"}}', secrets) == [phone]
    assert _leaks("household H0000001 called", secrets) == ["H0000001"]
    assert _leaks("西园社区第一网格 2026-11-01", secrets) == []
