/* The wall dashboard: 3D buildings coloured by a chosen mode, grids, incidents, a KPI panel and a legend.
 *
 * Data (web/dashboard.py): buildings.bin (or buildings.geojson with ?transport=geojson), risk.bin,
 * incidents.bin, grids.json and kpis, each fetched with If-None-Match every Twin.config.refreshSeconds; a 304
 * keeps what the page holds, so layers are rebuilt only from changed data and the camera never moves.
 *
 * Leak discipline for a screen left on for weeks: one refresh timer (Twin.every), one clock, at most one
 * animation frame pending for the overdue pulse; DOM nodes of the KPI panel are made once and updated in place;
 * the layer list always has the same ids, so deck.gl reuses its layers and GPU buffers.
 *
 * District scale: building colours and heights are binary per-vertex attributes (a colour-mode switch uploads one
 * new colour array; nothing is tessellated again); the overdue pulse re-creates only the small "overdue" layer and
 * runs only on a street-sized map (PULSE_MAX_BUILDINGS; ?pulse=1 forces it), so an idle district page draws nothing
 * between refreshes; resolved and closed incidents are drawn only when zoomed in (DONE_ZOOM) past street scale;
 * a larger map draws its footprints flat below EXTRUDE_ZOOM, where heights would be a pixel or two.
 * Time bar (timeline.js): /api/dashboard/timeline.bin is fetched when first used; a chosen day replaces the live
 * incidents by that day's snapshot and the KPI panel by the figures at that day's end (counted over the drawn
 * incidents; what the year's timeline cannot know shows "–").
 *
 * window.twinDashboard exposes counters for tests and benchmarks: refreshes, drawnAt (ms since navigation of the
 * first frame with buildings drawn), frames (deck.gl frames drawn), labelBoxes ([x, y, width, px] of the placed grid
 * codes), dataAt (ms since navigation when the buildings were fetched and decoded), layerIds, kpis (the figures shown), changes (how many data updates arrived),
 * incidents (points shown), view() (the camera), deckLayers() (layers deck holds), refreshNow(), findPoint(layerId).
 * twinDashboard.legend: {byStage, overdue, hidden: {open, overdue}} as the legend shows them; playDay(d) /
 * playDay(null) (live), timeline() (the decoded year) for tests.
 * URL options: ?mode=property|risk|decade|care, ?hex=1, ?grids=0, ?pulse=0|1, ?transport=geojson, ?day=N.
 */
