/* The planner page: choose an area on the map (draw a polygon by clicking, pick a grid / community / compound,
 * or a point and a radius), ask /api/area what is in it, and show areas A and B side by side with exports.
 *
 * Data: /api/dashboard/buildings.geojson (footprints coloured by property state), /api/dashboard/grids.json
 * (outlines); grids, communities and compounds are picked with the top bar's search (search.js, "twin:place").
 * Queries: POST /api/area with the drawn GeoJSON Polygon, or GET /api/area?grid=|community=|compound=|lon=&lat=&radius=,
 * each with rule= (a signed-in person's session cookie shows staff detail).
 * For tests and scripts the state is on window.twinPlanner, each result column's <th> carries data-request (the
 * exact request body or query) and data-state, and each figure cell carries data-key and data-value (raw).
 * Time bar (timeline.js): the year's incidents on the map as they stood at the end of the chosen day (the last
 * position: now), points coloured by stage, overdue ones opaque; twinPlanner.day / .incidents for tests. */
(function () {
  "use strict";

  Twin.addStrings({
    zh: {
      pl_slot: "区域 {slot}", pl_rule_centroid: "按中心点", pl_rule_area: "按面积比例",
      pl_sec_area: "面积", pl_area_m2: "面积（平方米）", pl_in_street_m2: "其中街道内（平方米）",
      pl_sec_buildings: "楼栋", pl_b_count: "楼栋数", pl_floor_area: "建筑面积（平方米）",
      pl_sec_people: "人口", pl_households: "户数", pl_population: "人口", pl_elderly_alone: "独居老人",
      pl_floating: "流动人口户", pl_key_group: "重点人群户",
      pl_sec_states: "物业状态（楼栋数）", pl_sec_decades: "建成年代（楼栋数）",
      pl_no_compound: "无所属小区",
      pl_sec_compounds: "小区", pl_c_count: "涉及小区", pl_c_whole: "完全在区域内", pl_c_partly: "部分在区域内",
      pl_sec_incidents: "事件", pl_i_total: "事件总数", pl_i_open: "未办结", pl_i_overdue: "超时未办",
      pl_closure: "办结率", pl_accept: "按时受理率", pl_on_site: "按时到场率", pl_resolve: "按时办结率",
      pl_sec_categories: "事件类别", pl_sec_risk: "风险等级（楼栋数）",
      pl_suppressed: "<3", pl_note_suppressed: "少于 3 人/户的数字不公开（显示为 <3）；工作人员登录后可见。",
      pl_note_repaired: "区域 {slot} 的多边形有自相交，已自动修复（{reason}）。",
      pl_note_rule: "跨边界楼栋{rule}计入。", pl_compounds_in: "区域 {slot} 涉及的小区",
      pl_share: "{pct} 在区域内", pl_whole: "整体在内", pl_export: "导出",
      pl_querying: "查询中…", pl_done: "查询完成", pl_need3: "至少需要 3 个点才能围成区域",
      pl_no_place: "请选择一个网格、社区或小区", pl_no_grid_here: "这里没有网格", pl_centre: "中心 {lon}, {lat}",
      pl_vertices: "已画 {n} 个点", pl_grid: "网格", pl_community: "社区", pl_compound: "小区",
      pl_legend_states: "楼栋颜色：物业状态", pl_legend_grid: "网格边界", pl_legend_vertex: "正在画的点",
      pl_drawn: "自绘多边形", pl_disc: "{lon}, {lat} 周边 {r} 米", pl_legend_incidents: "事件（时间条所选日，超时者不透明）",
    },
    en: {
      pl_slot: "Area {slot}", pl_rule_centroid: "by centre point", pl_rule_area: "by share of footprint",
      pl_sec_area: "Area", pl_area_m2: "Area (m²)", pl_in_street_m2: "of which inside the street (m²)",
      pl_sec_buildings: "Buildings", pl_b_count: "Buildings", pl_floor_area: "Floor area (m²)",
      pl_sec_people: "People", pl_households: "Households", pl_population: "Population",
      pl_elderly_alone: "Elderly living alone", pl_floating: "Floating households", pl_key_group: "Key-group households",
      pl_sec_states: "Property management (buildings)", pl_sec_decades: "Build decade (buildings)",
      pl_no_compound: "No compound",
      pl_sec_compounds: "Compounds", pl_c_count: "Compounds touched", pl_c_whole: "wholly inside",
      pl_c_partly: "partly inside",
      pl_sec_incidents: "Incidents", pl_i_total: "Incidents", pl_i_open: "Open", pl_i_overdue: "Overdue",
      pl_closure: "Closure rate", pl_accept: "Accepted on time", pl_on_site: "On site on time",
      pl_resolve: "Resolved on time", pl_sec_categories: "Incident categories", pl_sec_risk: "Risk level (buildings)",
      pl_suppressed: "<3", pl_note_suppressed: "Counts under 3 people or households are not shown (<3); staff see them when signed in.",
      pl_note_repaired: "Area {slot} crossed itself and was repaired ({reason}).",
      pl_note_rule: "Buildings on the edge counted {rule}.", pl_compounds_in: "Compounds in area {slot}",
      pl_share: "{pct} inside", pl_whole: "wholly inside", pl_export: "Export",
      pl_querying: "Querying…", pl_done: "Done", pl_need3: "A polygon needs at least 3 points",
      pl_no_place: "Choose a grid, community or compound", pl_no_grid_here: "No grid here",
      pl_centre: "centre {lon}, {lat}", pl_vertices: "{n} points", pl_grid: "Grids", pl_community: "Communities",
      pl_compound: "Compounds", pl_legend_states: "Buildings: property management", pl_legend_grid: "Grid outline",
      pl_legend_vertex: "Points being drawn", pl_drawn: "drawn polygon", pl_disc: "{r} m around {lon}, {lat}",
      pl_legend_incidents: "Incidents on the time bar's day (overdue ones opaque)",
    },
  });
  const t = Twin.t;
  const C = Twin.config;
  const P = Twin.palette;
  const $ = (id) => document.getElementById(id);
  const SLOTS = ["A", "B"];
  const SLOT_COLOR = { A: [77, 220, 255], B: [255, 160, 60] };
  const NO_STATE = [120, 128, 140];
  const VERTEX = [255, 255, 255];
  const ON_TOP = { depthCompare: "always" };
  const RISK_LEVELS = ["low", "medium", "high", "critical"];
  const FORMATS = ["csv", "geojson", "xlsx"];

  const S = (window.twinPlanner = {
    mode: "draw", slot: "A", draft: [], draftPixels: [], centre: null, areas: { A: null, B: null },
    buildings: null, grids: null, queries: 0, day: null, incidents: 0,
  });

  // ---- map layers --------------------------------------------------------------------------------------------
  // Footprints come as plain GeoJSON (/api/dashboard/buildings.geojson): a stable format, while the dashboard's
  // compact binary transport is that page's own and changes with it.
  let map = null;

  function outerRing(geometry) {
    if (!geometry) return [];
    if (geometry.type === "Polygon") return geometry.coordinates[0];
    if (geometry.type === "MultiPolygon") return geometry.coordinates[0][0];
    return [];
  }

  function buildingLayer() {
    if (!S.buildings) return null;
    return new deck.SolidPolygonLayer({
      // Flat footprints: the planner looks straight down to draw, where extruded towers would hide the ground.
      id: "buildings", data: S.buildings, extruded: false, pickable: true, // a click in "pick" mode opens its floors
      getPolygon: (f) => outerRing(f.geometry),
      getFillColor: (f) => (P.property_states[f.properties.state] || NO_STATE).concat(215),
    });
  }

  function gridLayer() {
    if (!S.grids) return null;
    return new deck.PathLayer({
      id: "grids", data: S.grids.flatMap((g) => g.paths), getPath: (p) => p, getColor: P.grid_line.concat(150),
      widthUnits: "pixels", getWidth: 1.2, parameters: ON_TOP,
    });
  }

  function areaLayers() {
    return SLOTS.filter((s) => S.areas[s] && S.areas[s].geometry).map((s) => new deck.GeoJsonLayer({
      id: "area-" + s, data: { type: "Feature", geometry: S.areas[s].geometry, properties: {} },
      filled: true, stroked: true, getFillColor: SLOT_COLOR[s].concat(45), getLineColor: SLOT_COLOR[s].concat(255),
      lineWidthUnits: "pixels", getLineWidth: 3, parameters: ON_TOP,
    }));
  }

  function draftLayers() {
    const out = [];
    const color = SLOT_COLOR[S.slot];
    if (S.mode === "draw" && S.draft.length) {
      if (S.draft.length >= 3) {
        out.push(new deck.PolygonLayer({
          id: "draft-fill", data: [S.draft], getPolygon: (d) => d, filled: true, stroked: false,
          getFillColor: color.concat(35), parameters: ON_TOP,
        }));
      }
      out.push(new deck.PathLayer({
        id: "draft-path", data: [S.draft.length >= 3 ? S.draft.concat([S.draft[0]]) : S.draft], getPath: (d) => d,
        getColor: color.concat(230), widthUnits: "pixels", getWidth: 2.5, parameters: ON_TOP,
      }));
      out.push(new deck.ScatterplotLayer({
        id: "draft-vertices", data: S.draft, getPosition: (d) => d, radiusUnits: "pixels", getRadius: 5,
        getFillColor: VERTEX, stroked: true, getLineColor: color, lineWidthUnits: "pixels", getLineWidth: 2,
        parameters: ON_TOP,
      }));
    }
    if (S.mode === "point" && S.centre) {
      out.push(new deck.PolygonLayer({
        id: "disc-preview", data: [discRing(S.centre, radius())], getPolygon: (d) => d, filled: true, stroked: true,
        getFillColor: color.concat(30), getLineColor: color.concat(200), lineWidthUnits: "pixels", getLineWidth: 2,
        parameters: ON_TOP,
      }));
      out.push(new deck.ScatterplotLayer({
        id: "disc-centre", data: [S.centre], getPosition: (d) => d, radiusUnits: "pixels", getRadius: 6,
        getFillColor: VERTEX, stroked: true, getLineColor: color, lineWidthUnits: "pixels", getLineWidth: 2,
        parameters: ON_TOP,
      }));
    }
    return out;
  }

  function redraw() {
    if (map) map.setLayers([buildingLayer(), gridLayer(), incidentLayer()].concat(areaLayers(), draftLayers()).filter(Boolean));
  }

  // ---- time playback: the incidents of the chosen day (timeline.js) ------------------------------------------
  let timeline = null, snapshot = null, bar = null;

  function incidentLayer() {
    const snap = snapshot && snapshot.data;
    if (!snap || !snap.n) return null;
    return new deck.ScatterplotLayer({
      id: "incidents", data: snapshot, coordinateSystem: deck.COORDINATE_SYSTEM.LNGLAT_OFFSETS,
      coordinateOrigin: [snap.origin[0], snap.origin[1], 0], radiusUnits: "pixels", getRadius: 4, pickable: false,
      getFillColor: (_, { index }) => P.incident_stages[snap.stages[snap.stage[index]]].concat(snap.overdue[index] ? 255 : 150),
      parameters: ON_TOP,
    });
  }

  function showDay(d) {
    S.day = d;
    const snap = Twin.timeline.snapshot(timeline, d == null ? timeline.now : Twin.timeline.dayEnd(timeline, d));
    snapshot = { data: snap, length: snap.n, attributes: { getPosition: { value: snap.positions, size: 2 } } };
    S.incidents = snap.n;
    redraw();
  }

  async function loadTimeline() {
    timeline = Twin.timeline.fromBinary(await Twin.fetchBinary("/api/dashboard/timeline.bin"));
    bar.setRange(timeline);
    showDay(S.day);
  }

  // A preview only: the server draws the real disc in its metric CRS.
  function discRing(c, r) {
    const dLat = r / 111320, dLon = r / (111320 * Math.cos((c[1] * Math.PI) / 180));
    const ring = [];
    for (let i = 0; i <= 64; i++) {
      const a = (2 * Math.PI * i) / 64;
      ring.push([c[0] + dLon * Math.cos(a), c[1] + dLat * Math.sin(a)]);
    }
    return ring;
  }

  function legend() {
    const states = Object.keys(P.property_states).map((code) => ({
      color: P.property_states[code], label: Twin.label("property_states", code) }));
    states.push({ color: NO_STATE, label: t("pl_no_compound") });
    Twin.renderLegend($("pl-legend"), [
      { title: t("pl_legend_states"), items: states },
      { items: [
        { color: P.grid_line, label: t("pl_legend_grid"), shape: "line" },
        { color: SLOT_COLOR.A, label: t("pl_slot", { slot: "A" }), shape: "line" },
        { color: SLOT_COLOR.B, label: t("pl_slot", { slot: "B" }), shape: "line" },
        { color: VERTEX, label: t("pl_legend_vertex"), shape: "circle" },
      ] },
      { title: t("pl_legend_incidents"), items: ["reported", "accepted", "on_site", "resolved", "closed"].map((s) => ({
        color: P.incident_stages[s], label: Twin.label("incident_stages", s), shape: "circle" })) },
    ]);
  }

  // ---- choosing an area --------------------------------------------------------------------------------------
  function onMapClick(info) {
    if (!info || !info.coordinate) return;
    const xy = [round6(info.coordinate[0]), round6(info.coordinate[1])];
    if (S.mode === "draw") {
      // The two clicks of a double-click land on one spot: keep one vertex there.
      const last = S.draftPixels[S.draftPixels.length - 1];
      if (last && Math.abs(last[0] - info.x) < 4 && Math.abs(last[1] - info.y) < 4) return;
      S.draft.push(xy);
      S.draftPixels.push([info.x, info.y]);
      draftChanged();
    } else if (S.mode === "point") {
      S.centre = xy;
      $("pl-centre").textContent = t("pl_centre", { lon: xy[0].toFixed(5), lat: xy[1].toFixed(5) });
      $("pl-disc").disabled = false;
      redraw();
    } else if (S.mode === "pick") {
      const hit = map.pickObject({ x: info.x, y: info.y, radius: 0, layerIds: ["buildings"] });
      if (hit && hit.object && hit.object.properties.id) { Twin.drilldown.open(hit.object.properties.id); return; }
      const g = gridAt(xy);
      if (!g) { Twin.showError(new Error(t("pl_no_grid_here"))); return; }
      query({ label: g.name, method: "GET", params: { grid: g.code } });
    }
  }

  const round6 = (v) => Math.round(v * 1e6) / 1e6;

  // Clicks are read from pointer events rather than deck's onClick, whose gesture recogniser holds back a tap
  // that may become a double tap: quick clicks would be lost. A press that moved more than a few pixels is a pan.
  function listenForClicks(el) {
    let down = null, clicks = 0;
    el.addEventListener("mousedown", (ev) => { clicks = ev.detail; });
    el.addEventListener("pointerdown", (ev) => { down = ev.button === 0 ? [ev.clientX, ev.clientY] : null; });
    el.addEventListener("pointerup", (ev) => {
      if (!down || Math.hypot(ev.clientX - down[0], ev.clientY - down[1]) > 4) { down = null; return; }
      down = null;
      const r = el.getBoundingClientRect();
      const x = ev.clientX - r.left, y = ev.clientY - r.top;
      const viewport = map.getViewports()[0];
      // The second click of a double-click (the browser counts it in mousedown's detail) only finishes: a corner
      // from it would sit a few pixels off the first one and make the polygon cross itself.
      if (clicks >= 2 && S.mode === "draw") return;
      if (viewport) onMapClick({ coordinate: viewport.unproject([x, y]), x, y });
    });
  }

  function draftChanged() {
    const n = S.draft.length;
    $("pl-vertices").textContent = n ? t("pl_vertices", { n }) : "";
    $("pl-vertices").dataset.count = String(n);
    $("pl-finish").disabled = n < 3;
    $("pl-undo").disabled = n === 0;
    redraw();
  }

  function clearDraft() {
    S.draft = [];
    S.draftPixels = [];
    draftChanged();
  }

  function removeVertex(i) {
    S.draft.splice(i, 1);
    S.draftPixels.splice(i, 1);
  }

  // Corners a few pixels from the previous one (or a last one back on the first) add nothing but a spike.
  const SAME_SPOT_PX = 6;
  function dropNearDuplicates() {
    const near = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1]) < SAME_SPOT_PX;
    for (let i = S.draft.length - 1; i > 0; i--) if (near(S.draftPixels[i], S.draftPixels[i - 1])) removeVertex(i);
    while (S.draft.length > 3 && near(S.draftPixels[S.draft.length - 1], S.draftPixels[0])) removeVertex(S.draft.length - 1);
  }

  function finish() {
    dropNearDuplicates();
    if (S.draft.length < 3) { draftChanged(); Twin.showError(new Error(t("pl_need3"))); return; }
    const ring = S.draft.concat([S.draft[0]]);
    const body = { type: "Polygon", coordinates: [ring] };
    clearDraft();
    query({ label: t("pl_drawn"), method: "POST", params: {}, body });
  }

  // A grid, community or compound chosen in the top bar's search box (search.js) becomes the area of this slot.
  const PICKABLE = ["grid", "community", "compound"];
  function pick(place) {
    if (!PICKABLE.includes(place.kind)) return;
    query({ label: place.label, method: "GET", params: { [place.kind]: place.id } });
  }

  function radius() {
    return Number($("pl-radius").value) || 0;
  }

  function disc() {
    if (!S.centre) return;
    const r = radius();
    query({ label: t("pl_disc", { lon: S.centre[0].toFixed(5), lat: S.centre[1].toFixed(5), r: Twin.fmt.int(r) }),
            method: "GET", params: { lon: S.centre[0], lat: S.centre[1], radius: $("pl-radius").value } });
  }

  function gridAt(xy) {
    for (const g of S.grids || []) {
      if (g.paths.some((ring) => inRing(xy, ring))) return g;
    }
    return null;
  }

  function inRing(p, ring) {
    let inside = false;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const [xi, yi] = ring[i], [xj, yj] = ring[j];
      if ((yi > p[1]) !== (yj > p[1]) && p[0] < ((xj - xi) * (p[1] - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  // ---- asking the server -------------------------------------------------------------------------------------
  function requestOf(spec, extra) {
    const q = new URLSearchParams(Object.assign({}, spec.params, { rule: spec.rule, lang: Twin.lang }, periodOf(spec),
                                                extra || {}));
    const opts = { method: spec.method, headers: Twin.authHeaders() };  // the signed-in person's cookie, or a tab token
    if (spec.method === "POST") opts.body = spec.body;
    return { url: "/api/area?" + q.toString(), opts };
  }

  // The incidents' period: the last N days up to today (office dates), or all of them.
  function periodOf(spec) {
    if (!spec.days) return {};
    const d = new Date(Date.now() - spec.days * 86400e3);
    const day = (x) => `${x.getFullYear()}-${String(x.getMonth() + 1).padStart(2, "0")}-${String(x.getDate()).padStart(2, "0")}`;
    return { from: day(d), to: day(new Date()) };
  }

  async function query(spec) {
    const slot = S.slot;
    spec.rule = $("pl-rule").value;
    spec.days = Number($("pl-period").value) || 0;
    const th = document.querySelector(`#pl-table th[data-slot="${slot}"]`);
    th.dataset.state = "loading";
    Twin.setStatus(t("pl_querying"));
    try {
      const req = requestOf(spec);
      const result = await Twin.fetchJSON(req.url, req.opts);
      S.areas[slot] = { spec, result, geometry: result.geometry };
      S.queries++;
      th.dataset.request = JSON.stringify(spec.method === "POST" ? spec.body : spec.params);
      th.dataset.state = "done";
      Twin.setStatus(t("pl_done"));
      render();
      redraw();
      if (spec.method === "GET") showArea(result.area.bbox);
    } catch (e) {
      th.dataset.state = "error";
      Twin.setStatus("");
      Twin.showError(e);
    }
  }

  // A picked area may lie off screen: fly to it (a drawn one is on screen already).
  function showArea(bbox) {
    const vp = map.getViewports()[0];
    if (!bbox || !vp) return;
    const [x0, y0, x1, y1] = vp.getBounds();
    if (bbox[0] >= x0 && bbox[1] >= y0 && bbox[2] <= x1 && bbox[3] <= y1) return;
    const el = $("map");
    const view = Twin.fitBounds(bbox, el, { pitch: 0, padding: Math.round(Math.min(el.clientWidth, el.clientHeight) / 4) });
    map.setProps({ initialViewState: Object.assign(view, {
      transitionDuration: 700, transitionInterpolator: new deck.FlyToInterpolator() }) });
  }

  async function download(slot, format) {
    const spec = S.areas[slot] && S.areas[slot].spec;
    if (!spec) return;
    try {
      const req = requestOf(spec, { format });
      const data = await Twin.fetchBinary(req.url, req.opts);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([data]));
      link.download = `area-${slot}.${format}`;
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (e) { Twin.showError(e); }
  }

  // ---- the results table ------------------------------------------------------------------------------------
  // Each row: [data-key, label, getter(fig) → value, kind]; kind: count (may be suppressed), m2, rate, num.
  const at = (path) => (fig) => path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), fig);
  // A code missing from one area's mix (property states, decades, categories) is none of them there: 0.
  const mix = (path) => (fig) => { const v = at(path)(fig); return v === undefined ? 0 : v; };

  function rows() {
    const figs = SLOTS.map((s) => S.areas[s] && S.areas[s].result).filter(Boolean);
    const keys = (path) => {
      const seen = new Set();
      for (const f of figs) for (const k of Object.keys(at(path)(f) || {})) seen.add(k);
      return Array.from(seen);
    };
    const out = [
      ["section", t("pl_sec_area")],
      ["area.area_m2", t("pl_area_m2"), at("area.area_m2"), "m2"],
      ["area.in_street_m2", t("pl_in_street_m2"), at("area.in_street_m2"), "m2"],
      ["section", t("pl_sec_buildings")],
      ["buildings.count", t("pl_b_count"), at("buildings.count"), "num"],
      ["buildings.floor_area_m2", t("pl_floor_area"), at("buildings.floor_area_m2"), "m2"],
      ["section", t("pl_sec_people")],
    ];
    for (const k of ["households", "population", "elderly_alone", "floating", "key_group"]) {
      out.push(["people." + k, t("pl_" + k), at("people." + k), "count"]);
    }
    out.push(["section", t("pl_sec_states")]);
    const stateOrder = Object.keys(P.property_states).concat(["none"]);
    for (const k of keys("property_states").sort((a, b) => stateOrder.indexOf(a) - stateOrder.indexOf(b))) {
      const label = k === "none" ? t("pl_no_compound") : Twin.label("property_states", k);
      out.push(["property_states." + k, label, mix(`property_states.${k}.buildings`), "num", P.property_states[k]]);
    }
    out.push(["section", t("pl_sec_decades")]);
    const decadeOrder = Object.keys(Twin.config.vocab.build_decades);
    for (const k of keys("build_decades").sort((a, b) => decadeOrder.indexOf(a) - decadeOrder.indexOf(b))) {
      const label = Twin.label("build_decades", k);
      out.push(["build_decades." + k, label, mix(`build_decades.${k}.buildings`), "num"]);
    }
    out.push(["section", t("pl_sec_compounds")],
             ["compounds.count", t("pl_c_count"), at("compounds.count"), "num"],
             ["compounds.whole", t("pl_c_whole"), at("compounds.whole"), "num"],
             ["compounds.partly", t("pl_c_partly"), at("compounds.partly"), "num"],
             ["section", t("pl_sec_incidents")],
             ["incidents.total", t("pl_i_total"), at("incidents.total"), "num"],
             ["incidents.open", t("pl_i_open"), at("incidents.open"), "num"],
             ["incidents.overdue", t("pl_i_overdue"), at("incidents.overdue"), "num"],
             ["incidents.closure_rate", t("pl_closure"), at("incidents.closure_rate"), "rate"]);
    for (const k of ["accept", "on_site", "resolve"]) {
      out.push(["incidents.on_time." + k, t("pl_" + k), at("incidents.on_time." + k), "rate"]);
    }
    const cats = keys("incidents.by_category").filter((k) => figs.some((f) => at(`incidents.by_category.${k}`)(f)));
    if (cats.length) {
      out.push(["section", t("pl_sec_categories")]);
      cats.sort((a, b) => total(b) - total(a));
      for (const k of cats) {
        out.push(["incidents.by_category." + k, Twin.label("incident_categories", k),
                  mix(`incidents.by_category.${k}`), "num"]);
      }
    }
    function total(k) { return figs.reduce((s, f) => s + (at(`incidents.by_category.${k}`)(f) || 0), 0); }
    out.push(["section", t("pl_sec_risk")]);
    for (const lv of RISK_LEVELS) out.push(["risk.by_level." + lv, Twin.label("risk_levels", lv), at("risk.by_level." + lv), "num",
                                            P.risk_levels[lv]]);
    return out;
  }

  function show(value, kind, fig) {
    if (value === null || value === undefined) {
      return kind === "count" && fig.suppressed ? t("pl_suppressed") : "–";
    }
    if (kind === "rate") return Twin.fmt.pct(value);
    if (kind === "m2") return Twin.fmt.int(value);
    return Number.isInteger(value) ? Twin.fmt.int(value) : Twin.fmt.num(value);
  }

  function render() {
    const table = $("pl-table");
    const any = SLOTS.some((s) => S.areas[s]);
    table.hidden = !any;
    $("pl-empty").hidden = any;
    table.classList.toggle("compare", SLOTS.every((s) => S.areas[s]));
    for (const s of SLOTS) {
      const th = table.querySelector(`th[data-slot="${s}"]`);
      const a = S.areas[s];
      th.replaceChildren(Twin.el("span", "slot-name", t("pl_slot", { slot: s })));
      th.style.setProperty("--c", Twin.css(SLOT_COLOR[s]));
      th.classList.toggle("empty", !a);
      if (a) th.appendChild(Twin.el("span", "slot-label", a.spec.label));
    }
    const body = [];
    for (const [key, label, get, kind, color] of rows()) {
      const tr = Twin.el("tr");
      if (key === "section") {
        tr.className = "section";
        const th = Twin.el("th", null, label);
        th.colSpan = 3;
        tr.appendChild(th);
        body.push(tr);
        continue;
      }
      tr.dataset.key = key;
      const th = Twin.el("th", null, label);
      if (color) { const sw = Twin.el("span", "swatch"); sw.style.setProperty("--c", Twin.css(color)); th.prepend(sw); }
      tr.appendChild(th);
      for (const s of SLOTS) {
        const fig = S.areas[s] && S.areas[s].result;
        const value = fig ? get(fig) : undefined;
        const td = Twin.el("td", "slot-" + s, fig ? show(value, kind, fig) : "");
        td.dataset.slot = s;
        if (fig) td.dataset.value = value === undefined ? "" : JSON.stringify(value);
        tr.appendChild(td);
      }
      body.push(tr);
    }
    body.push(exportRow());
    table.tBodies[0].replaceChildren(...body);
    notes();
  }

  function exportRow() {
    const tr = Twin.el("tr", "exports");
    tr.appendChild(Twin.el("th", null, t("pl_export")));
    for (const s of SLOTS) {
      const td = Twin.el("td", "slot-" + s);
      if (S.areas[s]) {
        for (const f of FORMATS) {
          const b = Twin.el("button", "link", f === "geojson" ? "GeoJSON" : f.toUpperCase());
          b.type = "button";
          b.dataset.format = f;
          b.dataset.slot = s;
          b.addEventListener("click", () => download(s, f));
          td.appendChild(b);
        }
      }
      tr.appendChild(td);
    }
    return tr;
  }

  function notes() {
    const out = [];
    const figs = SLOTS.map((s) => [s, S.areas[s] && S.areas[s].result]).filter((x) => x[1]);
    if (figs.some(([, f]) => f.suppressed)) out.push(Twin.el("p", "note", t("pl_note_suppressed")));
    const rules = Array.from(new Set(figs.map(([, f]) => f.rule)));
    if (rules.length) out.push(Twin.el("p", "note", t("pl_note_rule", { rule: rules.map((r) => t("pl_rule_" + r)).join(" / ") })));
    for (const [s, f] of figs) {
      if (!f.area.repaired) continue;
      const reason = Twin.label("area_repairs", f.area.repair_code || "invalid"); // words, not the geometry library's
      out.push(Twin.el("p", "note warn", t("pl_note_repaired", { slot: s, reason })));
    }
    for (const [s, f] of figs) {
      if (!f.compounds_list || !f.compounds_list.length) continue;
      const box = Twin.el("div", "compounds slot-" + s);
      box.appendChild(Twin.el("h3", null, t("pl_compounds_in", { slot: s })));
      const ul = Twin.el("ul");
      for (const c of f.compounds_list.slice(0, 12)) {
        const li = Twin.el("li");
        const sw = Twin.el("span", "swatch");
        sw.style.setProperty("--c", Twin.css(P.property_states[c.state] || NO_STATE));
        li.append(sw, Twin.el("span", "c-name", c.name || c.compound_id),
                  Twin.el("span", "c-share", c.whole ? t("pl_whole") : t("pl_share", { pct: Twin.fmt.pct(c.share, 0) })));
        ul.appendChild(li);
      }
      box.appendChild(ul);
      out.push(box);
    }
    $("pl-notes").replaceChildren(...out);
  }

  // ---- controls -------------------------------------------------------------------------------------------------
  function setMode(mode) {
    S.mode = mode;
    for (const b of $("pl-mode").querySelectorAll("button")) b.classList.toggle("on", b.dataset.mode === mode);
    for (const body of document.querySelectorAll(".pl-mode-body")) body.hidden = body.dataset.mode !== mode;
    document.body.dataset.mode = mode;
    redraw();
  }

  function setSlot(slot) {
    S.slot = slot;
    for (const b of $("pl-slot").querySelectorAll("button")) b.classList.toggle("on", b.dataset.slot === slot);
    redraw();
  }

  async function load() {
    Twin.setStatus(t("loading"));
    const [buildings, grids] = await Promise.all([
      Twin.fetchJSON("/api/dashboard/buildings.geojson"), Twin.fetchJSON("/api/dashboard/grids.json")]);
    S.buildings = buildings.features;
    S.grids = grids.grids;
    redraw();
    Twin.setStatus("");
    document.body.dataset.planner = "ready";
  }

  function init() {
    const el = $("map");
    legend();
    // Frame the street clear of the tool panel (top) and the legend (bottom left), where clicks cannot land.
    const gap = 16;
    const padding = { top: Math.min($("pl-tools").offsetHeight + 2 * gap, 0.45 * el.clientHeight),
                      left: Math.min($("pl-legend").offsetWidth + 2 * gap, 0.4 * el.clientWidth),
                      right: gap, bottom: gap };
    const view = Twin.fitBounds(C.bbox, el, { pitch: 0, padding });
    map = Twin.createMap(el, { initialViewState: view });
    S.project = (lonlat) => map.getViewports()[0].project(lonlat); // [x, y] in #map (for tests)
    // Clicks draw, so a double-click finishes the polygon instead of zooming.
    map.setProps({ controller: { dragRotate: true, touchRotate: true, inertia: true, doubleClickZoom: false } });
    listenForClicks(el);
    el.addEventListener("dblclick", (ev) => {
      if (S.mode === "draw") { ev.preventDefault(); finish(); }
    });
    for (const b of $("pl-mode").querySelectorAll("button")) b.addEventListener("click", () => setMode(b.dataset.mode));
    for (const b of $("pl-slot").querySelectorAll("button")) b.addEventListener("click", () => setSlot(b.dataset.slot));
    $("pl-finish").addEventListener("click", finish);
    $("pl-undo").addEventListener("click", () => { removeVertex(S.draft.length - 1); draftChanged(); });
    $("pl-clear").addEventListener("click", clearDraft);
    document.addEventListener("twin:place", (e) => pick(e.detail));
    $("pl-disc").addEventListener("click", disc);
    $("pl-radius").addEventListener("input", redraw);
    document.addEventListener("keydown", (ev) => {
      if (S.mode !== "draw" || ev.target.closest("input, select")) return;
      if (ev.key === "Enter") finish();
      if (ev.key === "Escape") clearDraft();
    });
    render();
    bar = Twin.timeBar($("timebar"), { onChange: showDay });
    load().then(loadTimeline).catch((e) => { Twin.setStatus(t("error"), "error"); Twin.showError(e); });
  }

  init();
})();
