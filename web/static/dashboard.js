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
 * window.twinDashboard exposes counters for tests and benchmarks: refreshes, drawnAt (ms since navigation of the
 * first frame with buildings drawn), dataAt (ms since navigation when the buildings were fetched and decoded), layerIds, kpis (the figures shown), changes (how many data updates arrived),
 * incidents (points shown), view() (the camera), deckLayers() (layers deck holds), refreshNow(), findPoint(layerId).
 * URL options: ?mode=property|risk|decade|care, ?hex=1, ?grids=0, ?pulse=0, ?transport=geojson.
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
    },
  });
  const t = Twin.t;

  // ---- state ---------------------------------------------------------------------------------------------
  const S = {
    mode: MODES.includes(params.get("mode")) ? params.get("mode") : "property",
    hex: params.get("hex") === "1",
    grids: params.get("grids") !== "0",
    pulse: params.get("pulse") !== "0",
    buildings: null, risk: null, incidents: null, grids_data: null, kpis: null,
    colorKey: 0, // bumps whenever building colours must be recomputed (mode or risk changed)
  };
  const stats = (window.twinDashboard = {
    refreshes: 0, changes: 0, drawnAt: null, dataAt: null, layerIds: [], kpis: null, transport: C.transport, counts: {},
  });

  // ---- TWB1 decoding (web/transport.py) --------------------------------------------------------------------
  const TYPES = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, uint16: Uint16Array,
                  uint32: Uint32Array, int32: Int32Array, int16: Int16Array };

  function decode(buf) {
    const dv = new DataView(buf);
    const magic = String.fromCharCode(dv.getUint8(0), dv.getUint8(1), dv.getUint8(2), dv.getUint8(3));
    if (magic !== "TWB1") throw new Error("not a TWB1 blob");
    const n = dv.getUint32(4, true);
    const header = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, n)));
    const arrays = {};
    for (const [name, [type, off, length]] of Object.entries(header.arrays)) {
      arrays[name] = new TYPES[type](buf, 8 + n + off, length);
    }
    return { header, arrays };
  }

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
    return { n: h.count, origin: h.origin, stages: h.stages, categories: h.categories, overdueCount: h.overdue,
             positions: a.positions, stage: a.stage, overdue: a.overdue, category: a.category, reported: a.reported,
             overdueIx, lonlat: null, ids: h.ids || [], building: a.building, due: a.due, lateSince: a.late_since,
             at: Date.parse(h.at) / 1000, openIn };
  }

  function gridsFromJSON(doc) {
    const paths = [], labels = [];
    for (const g of doc.grids || []) {
      for (const p of g.paths || []) paths.push({ path: p, grid: g });
      if (g.label) labels.push({ position: g.label, grid: g });
    }
    const byCode = new Map((doc.grids || []).map((g) => [g.code, g]));
    return { paths, labels, count: (doc.grids || []).length, byCode };
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

  let buildingColors = null; // one Uint8Array reused across refreshes (reallocated only if the count changes)

  function colourBuildings() {
    const b = S.buildings, cls = classes();
    if (!buildingColors || buildingColors.length !== b.n * 4) buildingColors = new Uint8Array(b.n * 4);
    const counts = new Array(cls.colors.length).fill(0);
    let unknown = 0;
    for (let i = 0; i < b.n; i++) {
      const k = cls.classOf(i);
      const c = k !== NONE && cls.colors[k] ? cls.colors[k] : DIM;
      if (k !== NONE && cls.colors[k]) counts[k]++; else unknown++;
      buildingColors[4 * i] = c[0]; buildingColors[4 * i + 1] = c[1]; buildingColors[4 * i + 2] = c[2];
      buildingColors[4 * i + 3] = 240;
    }
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
      const stageItems = inc.stages.map((s, k) => ({ color: P.incident_stages[s], label: Twin.label("incident_stages", s),
                                                      count: byStage[k], shape: "circle" }));
      stageItems.push({ color: P.overdue, label: t("legend_overdue"), count: inc.overdueCount, shape: "ring" });
      sections.push({ title: t("legend_incidents"), items: stageItems });
    }
    if (S.hex) sections.push({ title: t("legend_hex"), ramp: P.density });
    if (S.grids && S.grids_data) sections.push({ items: [{ color: P.grid_line, label: t("legend_grid"), shape: "line",
                                                           count: S.grids_data.count }] });
    Twin.renderLegend(document.getElementById("legend"), sections);
  }

  // ---- layers ------------------------------------------------------------------------------------------------
  const OFFSETS = deck.COORDINATE_SYSTEM.LNGLAT_OFFSETS;
  const ON_TOP = { depthCompare: "always" }; // points and labels stay visible in front of 3D buildings
  let buildingData = null, incidentData = null, hexData = null;

  function buildingLayer() {
    const b = S.buildings;
    if (!buildingData || buildingData.src !== b) {
      buildingData = { src: b, length: b.n, startIndices: b.starts,
                       attributes: { getPolygon: { value: b.positions, size: 2 } } };
    }
    return new deck.SolidPolygonLayer({
      id: "buildings", data: buildingData, _normalize: false, _windingOrder: "CW",
      coordinateSystem: OFFSETS, coordinateOrigin: [b.origin[0], b.origin[1], 0],
      getElevation: (_, { index }) => b.height[index], // accessors run per polygon; binary attributes are per vertex
      extruded: true, wireframe: false, pickable: true, autoHighlight: true, highlightColor: [255, 255, 255, 90],
      getFillColor: (_, { index, target }) => {
        target[0] = buildingColors[4 * index]; target[1] = buildingColors[4 * index + 1];
        target[2] = buildingColors[4 * index + 2]; target[3] = buildingColors[4 * index + 3];
        return target;
      },
      updateTriggers: { getFillColor: S.colorKey },
      material: { ambient: 0.45, diffuse: 0.6, shininess: 24, specularColor: [60, 70, 90] },
    });
  }

  function incidentLayers(pulse) {
    const inc = S.incidents;
    if (!inc || !inc.n) return [];
    if (!incidentData || incidentData.src !== inc) {
      incidentData = { src: inc, length: inc.n, attributes: { getPosition: { value: inc.positions, size: 2 } } };
    }
    const origin = [inc.origin[0], inc.origin[1], 0];
    const done = (s) => s === "resolved" || s === "closed";
    const layers = [new deck.ScatterplotLayer({
      id: "incidents", data: incidentData, coordinateSystem: OFFSETS, coordinateOrigin: origin,
      radiusUnits: "pixels", stroked: true, lineWidthUnits: "pixels", getLineWidth: 1, pickable: true,
      parameters: ON_TOP,
      getRadius: (_, { index }) => (inc.overdue[index] ? 8 : done(inc.stages[inc.stage[index]]) ? 3 : 6),
      getFillColor: (_, { index }) => {
        const s = inc.stages[inc.stage[index]];
        return P.incident_stages[s].concat(done(s) ? 150 : 255);
      },
      getLineColor: (_, { index }) => (inc.overdue[index] ? [255, 255, 255, 255] : [10, 14, 24, 200]),
    })];
    if (inc.overdueIx.length) {
      layers.push(new deck.ScatterplotLayer({
        id: "overdue", data: inc.overdueIx, coordinateSystem: OFFSETS, coordinateOrigin: origin,
        getPosition: (i, { target }) => { target[0] = inc.positions[2 * i]; target[1] = inc.positions[2 * i + 1]; target[2] = 0; return target; },
        radiusUnits: "pixels", getRadius: 18, radiusScale: 1 + 0.7 * pulse, filled: false, stroked: true,
        lineWidthUnits: "pixels", getLineWidth: 3.5, getLineColor: P.overdue.concat(Math.round(255 * (1 - 0.55 * pulse))),
        parameters: ON_TOP, pickable: false,
      }));
    }
    return layers;
  }

  function hexLayer() {
    const inc = S.incidents;
    if (!S.hex || !inc || !inc.n) return null;
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
      new deck.SolidPolygonLayer({
        id: "grid-fill", data: g.paths, getPolygon: (d) => d.path, getFillColor: [38, 62, 100, 70],
        pickable: true, autoHighlight: true, highlightColor: [120, 180, 255, 50],
      }),
      new deck.PathLayer({
        id: "grid-lines", data: g.paths, getPath: (d) => d.path, getColor: P.grid_line.concat(170),
        widthUnits: "pixels", getWidth: 1.6, pickable: false,
      }),
      new deck.TextLayer({
        id: "grid-codes", data: g.labels, getPosition: (d) => d.position, getText: (d) => shortCode(d.grid.code),
        getSize: 13, sizeUnits: "pixels", getColor: P.grid_line.concat(235), fontFamily: "Noto Sans Mono, monospace",
        fontSettings: { sdf: true }, outlineWidth: 3, outlineColor: [8, 12, 22, 230], characterSet: "0123456789-",
        parameters: ON_TOP, billboard: true, pickable: false, visible: zoom >= labelZoom(g.count),
      }),
    ];
  }

  // Grid codes only once grids are big enough on screen to carry one (~50 px across): a whole district would
  // otherwise be a carpet of digits.
  function labelZoom(count) {
    const bb = C.bbox, lat = (bb[1] + bb[3]) / 2;
    const cos = Math.cos(lat * Math.PI / 180);
    const areaM2 = (bb[2] - bb[0]) * 111320 * cos * (bb[3] - bb[1]) * 110540;
    const gridM = Math.sqrt(areaM2 / Math.max(count, 1));
    return Math.log2((50 * 156543.03 * cos) / Math.max(gridM, 1));
  }

  // Grid codes are 15 digits (district 6 + street 3 + community 3 + grid 3); the last six name a grid in a street.
  function shortCode(code) {
    const s = String(code || "");
    return s.length === 15 ? s.slice(9, 12) + "-" + s.slice(12) : s;
  }

  let map = null, pulsePhase = 0, zoom = 0;

  function layers() {
    if (!S.buildings) return [];
    const [fill, ...grid] = gridLayers();
    return [fill, hexLayer(), buildingLayer(), ...grid, ...incidentLayers(pulsePhase)].filter(Boolean);
  }

  function draw() {
    const ls = layers();
    stats.layerIds = ls.map((l) => l.id);
    map.setLayers(ls);
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
    const foot = document.getElementById("kpi-foot");
    const text = t("k_at", { time: Twin.fmt.time(new Date(k.at)) });
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
    if (i) { S.incidents = incidentsFromBinary(i); stats.incidents = S.incidents.n; }
    if (g) { S.grids_data = gridsFromJSON(g); stats.gridCodes = (g.grids || []).map((x) => x.code); }
    if (k) renderKpis(k);
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
  }

  // ---- overdue pulse: one pending animation frame at most, ~12 redraws a second, only while any is overdue --
  let pulseFrame = 0, lastPulse = 0;

  function schedulePulse() {
    if (!S.pulse || pulseFrame || !S.incidents || !S.incidents.overdueIx.length) return;
    pulseFrame = requestAnimationFrame(pulseTick);
  }

  function pulseTick(now) {
    pulseFrame = 0;
    if (!S.incidents || !S.incidents.overdueIx.length) return;
    if (now - lastPulse > 80) {
      lastPulse = now;
      pulsePhase = (now % 1600) / 1600;
      draw();
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
  function start() {
    const el = document.getElementById("map");
    const panel = document.getElementById("kpis");
    const right = panel ? panel.offsetWidth + 24 : 0;
    const below = panel && panel.offsetWidth > el.clientWidth / 2; // a phone: the KPI strip lies under the map
    const view = Twin.fitBounds(C.bbox, el, { pitch: 45, bearing: -8,
      padding: below ? { top: 20, bottom: panel.offsetHeight + 20, left: 10, right: 10 }
        : { top: 30, bottom: 30, left: Math.round(el.clientWidth * 0.03), right: right + 10 } });
    view.zoom += 0.1;
    // Under a 45° pitch the near (lower) edge looms larger: aim a little south so the street sits higher.
    view.latitude -= (C.bbox[3] - C.bbox[1]) * 0.08;
    map = Twin.createMap(el, {
      initialViewState: view, getTooltip: tooltip,
      onAfterRender: () => {
        if (stats.drawnAt == null && S.buildings && map.props.layers.some((l) => l.id === "buildings" && l.isLoaded)) {
          stats.drawnAt = performance.now();
        }
      },
    });
    zoom = view.zoom;
    map.setProps({
      onViewStateChange: ({ viewState }) => {
        const was = S.grids_data && zoom >= labelZoom(S.grids_data.count);
        zoom = viewState.zoom;
        if (S.grids_data && was !== zoom >= labelZoom(S.grids_data.count)) draw();
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
    // tests: a screen point over the layer `id`, scanning a coarse grid of the map ({x, y, index} or null)
    stats.findPoint = (id) => {
      for (let y = 60; y < el.clientHeight; y += 23) {
        for (let x = 20; x < el.clientWidth; x += 23) {
          const info = map.pickObject({ x, y, radius: 0, layerIds: [id] });
          if (info && info.index >= 0) return { x, y, index: info.index };
        }
      }
      return null;
    };
    stats.deckLayers = () => map.layerManager ? map.layerManager.getLayers().length : null;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