(function () {
  "use strict";

  const C = Twin.config;
  const P = Twin.palette;
  const params = new URLSearchParams(window.location.search);
  const NONE = 255;
  const MODES = ["property", "risk", "decade", "care"];
  const DIM = [95, 105, 125];

  Twin.addStrings({
    zh: {
      legend_property: "物业状态", legend_risk: "风险等级", legend_decade: "建成年代", legend_care: "特殊关爱户占比",
      legend_incidents: "事件（近30天及在办）", legend_overdue: "超时未办", legend_grid: "网格边界",
      legend_hex: "事件密度", unknown: "未知",
      tt_compound: "小区", tt_floors: "层数", tt_households: "户数", tt_property: "物业", tt_risk: "风险",
      tt_decade: "年代", tt_factors: "主要风险因素", tt_points: "{n}分", tt_stage: "阶段", tt_category: "类别",
      tt_reported: "上报", tt_overdue: "已超时", tt_grid: "网格", tt_count: "事件数",
      tt_worker: "网格员", tt_open: "在办事件", tt_number: "编号", tt_building: "楼栋", tt_due: "下一时限",
      tt_overdue_by: "已超时 {d}", tt_min: "{n}分钟", tt_hour: "{n}小时", tt_day: "{n}天",
      k_open: "在办事件", k_overdue: "当前超时", k_on_time: "按时率", k_today: "今日", k_month: "本月",
      k_accept: "受理", k_on_site: "到场", k_resolve: "办结", k_closure: "本月办结率", k_rating: "本月满意度",
      k_six_nos: "本季“六无”达标小区", k_care: "今日关爱未应答", k_reported: "今日 / 本月上报",
      k_risk: "高 / 极高风险楼栋", k_at: "数据时间 {time}",
      hidden_note: "另有 {open} 件在办事件（其中 {overdue} 件超时）计入指标但不在地图上显示：求助、关爱走访等涉及住户的事件，或无位置的事件。",
      done_zoom: "（放大后显示）", k_playback: "回放 {day}", k_playback_at: "回放 {time}：只计地图上绘制的事件；满意度、六无、关爱不回放",
    },
    en: {
      legend_property: "Property management", legend_risk: "Risk level", legend_decade: "Build decade",
      legend_care: "Share of special-care households", legend_incidents: "Incidents (open and last 30 days)",
      legend_overdue: "Overdue", legend_grid: "Grid boundary", legend_hex: "Incident density", unknown: "Unknown",
      tt_compound: "Compound", tt_floors: "Floors", tt_households: "Households", tt_property: "Property",
      tt_risk: "Risk", tt_decade: "Built", tt_factors: "Top risk factors", tt_points: "{n} pts", tt_stage: "Stage",
      tt_category: "Category", tt_reported: "Reported", tt_overdue: "Overdue", tt_grid: "Grid", tt_count: "Incidents",
      tt_worker: "Grid worker", tt_open: "Open incidents", tt_number: "Number", tt_building: "Building",
      tt_due: "Next deadline", tt_overdue_by: "{d} overdue", tt_min: "{n} min", tt_hour: "{n} h", tt_day: "{n} d",
      k_open: "Open incidents", k_overdue: "Overdue now", k_on_time: "On time", k_today: "Today",
      k_month: "Month", k_accept: "Accept", k_on_site: "On site", k_resolve: "Resolve",
      k_closure: "Closed this month", k_rating: "Mean rating", k_six_nos: "Six-nos compounds this quarter",
      k_care: "Care calls unanswered today", k_reported: "Reported today / month", k_risk: "High / critical-risk buildings",
      k_at: "Data as of {time}",
      hidden_note: "A further {open} open incidents ({overdue} overdue) are counted in the figures but not drawn: SOS calls, care visits and other incidents about a household, or without a place.",
      done_zoom: " (shown when zoomed in)", k_playback: "Replay {day}",
      k_playback_at: "Replay {time}: counts only the incidents drawn; rating, six-nos and care are not replayed",
    },
  });
  const t = Twin.t;

  // ---- state ---------------------------------------------------------------------------------------------
  const S = {
    mode: MODES.includes(params.get("mode")) ? params.get("mode") : "property",
    hex: params.get("hex") === "1",
    grids: params.get("grids") !== "0",
    pulse: params.get("pulse") === "1" ? true : params.get("pulse") === "0" ? false : null, // null: by map size
    live: null, timeline: null, day: null, // live incidents.bin model; the decoded year; the day shown (null = live)
    buildings: null, risk: null, incidents: null, grids_data: null, kpis: null,
    colorKey: 0, // bumps whenever building colours must be recomputed (mode or risk changed)
  };
  const stats = (window.twinDashboard = {
    refreshes: 0, changes: 0, drawnAt: null, dataAt: null, layerIds: [], kpis: null, transport: C.transport, counts: {},
    legend: null, pulsing: false, timelineBytes: null, frames: 0, labelBoxes: [],
  });
  const PULSE_MAX_BUILDINGS = 5000; // above this the overdue rings stand still: a pulse would redraw every building
  const DONE_ZOOM = 16.5; // resolved and closed incidents are drawn from this zoom on (closer than a whole street)
  const MAX_POINTS = 60000; // more incidents than this in a snapshot are drawn as density only
  const EXTRUDE_ZOOM = 14; // a larger map draws footprints flat below this zoom (a building's height is a pixel or two)

  // ---- TWB1 decoding (web/transport.py) --------------------------------------------------------------------
  const decode = Twin.twb1; // timeline.js

  function buildingsFromBinary(buf) {
    const { header: h, arrays: a } = decode(buf);
    return {
      n: h.count, origin: h.origin, names: h.names, ids: h.ids, compounds: h.compounds, states: h.states,
      ...(a.positions ? { positions: a.positions, starts: a.starts } : ringOffsets(a, h.quantum)), height: a.height, floors: a.floors, households: a.households,
      state: a.state, decade: a.decade, care: a.care, compound: a.compound,
      gridOf: (i) => (a.grid && a.grid[i] !== 65535 ? h.grids[a.grid[i]] : null),
    };
  }

  // Quantized rings (web/transport.py quantized_rings) back to float32 offsets in degrees and start indices.
  function ringOffsets(a, quantum) {
    const counts = a.ring_counts, first = a.ring_first, steps = a.ring_steps;
    const starts = new Uint32Array(counts.length + 1), positions = new Float32Array(steps.length);
    let fx = 0, fy = 0, v = 0;
    for (let r = 0; r < counts.length; r++) {
      starts[r] = v;
      fx += first[2 * r]; fy += first[2 * r + 1];
      let x = fx, y = fy;
      for (const end = v + counts[r]; v < end; v++) {
        x += steps[2 * v]; y += steps[2 * v + 1];
        positions[2 * v] = x * quantum; positions[2 * v + 1] = y * quantum;
      }
    }
    starts[counts.length] = v;
    return { positions, starts };
  }

  // The plain-GeoJSON baseline: the same model built from a FeatureCollection (outer ring of the largest part).
  function buildingsFromGeoJSON(fc) {
    const feats = fc.features || [];
    const n = feats.length;
    const rings = feats.map((f) => outerRing(f.geometry));
    let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity, total = 0;
    for (const r of rings) {
      total += r.length;
      for (const [x, y] of r) {
        if (x < minx) minx = x; if (x > maxx) maxx = x; if (y < miny) miny = y; if (y > maxy) maxy = y;
      }
    }
    const origin = total ? [(minx + maxx) / 2, (miny + maxy) / 2] : [0, 0];
    const positions = new Float32Array(total * 2), starts = new Uint32Array(n + 1);
    const m = { n, origin, names: [], ids: [], compounds: [], states: fc.states, positions, starts,
                height: new Float32Array(n), floors: new Uint16Array(n), households: new Uint16Array(n),
                state: new Uint8Array(n), decade: new Uint8Array(n), care: new Uint8Array(n), compound: new Int32Array(n) };
    const compoundIx = new Map(), gridCodes = [];
    m.gridOf = (i) => gridCodes[i] || null;
    let v = 0;
    feats.forEach((f, i) => {
      starts[i] = v;
      for (const [x, y] of rings[i]) { positions[2 * v] = x - origin[0]; positions[2 * v + 1] = y - origin[1]; v++; }
      const p = f.properties || {};
      m.names.push(p.name);
      m.ids.push(p.id);
      gridCodes.push(p.grid);
      if (p.compound != null && !compoundIx.has(p.compound)) { compoundIx.set(p.compound, m.compounds.length); m.compounds.push(p.compound); }
      m.compound[i] = p.compound != null ? compoundIx.get(p.compound) : -1;
      m.height[i] = p.height; m.floors[i] = p.floors; m.households[i] = p.households;
      const s = fc.states.indexOf(p.state);
      m.state[i] = s < 0 ? NONE : s; m.decade[i] = p.decade; m.care[i] = p.care;
    });
    starts[n] = v;
    return m;
  }

  function outerRing(g) {
    if (!g) return [];
    if (g.type === "Polygon") return g.coordinates[0] || [];
    if (g.type === "MultiPolygon") {
      let best = [], bestArea = -1;
      for (const poly of g.coordinates) {
        const a = Math.abs(ringArea(poly[0] || []));
        if (a > bestArea) { best = poly[0]; bestArea = a; }
      }
      return best;
    }
    return [];
  }

  function ringArea(r) {
    let s = 0;
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) s += (r[j][0] - r[i][0]) * (r[j][1] + r[i][1]);
    return s / 2;
  }

  function riskFromBinary(buf) {
    const { header: h, arrays: a } = decode(buf);
    return { n: h.count, levels: h.levels, factors: h.factors, byLevel: h.by_level, score: a.score, level: a.level,
             factor: a.factor, points: a.points };
  }

  function incidentsFromBinary(buf) {
    const { header: h, arrays: a } = decode(buf);
    const overdueIx = [];
    for (let i = 0; i < h.count; i++) if (a.overdue[i]) overdueIx.push(i);
    const openIn = new Map(); // building position → open incidents shown there (for the building tooltip)
    for (let i = 0; i < h.count; i++) {
      const s = h.stages[a.stage[i]];
      if (a.building && a.building[i] >= 0 && s !== "resolved" && s !== "closed") openIn.set(a.building[i], (openIn.get(a.building[i]) || 0) + 1);
    }
    return { n: h.count, open: h.open ?? h.count, origin: h.origin, stages: h.stages, categories: h.categories,
             overdueCount: h.overdue, positions: a.positions, stage: a.stage, overdue: a.overdue, category: a.category,
             reported: a.reported, overdueIx, hidden: h.hidden || null, lonlat: null, ids: h.ids || [],
             building: a.building, due: a.due, lateSince: a.late_since, at: Date.parse(h.at) / 1000, openIn };
  }

  // Grid codes: LABEL_PX tall at street zoom, growing with the zoom up to LABEL_MAX_PX (readable from 5 m on a
  // 1080p wall); collision-free: after each camera move the labels are placed greedily, bigger grids first, and a
  // label whose box would overlap one already placed is left out (the bundled deck.gl has no CollisionFilterExtension).
  const LABEL_PX = 20, LABEL_MAX_PX = 40;

  function gridsFromJSON(doc) {
    const paths = [], labels = [];
    for (const g of doc.grids || []) {
      let minx = Infinity, miny = Infinity, maxx = -Infinity, maxy = -Infinity;
      for (const p of g.paths || []) {
        paths.push({ path: p, grid: g });
        for (const [x, y] of p) { minx = Math.min(minx, x); maxx = Math.max(maxx, x); miny = Math.min(miny, y); maxy = Math.max(maxy, y); }
      }
      if (g.label) labels.push({ position: g.label, grid: g, text: shortCode(g.code), area: (maxx - minx) * (maxy - miny) });
    }
    labels.sort((a, b) => b.area - a.area);
    const edges = gridEdges(paths);
    const byCode = new Map((doc.grids || []).map((g) => [g.code, g]));
    return { paths, labels, count: (doc.grids || []).length, edges: edges.all, outline: edges.outline, byCode };
  }

  // The grid outlines as distinct segments (a border two grids share is drawn once), float32 offsets from an
  // origin for a LineLayer's binary attributes; `outline`: the segments on a community's border (the district
  // view draws only those: its ~50,000 grid segments cost seconds a frame in software WebGL).
  function gridEdges(paths) {
    const owner = new Map(), xy = [], border = [];
    let ox = 0, oy = 0, n = 0;
    for (const { path } of paths) for (const [x, y] of path) { ox += x; oy += y; n++; }
    const origin = n ? [ox / n, oy / n] : [0, 0];
    for (const { path, grid } of paths) {
      for (let i = 1; i < path.length; i++) {
        const a = path[i - 1], b = path[i];
        const ka = a[0] + "," + a[1], kb = b[0] + "," + b[1];
        const key = ka < kb ? ka + ";" + kb : kb + ";" + ka;
        if (ka === kb) continue;
        if (owner.has(key)) { // shared: a community border when the other grid is another community's
          const j = owner.get(key);
          border[j] = border[j] === grid.community ? false : true;
          continue;
        }
        owner.set(key, border.length);
        border.push(grid.community); // alone so far: on the street's edge, so a border unless shared within
        xy.push(a[0] - origin[0], a[1] - origin[1], b[0] - origin[0], b[1] - origin[1]);
      }
    }
    const lines = (keep) => {
      const idx = [];
      for (let i = 0; i < border.length; i++) if (keep(border[i])) idx.push(i);
      const source = new Float32Array(2 * idx.length), target = new Float32Array(2 * idx.length);
      idx.forEach((i, k) => {
        source[2 * k] = xy[4 * i]; source[2 * k + 1] = xy[4 * i + 1];
        target[2 * k] = xy[4 * i + 2]; target[2 * k + 1] = xy[4 * i + 3];
      });
      return { origin, length: idx.length, attributes: { getSourcePosition: { value: source, size: 2 }, getTargetPosition: { value: target, size: 2 } } };
    };
    return { all: lines(() => true), outline: lines((b) => b !== false) };
  }

  // Every grid's outline once grids are GRID_PX across on screen; before that, only the communities' borders.
  const GRID_PX = 30;
  function gridLinesShown(g) {
    const bb = C.bbox, cos = Math.cos(((bb[1] + bb[3]) / 2) * Math.PI / 180);
    const gridM = Math.sqrt(((bb[2] - bb[0]) * 111320 * cos * (bb[3] - bb[1]) * 110540) / Math.max(g.count, 1));
    return zoom >= Math.log2((GRID_PX * 156543.03 * cos) / Math.max(gridM, 1));
  }

  const labelPx = () => Math.max(LABEL_PX, Math.min(LABEL_MAX_PX, LABEL_PX + (zoom - 15) * 6));

  // The labels that fit without overlapping at the current camera (screen boxes in a hash of box-sized cells).
  function placeLabels(g) {
    const vp = map && map.getViewports()[0];
    if (!vp) return [];
    const px = labelPx(), h = px * 1.6, cells = new Map(), out = [], boxes = []; // a label and some air around it
    for (const l of g.labels) {
      const w = px * 0.62 * l.text.length + px;
      const [x, y] = vp.project(l.position);
      if (!(x > -w && y > -h && x < vp.width + w && y < vp.height + h)) continue;
      const cx = Math.floor(x / (px * 6)), cy = Math.floor(y / h);
      let free = true;
      for (let i = cx - 1; i <= cx + 1 && free; i++) {
        for (let j = cy - 1; j <= cy + 1 && free; j++) {
          for (const b of cells.get(i + "," + j) || []) if (Math.abs(b[0] - x) < (b[2] + w) / 2 && Math.abs(b[1] - y) < h) { free = false; break; }
        }
      }
      if (!free) continue;
      const key = cx + "," + cy;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push([x, y, w]);
      out.push(l);
      boxes.push([x, y, w, px]);
    }
    stats.labelBoxes = boxes;
    return out;
  }

  // ---- colours and legend --------------------------------------------------------------------------------
  const LEVEL_COLORS = C.levels.map((lv) => P.risk_levels[lv]);
  const CARE_COLORS = [DIM, P.density[1], P.density[3], P.density[5], P.density[6]];
  const STATE_COLORS = () => S.buildings.states.map((s) => P.property_states[s]);

  // Bin codes in the order of the index each building carries (labels: twin/vocab.py, served in Twin.config).
  const DECADE_CODES = Object.keys(Twin.config.vocab.build_decades).filter((c) => c !== "unknown");
  const CARE_CODES = Object.keys(Twin.config.vocab.care_bins);
  const decadeLabel = (i) => Twin.label("build_decades", DECADE_CODES[i]);

  // Classes of the current mode: {title, colors[k], labels[k], classOf(i) -> k or NONE}.
  function classes() {
    const b = S.buildings;
    if (S.mode === "risk" && S.risk && S.risk.n === b.n) {
      return { title: t("legend_risk"), colors: LEVEL_COLORS, labels: C.levels.map((lv) => Twin.label("risk_levels", lv)),
               classOf: (i) => S.risk.level[i] };
    }
    if (S.mode === "decade") {
      return { title: t("legend_decade"), colors: P.decades, labels: DECADE_CODES.map((_, i) => decadeLabel(i)),
               classOf: (i) => b.decade[i] };
    }
    if (S.mode === "care") {
      return { title: t("legend_care"), colors: CARE_COLORS, labels: CARE_CODES.map((c) => Twin.label("care_bins", c)),
               classOf: (i) => b.care[i] };
    }
    return { title: t("legend_property"), colors: STATE_COLORS(), labels: b.states.map((s) => Twin.label("property_states", s)),
             classOf: (i) => b.state[i] };
  }

  // Per-vertex RGBA of every footprint (deck.gl's binary polygon attributes are per vertex): a new array per
  // colour change, so deck.gl uploads it and touches nothing else of the building layer.
  let vertexColors = null;

  function colourBuildings() {
    const b = S.buildings, cls = classes(), starts = b.starts;
    const out = new Uint8Array(starts[b.n] * 4);
    const counts = new Array(cls.colors.length).fill(0);
    let unknown = 0;
    for (let i = 0; i < b.n; i++) {
      const k = cls.classOf(i);
      const c = k !== NONE && cls.colors[k] ? cls.colors[k] : DIM;
      if (k !== NONE && cls.colors[k]) counts[k]++; else unknown++;
      for (let v = starts[i], end = starts[i + 1]; v < end; v++) {
        out[4 * v] = c[0]; out[4 * v + 1] = c[1]; out[4 * v + 2] = c[2]; out[4 * v + 3] = 240;
      }
    }
    vertexColors = out;
    S.colorKey++;
    stats.counts = { mode: S.mode, classes: counts, unknown };
    return { cls, counts, unknown };
  }

  let legendInfo = null;

  function renderLegend() {
    if (!legendInfo) return;
    const { cls, counts, unknown } = legendInfo;
    const items = cls.colors.map((c, k) => ({ color: c, label: cls.labels[k], count: counts[k] }));
    if (unknown) items.push({ color: DIM, label: t("unknown"), count: unknown });
    const sections = [{ title: cls.title, items }];
    const inc = S.incidents;
    if (inc) {
      const byStage = new Array(inc.stages.length).fill(0);
      for (let i = 0; i < inc.n; i++) byStage[inc.stage[i]]++;
      const stageItems = inc.stages.map((s, k) => ({ color: P.incident_stages[s], count: byStage[k], shape: "circle",
        label: Twin.label("incident_stages", s) + (k >= 3 && zoom < DONE_ZOOM ? t("done_zoom") : "") }));
      stageItems.push({ color: P.overdue, label: t("legend_overdue"), count: inc.overdueCount, shape: "ring" });
      const title = S.day == null ? t("legend_incidents") : t("k_playback", { day: dayText(S.day) });
      sections.push({ title, items: stageItems });
      stats.legend = { byStage: Object.fromEntries(inc.stages.map((s, k) => [s, byStage[k]])),
                       overdue: inc.overdueCount, hidden: inc.hidden };
    }
    if (S.hex || (inc && inc.n > MAX_POINTS)) sections.push({ title: t("legend_hex"), ramp: P.density });
    if (S.grids && S.grids_data) sections.push({ items: [{ color: P.grid_line, label: t("legend_grid"), shape: "line",
                                                           count: S.grids_data.count }] });
    const legend = document.getElementById("legend");
    Twin.renderLegend(legend, sections);
    const hidden = inc && inc.hidden;
    if (hidden && hidden.open !== 0) { // say what the KPIs count that the map does not draw (small counts as "<3")
      const n = (v) => (v == null ? "<3" : Twin.fmt.int(v));
      const note = Twin.el("p", "legend-note", t("hidden_note", { open: n(hidden.open), overdue: n(hidden.overdue) }));
      note.dataset.hiddenOpen = hidden.open ?? ""; note.dataset.hiddenOverdue = hidden.overdue ?? "";
      legend.appendChild(note);
    }
  }

  // ---- layers ------------------------------------------------------------------------------------------------
  const OFFSETS = deck.COORDINATE_SYSTEM.LNGLAT_OFFSETS;
  const ON_TOP = { depthCompare: "always" }; // points and labels stay visible in front of 3D buildings
  let buildingData = null, incidentData = null, hexData = null;

  const extruded = () => S.buildings.n <= PULSE_MAX_BUILDINGS || zoom >= EXTRUDE_ZOOM;

  // Footprints, heights and colours all as binary per-vertex attributes: no accessor runs per building. The data
  // object stays the same while the buildings do; a colour change swaps in the new colour array only.
  function buildingLayer() {
    const b = S.buildings;
    if (!buildingData || buildingData.src !== b) {
      const nv = b.starts[b.n], elevation = new Float32Array(nv);
      for (let i = 0; i < b.n; i++) elevation.fill(b.height[i], b.starts[i], b.starts[i + 1]);
      buildingData = { src: b, length: b.n, startIndices: b.starts,
                       attributes: { getPolygon: { value: b.positions, size: 2 }, getElevation: { value: elevation, size: 1 } } };
    }
    if (buildingData.attributes.getFillColor?.value !== vertexColors) {
      buildingData.attributes.getFillColor = { value: vertexColors, size: 4, normalized: true };
    }
    return new deck.SolidPolygonLayer({
      id: "buildings", data: buildingData, _normalize: false, _windingOrder: "CW",
      coordinateSystem: OFFSETS, coordinateOrigin: [b.origin[0], b.origin[1], 0],
      extruded: extruded(), wireframe: false, pickable: true, autoHighlight: true, highlightColor: [255, 255, 255, 90],
      updateTriggers: { getFillColor: S.colorKey },
      material: { ambient: 0.45, diffuse: 0.6, shininess: 24, specularColor: [60, 70, 90] },
    });
  }

  // Open incidents always; resolved and closed ones (after the open ones in the arrays) only from DONE_ZOOM on.
  // Aggregated to the density layer alone when a snapshot holds more than MAX_POINTS.
  function incidentLayers() {
    const inc = S.incidents;
    if (!inc || !inc.n || inc.n > MAX_POINTS) return [];
    if (!incidentData || incidentData.src !== inc) {
      const part = (first, count) => ({ first, length: count,
        attributes: { getPosition: { value: inc.positions.subarray(2 * first, 2 * (first + count)), size: 2 } } });
      incidentData = { src: inc, open: part(0, inc.open), done: part(inc.open, inc.n - inc.open) };
    }
    const origin = [inc.origin[0], inc.origin[1], 0];
    const points = (id, data, visible) => new deck.ScatterplotLayer({
      id, data, coordinateSystem: OFFSETS, coordinateOrigin: origin, visible,
      radiusUnits: "pixels", stroked: true, lineWidthUnits: "pixels", getLineWidth: 1, pickable: true,
      parameters: ON_TOP,
      getRadius: (_, { index }) => (inc.overdue[data.first + index] ? 8 : data.first ? 3 : 6),
      getFillColor: (_, { index }) => P.incident_stages[inc.stages[inc.stage[data.first + index]]].concat(data.first ? 150 : 255),
      getLineColor: (_, { index }) => (inc.overdue[data.first + index] ? [255, 255, 255, 255] : [10, 14, 24, 200]),
    });
    return [points("incidents", incidentData.open, true), points("incidents-done", incidentData.done, zoom >= DONE_ZOOM)];
  }

  // The overdue rings: the only layer the pulse re-creates (radiusScale and alpha are uniforms: no attribute work).
  function overdueLayer(pulse) {
    const inc = S.incidents;
    if (!inc || !inc.overdueIx.length || inc.n > MAX_POINTS) return null;
    return new deck.ScatterplotLayer({
      id: "overdue", data: inc.overdueIx, coordinateSystem: OFFSETS, coordinateOrigin: [inc.origin[0], inc.origin[1], 0],
      getPosition: (i, { target }) => { target[0] = inc.positions[2 * i]; target[1] = inc.positions[2 * i + 1]; target[2] = 0; return target; },
      updateTriggers: { getPosition: inc },
      radiusUnits: "pixels", getRadius: 18, radiusScale: 1 + 0.7 * pulse, filled: false, stroked: true,
      lineWidthUnits: "pixels", getLineWidth: 3.5, getLineColor: P.overdue, opacity: 1 - 0.55 * pulse,
      parameters: ON_TOP, pickable: false,
    });
  }

  function hexLayer() {
    const inc = S.incidents;
    if (!inc || !inc.n || !(S.hex || inc.n > MAX_POINTS)) return null; // too many points: density only
    if (!hexData || hexData.src !== inc) {
      const pts = new Array(inc.n);
      for (let i = 0; i < inc.n; i++) pts[i] = [inc.origin[0] + inc.positions[2 * i], inc.origin[1] + inc.positions[2 * i + 1]];
      hexData = { src: inc, pts };
    }
    return new deck.HexagonLayer({
      id: "hex", data: hexData.pts, getPosition: (d) => d, radius: hexRadius(), coverage: 0.92, extruded: false,
      colorRange: P.density.slice(1).map((c) => c.concat(170)), opacity: 0.75, pickable: true,
    });
  }

  function hexRadius() {
    const bb = C.bbox;
    const widthM = (bb[2] - bb[0]) * 111320 * Math.cos(((bb[1] + bb[3]) / 2) * Math.PI / 180);
    return Math.max(40, Math.round(widthM / 45 / 10) * 10);
  }

  function gridLayers() {
    const g = S.grids_data;
    if (!S.grids || !g) return [];
    return [
      new deck.SolidPolygonLayer({ // like the outlines, from when grids are GRID_PX across (one even tint before)
        id: "grid-fill", data: g.paths, getPolygon: (d) => d.path, getFillColor: [38, 62, 100, 70],
        pickable: true, autoHighlight: true, highlightColor: [120, 180, 255, 50], visible: gridLinesShown(g),
      }),
      new deck.LineLayer({
        id: "grid-lines", data: gridLinesShown(g) ? g.edges : g.outline, coordinateSystem: OFFSETS,
        coordinateOrigin: [g.edges.origin[0], g.edges.origin[1], 0], getColor: P.grid_line.concat(gridLinesShown(g) ? 170 : 230),
        widthUnits: "pixels", getWidth: gridLinesShown(g) ? 1.6 : 2.2, pickable: false,
      }),
      new deck.TextLayer({
        id: "grid-codes", data: placedLabels, getPosition: (d) => d.position, getText: (d) => d.text,
        getSize: labelPx(), sizeUnits: "pixels", getColor: P.grid_line.concat(245),
        fontFamily: "Noto Sans Mono, monospace", fontWeight: 700, fontSettings: { sdf: true }, outlineWidth: 4,
        outlineColor: [8, 12, 22, 235], characterSet: "0123456789-", parameters: ON_TOP, billboard: true,
        pickable: false,
      }),
    ];
  }

  let placedLabels = [], placeTimer = 0;

  // After the camera settles (and when grids arrive), place the labels again and redraw.
  function replaceLabels(delay) {
    if (placeTimer) clearTimeout(placeTimer);
    placeTimer = setTimeout(() => {
      placeTimer = 0;
      if (!S.grids_data || !S.buildings) return;
      placedLabels = placeLabels(S.grids_data);
      stats.labels = placedLabels.length;
      draw();
    }, delay);
  }

  // Grid codes are 15 digits (district 6 + street 3 + community 3 + grid 3); the last six name a grid in a street.
  function shortCode(code) {
    const s = String(code || "");
    return s.length === 15 ? s.slice(9, 12) + "-" + s.slice(12) : s;
  }

  let map = null, pulsePhase = 0, zoom = 0;

  let still = []; // every layer but the overdue rings, as last built: the pulse reuses these very instances

  function layers() {
    if (!S.buildings) return [];
    const [fill, ...grid] = gridLayers();
    still = [fill, hexLayer(), buildingLayer(), ...grid, ...incidentLayers()].filter(Boolean);
    return still.concat(overdueLayer(pulsePhase) || []);
  }

  function draw() {
    const ls = layers();
    stats.layerIds = ls.map((l) => l.id);
    map.setLayers(ls);
  }

  function drawPulse() {
    map.setLayers(still.concat(overdueLayer(pulsePhase) || []));
  }

  // ---- tooltips (no personal data: building-level counts only) ---------------------------------------------
  const esc = Twin.esc;
  const row = (k, v) => `<div class="tt-row"><span>${esc(k)}</span><span>${v}</span></div>`;
  const chip = (c, text) => `<span class="tt-chip" style="background:${Twin.css(c.concat(60))};color:${Twin.css(c)}">${esc(text)}</span>`;

  function buildingTooltip(i) {
    const b = S.buildings, r = S.risk;
    let html = `<div class="tt-title">${esc(b.names[i])}</div>`;
    if (b.compound[i] >= 0) html += row(t("tt_compound"), esc(b.compounds[b.compound[i]]));
    html += row(t("tt_floors"), Twin.fmt.int(b.floors[i])) + row(t("tt_households"), Twin.fmt.int(b.households[i]));
    const code = b.gridOf(i), grid = code && S.grids_data ? S.grids_data.byCode.get(code) : null;
    if (code) html += row(t("tt_grid"), esc(grid ? `${grid.name} (${shortCode(code)})` : code));
    if (code && S.workers && S.workers[code]) html += row(t("tt_worker"), esc(S.workers[code]));
    if (S.incidents) html += row(t("tt_open"), Twin.fmt.int(S.incidents.openIn.get(i) || 0));
    if (b.state[i] !== NONE) {
      const s = b.states[b.state[i]];
      html += row(t("tt_property"), chip(P.property_states[s], Twin.label("property_states", s)));
    }
    if (b.decade[i] !== NONE) html += row(t("tt_decade"), esc(decadeLabel(b.decade[i])));
    if (r && r.n === b.n) {
      const lv = r.levels[r.level[i]];
      html += row(t("tt_risk"), chip(P.risk_levels[lv], `${r.score[i]} · ${Twin.label("risk_levels", lv)}`));
      const items = [];
      for (let j = 0; j < 3; j++) {
        const f = r.factor[3 * i + j];
        if (f === NONE || !r.points[3 * i + j]) continue;
        items.push(`<li>${esc(Twin.label("risk_factors", r.factors[f]))} <b>${esc(t("tt_points", { n: r.points[3 * i + j] }))}</b></li>`);
      }
      if (items.length) html += `<div class="tt-sub">${esc(t("tt_factors"))}</div><ul>${items.join("")}</ul>`;
    }
    return html;
  }

  function incidentTooltip(i) {
    const inc = S.incidents;
    const s = inc.stages[inc.stage[i]];
    const cat = inc.category[i] !== NONE ? Twin.label("incident_categories", inc.categories[inc.category[i]]) : "";
    let html = `<div class="tt-title">${esc(cat)}</div>`;
    if (inc.ids[i]) html += row(t("tt_number"), esc(inc.ids[i]));
    const b = inc.building ? inc.building[i] : -1;
    if (b >= 0 && S.buildings && b < S.buildings.n) {
      const c = S.buildings.compound[b];
      html += row(t("tt_building"), esc((c >= 0 ? S.buildings.compounds[c] : "") + S.buildings.names[b]));
    }
    html += row(t("tt_stage"), chip(P.incident_stages[s], Twin.label("incident_stages", s)));
    html += row(t("tt_reported"), esc(dateTime(inc.reported[i])));
    if (inc.due && inc.due[i]) html += row(t("tt_due"), esc(dateTime(inc.due[i])));
    if (inc.overdue[i]) {
      const late = inc.lateSince && inc.lateSince[i] ? Math.max(0, Date.now() / 1000 - inc.lateSince[i]) : null;
      html += row("", chip(P.overdue, late != null ? t("tt_overdue_by", { d: duration(late) }) : t("tt_overdue")));
    }
    return html;
  }

  function gridTooltip(g) {
    return `<div class="tt-title">${esc(g.name)}</div>` + row(t("tt_grid"), esc(g.code)) +
      (g.type ? row("", esc(Twin.label("grid_types", g.type))) : "");
  }

  const dtFmt = new Intl.DateTimeFormat(Twin.lang === "en" ? "en-GB" : "zh-CN",
    { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const dateTime = (sec) => dtFmt.format(new Date(sec * 1000));
  function duration(sec) {
    const m = Math.max(1, Math.round(sec / 60));
    if (m < 60) return t("tt_min", { n: m });
    if (m < 48 * 60) return t("tt_hour", { n: (m / 60).toFixed(m < 600 ? 1 : 0) });
    return t("tt_day", { n: Math.round(m / 1440) });
  }

  function tooltip(info) {
    if (!info || info.index < 0 || !info.layer) return null;
    let html = null;
    if (info.layer.id === "buildings") html = buildingTooltip(info.index);
    else if (info.layer.id === "incidents") html = incidentTooltip(info.index);
    else if (info.layer.id === "incidents-done") html = incidentTooltip(S.incidents.open + info.index);
    else if (info.layer.id === "grid-fill" && info.object) html = gridTooltip(info.object.grid);
    else if (info.layer.id === "hex" && info.object) html = row(t("tt_count"), Twin.fmt.int(info.object.count ?? (info.object.points || []).length));
    return html ? { html, className: "twin-tooltip" } : null;
  }

  // ---- KPI panel (nodes made once, updated in place) -------------------------------------------------------
  const kpiNodes = new Map();

  function kpiCell(parent, key, label, cls) {
    const box = Twin.el("div", "kpi " + (cls || ""));
    box.appendChild(Twin.el("div", "kpi-label", label));
    const v = Twin.el("div", "kpi-value", "–");
    v.dataset.kpi = key;
    box.appendChild(v);
    parent.appendChild(box);
    kpiNodes.set(key, v);
    return box;
  }

  function buildKpiPanel() {
    const body = document.getElementById("kpi-body");
    const top = Twin.el("div", "kpi-row");
    kpiCell(top, "open", t("k_open"), "big");
    kpiCell(top, "overdue", t("k_overdue"), "big alarm");
    body.appendChild(top);
    const stages = Twin.el("div", "kpi-stages");
    for (const s of ["reported", "accepted", "on_site"]) {
      const box = kpiCell(stages, "open_by_stage." + s, Twin.label("incident_stages", s), "small");
      box.style.setProperty("--c", Twin.css(P.incident_stages[s]));
    }
    body.appendChild(stages);
    const table = Twin.el("div", "kpi-table");
    table.appendChild(Twin.el("div", "kpi-th", t("k_on_time")));
    table.appendChild(Twin.el("div", "kpi-th", t("k_today")));
    table.appendChild(Twin.el("div", "kpi-th", t("k_month")));
    for (const lim of ["accept", "on_site", "resolve"]) {
      table.appendChild(Twin.el("div", "kpi-td-label", t("k_" + lim)));
      for (const per of ["today", "month"]) {
        const v = Twin.el("div", "kpi-td", "–");
        v.dataset.kpi = `on_time_${per}.${lim}`;
        kpiNodes.set(v.dataset.kpi, v);
        table.appendChild(v);
      }
    }
    body.appendChild(table);
    const grid = Twin.el("div", "kpi-grid");
    kpiCell(grid, "closure_rate_month", t("k_closure"));
    kpiCell(grid, "mean_rating_month", t("k_rating"));
    kpiCell(grid, "six_nos", t("k_six_nos"));
    kpiCell(grid, "care_unanswered_today", t("k_care"));
    kpiCell(grid, "reported", t("k_reported"));
    kpiCell(grid, "high_risk", t("k_risk"));
    body.appendChild(grid);
  }

  function get(obj, path) {
    return path.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);
  }

  function setKpi(key, text, value, cls) {
    const node = kpiNodes.get(key);
    if (!node) return;
    if (node.textContent !== text) node.textContent = text;
    node.dataset.value = value == null ? "" : String(value);
    node.className = node.className.replace(/ (good|warn|bad)\b/g, "") + (cls ? " " + cls : "");
  }

  const rateClass = (v) => (v == null ? "" : v >= 0.95 ? "good" : v >= 0.85 ? "warn" : "bad");

  function renderKpis(k) {
    const f = Twin.fmt;
    const panel = document.getElementById("kpis");
    panel.classList.toggle("playback", !!k.playback);
    if (k.playback) panel.querySelector("h2").dataset.playback = t("k_playback", { day: dayText(S.day) });
    setKpi("open", f.int(k.open), k.open);
    setKpi("overdue", f.int(k.overdue), k.overdue, k.overdue > 0 ? "bad" : "good");
    for (const s of ["reported", "accepted", "on_site"]) {
      const v = get(k, "open_by_stage." + s);
      setKpi("open_by_stage." + s, f.int(v), v);
    }
    for (const per of ["today", "month"]) {
      for (const lim of ["accept", "on_site", "resolve"]) {
        const v = get(k, `on_time_${per}.${lim}`);
        setKpi(`on_time_${per}.${lim}`, f.pct(v), v, rateClass(v));
      }
    }
    setKpi("closure_rate_month", f.pct(k.closure_rate_month), k.closure_rate_month, rateClass(k.closure_rate_month));
    setKpi("mean_rating_month", k.mean_rating_month == null ? "–" : k.mean_rating_month.toFixed(2) + " / 5",
           k.mean_rating_month);
    const six = k.six_nos || {};
    setKpi("six_nos", `${f.int(six.met)} / ${f.int(six.total)}`, six.met);
    setKpi("care_unanswered_today", f.int(k.care_unanswered_today), k.care_unanswered_today,
           k.care_unanswered_today > 0 ? "bad" : "good");
    setKpi("reported", `${f.int(k.reported_today)} / ${f.int(k.reported_month)}`, k.reported_today);
    for (const node of kpiNodes.values()) node.classList.toggle("na", !!k.playback && node.textContent.startsWith("–"));
    const foot = document.getElementById("kpi-foot");
    const text = k.playback ? t("k_playback_at", { time: dayText(S.day) }) : t("k_at", { time: Twin.fmt.time(new Date(k.at)) });
    if (foot.textContent !== text) foot.textContent = text;
    stats.kpis = k;
  }

  function renderRiskKpi() {
    const r = S.risk;
    if (!r) return;
    const high = r.byLevel.high || 0, critical = r.byLevel.critical || 0;
    setKpi("high_risk", `${Twin.fmt.int(high)} / ${Twin.fmt.int(critical)}`, high + critical,
           critical > 0 ? "bad" : high > 0 ? "warn" : "good");
  }

  // ---- refresh ---------------------------------------------------------------------------------------------
  const API = "/api/dashboard/";

  async function refresh() {
    const geojson = C.transport === "geojson";
    const [b, r, i, g, k] = await Promise.all([
      geojson ? Twin.fetchJSON(API + "buildings.geojson", { conditional: true })
              : Twin.fetchBinary(API + "buildings.bin", { conditional: true }),
      Twin.fetchBinary(API + "risk.bin", { conditional: true }),
      Twin.fetchBinary(API + "incidents.bin", { conditional: true }),
      Twin.fetchJSON(API + "grids.json", { conditional: true }),
      Twin.fetchJSON(API + "kpis", { conditional: true }),
    ]);
    if (b) {
      S.buildings = geojson ? buildingsFromGeoJSON(b) : buildingsFromBinary(b);
      if (stats.dataAt == null) stats.dataAt = performance.now();
    }
    if (r) S.risk = riskFromBinary(r);
    if (i) { S.live = incidentsFromBinary(i); if (S.day == null) { S.incidents = S.live; stats.incidents = S.live.n; } }
    if (g) { S.grids_data = gridsFromJSON(g); stats.gridCodes = (g.grids || []).map((x) => x.code); replaceLabels(0); }
    if (k) { S.liveKpis = k; if (S.day == null) renderKpis(k); }
    if (S.day != null && await loadTimeline()) showDay(S.day); // playback follows new data too
    if (r) renderRiskKpi();
    if (b || r || i || g) {
      stats.changes++;
      if (S.buildings && (b || (r && S.mode === "risk"))) legendInfo = colourBuildings();
      renderLegend();
      draw();
      schedulePulse();
    }
    stats.refreshes++;
    Twin.setStatus(t("updated", { time: Twin.fmt.time(new Date()) }));
    if (!S.timeline && !timelineLoading) timelineLoading = loadTimeline().then(startDay); // after the first frame
  }

  // ---- time playback (timeline.js): a day's snapshot replaces the live incidents and KPIs ----------------------
  let bar = null, timelineLoading = null;
  const dayText = (d) => (S.timeline && d != null ? Twin.timeline.dayLabel(S.timeline, d) : "");

  async function loadTimeline() {
    const buf = await Twin.fetchBinary(API + "timeline.bin", { conditional: true });
    if (!buf) return false;
    S.timeline = Twin.timeline.fromBinary(buf);
    stats.timelineBytes = buf.byteLength;
    bar.setRange(S.timeline);
    return true;
  }

  function startDay() {
    const d = Number(params.get("day"));
    if (params.has("day") && Number.isInteger(d) && d >= 0 && d <= S.timeline.lastDay) bar.set(d);
  }

  function showDay(d) {
    S.day = d;
    if (d == null) {
      S.incidents = S.live;
      if (S.liveKpis) renderKpis(S.liveKpis);
    } else {
      const at = Twin.timeline.dayEnd(S.timeline, d);
      S.incidents = Twin.timeline.snapshot(S.timeline, at);
      renderKpis(Twin.timeline.kpisAt(S.timeline, at));
    }
    stats.incidents = S.incidents ? S.incidents.n : 0;
    stats.day = d;
    renderLegend();
    if (S.buildings) draw();
    schedulePulse();
  }

  // ---- overdue pulse: one pending animation frame at most, ~12 redraws a second, only while any is overdue and
  // only on a street-sized map (?pulse=1 forces it, ?pulse=0 stops it): elsewhere the rings stand still --------
  let pulseFrame = 0, lastPulse = 0;

  const pulsing = () => (S.pulse ?? (S.buildings && S.buildings.n <= PULSE_MAX_BUILDINGS)) &&
    S.incidents && S.incidents.overdueIx.length > 0 && S.incidents.n <= MAX_POINTS;

  function schedulePulse() {
    stats.pulsing = !!pulsing();
    if (pulseFrame || !stats.pulsing) return;
    pulseFrame = requestAnimationFrame(pulseTick);
  }

  function pulseTick(now) {
    pulseFrame = 0;
    if (!pulsing()) { stats.pulsing = false; pulsePhase = 0; return; }
    if (now - lastPulse > 80) {
      lastPulse = now;
      pulsePhase = (now % 1600) / 1600;
      drawPulse();
    }
    schedulePulse();
  }

  // ---- controls ---------------------------------------------------------------------------------------------
  function setMode(mode) {
    S.mode = mode;
    for (const btn of document.querySelectorAll("#mode-switch button")) btn.classList.toggle("on", btn.dataset.mode === mode);
    syncUrl();
    if (!S.buildings) return;
    legendInfo = colourBuildings();
    renderLegend();
    draw();
  }

  function syncUrl() {
    const u = new URL(window.location.href);
    u.searchParams.set("mode", S.mode);
    if (S.hex) u.searchParams.set("hex", "1"); else u.searchParams.delete("hex");
    if (S.grids) u.searchParams.delete("grids"); else u.searchParams.set("grids", "0");
    window.history.replaceState(null, "", u.pathname + u.search + u.hash);
    for (const a of document.querySelectorAll(".lang-switch a[data-lang]")) {
      u.searchParams.set("lang", a.dataset.lang);
      a.href = u.pathname + u.search + u.hash;
    }
  }

  function bindControls() {
    for (const btn of document.querySelectorAll("#mode-switch button")) btn.addEventListener("click", () => setMode(btn.dataset.mode));
    const hex = document.getElementById("toggle-hex"), grids = document.getElementById("toggle-grids");
    hex.checked = S.hex;
    grids.checked = S.grids;
    hex.addEventListener("change", () => { S.hex = hex.checked; syncUrl(); renderLegend(); if (S.buildings) draw(); });
    grids.addEventListener("change", () => { S.grids = grids.checked; syncUrl(); renderLegend(); if (S.buildings) draw(); });
  }

  // ---- start -----------------------------------------------------------------------------------------------
  // The part of the map no panel covers: right of the legend (as wide as it gets), left of the KPI panel, below
  // the time bar; {left, top, right, bottom} in map pixels.
  function clearArea(el) {
    const box = el.getBoundingClientRect(), gap = 12;
    const legend = document.getElementById("legend"), kpi = document.getElementById("kpis");
    const barEl = document.getElementById("timebar");
    const style = getComputedStyle(legend), widest = parseFloat(style.maxWidth); // the legend fills in later
    const reserve = Number.isFinite(widest) ? widest : 16 * (parseFloat(style.fontSize) || 16);
    const legendRight = legend.getBoundingClientRect().left - box.left + Math.max(legend.offsetWidth, reserve);
    if (kpi && kpi.offsetWidth > box.width / 2) { // a phone: legend and time bar above, the KPI strip below the map
      const top = Math.max(legend.getBoundingClientRect().bottom, barEl ? barEl.getBoundingClientRect().bottom : 0);
      return { left: gap, right: box.width - gap, top: Math.max(top - box.top, 0) + gap,
               bottom: Math.max(kpi.getBoundingClientRect().top - box.top - gap, box.height / 3) };
    }
    return {
      left: legendRight + gap, right: (kpi ? kpi.getBoundingClientRect().left - box.left : box.width) - gap,
      top: (barEl ? barEl.getBoundingClientRect().bottom - box.top : 0) + gap, bottom: box.height - gap,
    };
  }

  // A pitched view with the whole bbox inside clearArea(): fit flat, then (a few rounds) project the corners
  // under the pitch and move and zoom so their screen box fills the clear area.
  function frameView(el) {
    const area = clearArea(el), w = el.clientWidth, h = el.clientHeight, bb = C.bbox;
    const view = Twin.fitBounds(bb, el, { pitch: 45, bearing: -8,
      padding: { left: area.left, right: w - area.right, top: area.top, bottom: h - area.bottom } });
    const corners = [[bb[0], bb[1]], [bb[0], bb[3]], [bb[2], bb[1]], [bb[2], bb[3]]];
    for (let k = 0; k < 4; k++) {
      const vp = new deck.WebMercatorViewport({ width: w, height: h, ...view });
      const xy = corners.map((c) => vp.project(c));
      const xs = xy.map((p) => p[0]), ys = xy.map((p) => p[1]);
      const bw = Math.max(...xs) - Math.min(...xs), bh = Math.max(...ys) - Math.min(...ys);
      const scale = Math.min((area.right - area.left) / bw, (area.bottom - area.top) / bh);
      const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
      const [lon, lat] = vp.unproject([cx - ((area.left + area.right) / 2 - w / 2), cy - ((area.top + area.bottom) / 2 - h / 2)]);
      view.longitude = lon; view.latitude = lat; view.zoom += Math.log2(scale) * 0.98;
    }
    const inside = () => {
      const vp = new deck.WebMercatorViewport({ width: w, height: h, ...view });
      return corners.every((c) => { const [x, y] = vp.project(c); return x >= area.left && x <= area.right && y >= area.top && y <= area.bottom; });
    };
    for (let k = 0; k < 20 && !inside(); k++) view.zoom -= 0.01; // what the rounds left over
    return view;
  }

  function start() {
    const el = document.getElementById("map");
    bar = Twin.timeBar(document.getElementById("timebar"), { onChange: showDay });
    const view = frameView(el);
    map = Twin.createMap(el, {
      initialViewState: view, getTooltip: tooltip,
      onAfterRender: () => {
        stats.frames++;
        if (stats.drawnAt == null && S.buildings && map.props.layers.some((l) => l.id === "buildings" && l.isLoaded)) {
          stats.drawnAt = performance.now();
        }
      },
    });
    zoom = view.zoom;
    // Redraw only when the zoom crosses a threshold that shows or hides something (grid codes, done incidents).
    map.setProps({
      onViewStateChange: ({ viewState }) => {
        const crossed = () => [zoom >= DONE_ZOOM, zoom >= EXTRUDE_ZOOM, !!S.grids_data && gridLinesShown(S.grids_data)].join();
        const was = crossed();
        zoom = viewState.zoom;
        if (S.buildings && was !== crossed()) draw();
        if (S.grids) replaceLabels(250);
        return viewState;
      },
    });
    // a building opens its floors × units (每楼每户); so does a building or household chosen in the search box
    map.setProps({ onClick: (info) => {
      if (info && info.layer && info.layer.id === "buildings" && info.index >= 0) Twin.drilldown.open(S.buildings.ids[info.index]);
    } });
    document.addEventListener("twin:place", (e) => {
      if (e.detail.kind === "building" || e.detail.kind === "household") Twin.drilldown.open(e.detail.building_id);
    });
    if (Twin.authHeaders && Twin.authHeaders().Authorization) {
      Twin.fetchJSON("/api/grids/workers", { headers: Twin.authHeaders() }).then((w) => { S.workers = w; }).catch(() => {});
    }
    bindControls();
    buildKpiPanel();
    setMode(S.mode);
    Twin.setStatus(t("loading"));
    Twin.every(C.refreshSeconds, refresh);
    stats.refreshNow = refresh; // tests: many refresh cycles without waiting for the timer
    stats.view = () => { const v = map.getViewports()[0]; return v ? [v.longitude, v.latitude, v.zoom, v.pitch, v.bearing] : null; };
    // tests: a screen point where the layer `id` is on top, scanning a coarse grid of the map ({x, y, index} or null)
    stats.findPoint = (id) => {
      for (let y = 60; y < el.clientHeight; y += 23) {
        for (let x = 20; x < el.clientWidth; x += 23) {
          const info = map.pickObject({ x, y, radius: 0, layerIds: [id] });
          const top = info && info.index >= 0 && map.pickObject({ x, y, radius: 4 }); // nothing drawn over it
          if (top && top.layer && top.layer.id === id) return { x, y, index: info.index };
        }
      }
      return null;
    };
    stats.deckLayers = () => map.layerManager ? map.layerManager.getLayers().length : null;
    stats.playDay = (d) => bar.set(d);
    stats.timeline = () => S.timeline;
    stats.clearArea = () => clearArea(el);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
