/* The grid redraw page: read the form, POST /api/redraw, poll the job, then draw today's and the proposed grids
 * (coloured by load deviation on a diverging ramp, 3-digit codes labelled) and fill the metrics table. */
(function () {
  "use strict";

  Twin.addStrings({
    zh: {
      rd_token_needed: "请先以管理员身份登录", rd_queued: "排队中", rd_running: "计算中", rd_done: "完成",
      rd_failed: "失败", rd_preparing: "准备数据", rd_assembling: "生成网格", rd_community: "计算 {id}",
      rd_legend_title: "负荷偏差（相对本社区理想负荷）", rd_below: "偏低 {v}", rd_above: "偏高 {v}",
      rd_band: "容差带 ±{v}", rd_outline: "网格边界（标注编码末三位）",
      rd_yes: "是", rd_no: "否", rd_time: "用时 {s} 秒，种子 {seed}",
      rd_households: "户数", rd_load: "负荷", rd_ideal: "理想负荷", rd_deviation: "偏差", rd_pp: "紧凑度",
      rd_community_label: "社区", rd_previous: "原编码", rd_kept: "沿用原编码",
      rd_drawing: "绘制 {id}", rd_measuring: "计算指标", rd_serialising: "生成地图与移交清单",
      rd_moved_total: "{b} 栋楼、{h} 户调整网格（{p}）", rd_keep: "保持力度 {k}", rd_unassigned: "（待定）",
      rd_moved_layer: "调整网格的楼栋", rd_axis_moved: "调整户数占比", rd_axis_pp: "平均紧凑度",
      rd_point: "保持力度 {k}：调整 {m}，紧凑度 {pp}", rd_adopted: "方案已发布（#{id}，{d} 生效）",
      rd_rolled_back: "方案 #{id} 已回退", rd_rollback: "回退", rd_in_force: "现行",
      rd_status_baseline: "原有网格", rd_status_published: "已发布", rd_status_rolled_back: "已回退",
      rd_effective: "{d} 生效", rd_since_always: "导入时的网格",
    },
    en: {
      rd_token_needed: "Sign in as an admin first", rd_queued: "Queued", rd_running: "Running", rd_done: "Done",
      rd_failed: "Failed", rd_preparing: "preparing", rd_assembling: "building grids", rd_community: "solving {id}",
      rd_legend_title: "Load deviation (from the community's ideal)", rd_below: "under {v}", rd_above: "over {v}",
      rd_band: "band ±{v}", rd_outline: "grid outline (last 3 digits of the code)",
      rd_yes: "yes", rd_no: "no", rd_time: "{s} s, seed {seed}",
      rd_households: "households", rd_load: "load", rd_ideal: "ideal load", rd_deviation: "deviation",
      rd_pp: "compactness", rd_community_label: "community", rd_previous: "previous code", rd_kept: "kept its code",
      rd_drawing: "drawing {id}", rd_measuring: "measuring", rd_serialising: "preparing maps and the hand-over",
      rd_moved_total: "{b} buildings, {h} households change grid ({p})", rd_keep: "keep {k}",
      rd_unassigned: "(unassigned)", rd_moved_layer: "buildings changing grid", rd_axis_moved: "households moved",
      rd_axis_pp: "mean compactness", rd_point: "keep {k}: {m} moved, compactness {pp}",
      rd_adopted: "Plan adopted (#{id}, in force from {d})", rd_rolled_back: "Plan #{id} rolled back",
      rd_rollback: "Roll back", rd_in_force: "in force", rd_status_baseline: "grids as loaded",
      rd_status_published: "published", rd_status_rolled_back: "rolled back", rd_effective: "from {d}",
      rd_since_always: "the grids as imported",
    },
  });
  const t = Twin.t;

  // Rows of the metrics table: [summary key, English label, Chinese label, format], from the server
  // (twin.redraw.metrics.METRIC_ROWS). Formats are shared with the tests: pct → 1 decimal and "%", share → ×100
  // with 1 decimal and "%", pp → 3 decimals, int → thousands separators, bool → yes/no.
  const ROWS = Twin.config.metricRows || [];
  const FORMAT = {
    int: (v) => Twin.fmt.int(v),
    pct: (v) => (v == null ? "–" : Number(v).toFixed(1) + "%"),
    share: (v) => (v == null ? "–" : (100 * v).toFixed(1) + "%"),
    pp: (v) => (v == null ? "–" : Number(v).toFixed(3)),
    bool: (v) => (v == null ? "–" : v ? t("rd_yes") : t("rd_no")),
  };

  // Diverging ramp: blue (under the ideal) through pale grey (on it) to red (over it), clamped at 2× the band.
  const MOVED = [255, 170, 40];
  const RAMP = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [235, 235, 235], [253, 219, 199],
                [239, 138, 98], [178, 24, 43]];

  const $ = (id) => document.getElementById(id);
  const form = $("redraw-form");
  let band = Number(Twin.config.redrawBand) || 0.1;
  let maps = null;
  let polling = null;
  let shown = null; // {job, keep, before}: the run on the maps and the frontier point chosen
  const COMMUNITIES = Twin.config.communities || {};
  const communityName = (id) => COMMUNITIES[id] || id;

  function colour(dev) {
    const x = Math.max(-1, Math.min(1, dev / (2 * band)));
    const pos = (x + 1) / 2 * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(pos));
    const f = pos - i;
    const c = RAMP[i].map((v, k) => Math.round(v + f * (RAMP[i + 1][k] - v)));
    return c.concat(215);
  }

  function legend() {
    const pct = (v) => Math.round(1000 * v) / 10 + "%"; // as the band field holds it (7.5, not 8)
    Twin.renderLegend($("rd-legend"), [
      { title: t("rd_legend_title"), ramp: RAMP, labels: [t("rd_below", { v: "−" + pct(2 * band) }),
                                                          t("rd_above", { v: "+" + pct(2 * band) })] },
      { items: [{ color: [235, 235, 235], label: t("rd_band", { v: pct(band) }) },
                { color: Twin.palette.grid_line, label: t("rd_outline"), shape: "line" },
                { color: MOVED, label: t("rd_moved_layer") }] },
    ]);
  }

  // ---- maps -----------------------------------------------------------------------------------------------
  function tooltip(info) {
    const p = info.object && info.object.properties;
    if (!p) return null;
    const row = (k, v) => `<div class="tt-row"><span>${Twin.esc(k)}</span><span>${Twin.esc(v)}</span></div>`;
    return {
      className: "twin-tooltip",
      html: `<div class="tt-title">${Twin.esc(p.grid_code)}</div>` +
        row(t("rd_community_label"), communityName(p.community_id)) +
        row(t("rd_households"), Twin.fmt.int(p.households)) + row(t("rd_load"), Twin.fmt.num(p.load)) +
        row(t("rd_ideal"), Twin.fmt.num(p.ideal)) + row(t("rd_deviation"), FORMAT.share(p.deviation)) +
        row(t("rd_pp"), FORMAT.pp(p.polsby_popper)) +
        (p.previous_code && p.previous_code !== p.grid_code ? row(t("rd_previous"), p.previous_code) : "") +
        (p.kept_code ? row(t("rd_kept"), t("rd_yes")) : ""),
    };
  }

  function makeMaps() {
    const bounds = Twin.config.bounds || [116.3, 39.8, 116.5, 40.0];
    const before = $("map-before"), after = $("map-after");
    const view = Twin.fitBounds(bounds, before, { pitch: 0 });
    const opts = { initialViewState: view, getTooltip: tooltip };
    const m = { before: Twin.createMap(before, opts), after: Twin.createMap(after, opts) };
    // The two maps move together.
    const sync = (other) => ({ viewState }) => { other.setProps({ initialViewState: { ...viewState } }); };
    m.before.setProps({ onViewStateChange: sync(m.after) });
    m.after.setProps({ onViewStateChange: sync(m.before) });
    return m;
  }

  function layers(id, fc) {
    return [
      new deck.GeoJsonLayer({
        id: id + "-grids", data: fc, pickable: true, stroked: true, filled: true,
        getFillColor: (f) => colour(f.properties.deviation), getLineColor: Twin.palette.grid_line.concat(230),
        lineWidthUnits: "pixels", getLineWidth: 1.5, updateTriggers: { getFillColor: band },
      }),
      new deck.TextLayer({
        id: id + "-codes", data: fc.features, getPosition: (f) => f.properties.label_point,
        getText: (f) => String(f.properties.grid_code).slice(-3), getSize: 13, sizeUnits: "pixels",
        getColor: [15, 20, 30, 255], fontWeight: 700, outlineWidth: 2, outlineColor: [255, 255, 255, 200],
        fontSettings: { sdf: true }, characterSet: "0123456789",
      }),
    ];
  }

  // ---- form and job -----------------------------------------------------------------------------------------
  function readParams() {
    const fd = new FormData(form);
    const params = { band: Number(fd.get("band")) / 100, start: fd.get("start"), keep: Number(fd.get("keep")),
                     seed: Number(fd.get("seed")) };
    const mode = fd.get("count_mode");
    if (mode === "grids") params.grids = Number(fd.get("count_value"));
    if (mode === "target") params.target = Number(fd.get("count_value"));
    const weights = {};
    for (const k of ["households", "population", "special_care", "incidents"]) {
      const v = Number(fd.get("w_" + k));
      if (v > 0) weights[k] = v;
    }
    params.weights = weights;
    const locked = String(fd.get("locked") || "").split(/[\s,，]+/).filter(Boolean);
    if (locked.length) params.locked = locked;
    if (fd.get("compound")) params.unit = "compound";
    if (fd.get("frontier")) params.frontier = Twin.config.frontierKeeps || [0, 0.3, 0.6, 0.9];
    return params;
  }

  function authHeaders() {
    return {};  // the signed-in person's session cookie goes with every request
  }

  function setProgress(job) {
    const pct = Math.round(100 * (job.progress || 0));
    $("rd-progress").hidden = false;
    $("rd-progress-fill").style.width = pct + "%";
    $("rd-progress").querySelector(".progress-bar").setAttribute("aria-valuenow", String(pct));
    $("rd-progress-pct").textContent = pct + "%";
    let msg = job.message || "";
    if (msg === "preparing") msg = t("rd_preparing");
    else if (msg === "assembling") msg = t("rd_assembling");
    else if (msg.startsWith("community ")) msg = t("rd_community", { id: msg.slice(10) });
    else if (msg.startsWith("drawing ")) msg = t("rd_drawing", { id: msg.slice(8) });
    else if (msg === "measuring") msg = t("rd_measuring");
    else if (msg === "serialising") msg = t("rd_serialising");
    else if (msg === "done" || job.status === "done") msg = t("rd_done");
    $("rd-progress-msg").textContent = (job.status === "queued" ? t("rd_queued") + " " : "") + msg;
    $("rd-progress").dataset.status = job.status;
  }

  async function start(ev) {
    ev.preventDefault();
    if (!Twin.user || Twin.user.role !== "admin") {
      Twin.showError(new Error(t("rd_token_needed")));
      return;
    }
    if (polling) polling();
    const params = readParams();
    $("rd-start-btn").disabled = true;
    $("rd-downloads").hidden = true;
    try {
      const job = await Twin.fetchJSON("/api/redraw", { method: "POST", body: params, headers: authHeaders() });
      band = params.band;
      document.body.dataset.job = job.id;
      setProgress(job);
      Twin.setStatus(t("rd_running"));
      polling = poll(job);
    } catch (e) {
      $("rd-start-btn").disabled = false;
      Twin.showError(e);
    }
  }

  function poll(job) {
    let stopped = false, timer = null;
    const tick = async () => {
      try {
        const j = await Twin.fetchJSON(job.url, { headers: authHeaders() });
        setProgress(j);
        if (j.status === "done") { await show(j); stopped = true; }
        if (j.status === "failed") {
          stopped = true;
          Twin.setStatus(t("rd_failed"), "error");
          Twin.showError(new Error(j.error ? j.error.message : t("rd_failed")));
        }
      } catch (e) {
        Twin.showError(e);
        stopped = true;
      }
      if (stopped) { $("rd-start-btn").disabled = false; return; }
      timer = setTimeout(tick, 400);
    };
    tick();
    return () => { stopped = true; clearTimeout(timer); };
  }

  async function show(job) {
    shown = { job, keep: job.params.keep, before: null };
    await showPlan(job.params.keep);
    $("rd-downloads").hidden = false;  // the links need the token: fetched below rather than followed
    drawFrontier();
    $("rd-adopt-form").hidden = false;
    if (!$("rd-effective").value) $("rd-effective").value = Twin.config.officeToday; // the office's date, not the browser's
    Twin.setStatus(t("rd_done"));
    document.body.dataset.redraw = "done";
  }

  // One plan of the run (a point of the frontier): both maps, the moved buildings, the table and the hand-over.
  async function showPlan(keep) {
    const job = shown.job;
    const url = job.result_url;
    const q = "?keep=" + keep;
    const [after, moved, ho, before] = await Promise.all([
      Twin.fetchJSON(url + q, { headers: authHeaders() }),
      Twin.fetchJSON(job.handover_url + q + "&f=geojson", { headers: authHeaders() }),
      Twin.fetchJSON(job.handover_url + q, { headers: authHeaders() }),
      shown.before || Twin.fetchJSON(url + "?which=before", { headers: authHeaders() }),
    ]);
    shown.before = before;
    shown.keep = keep;
    band = (after.metadata.params && after.metadata.params.band) || band;
    if (!maps) maps = makeMaps();
    maps.before.setLayers(layers("before", before));
    maps.after.setLayers(layers("after", after).concat([movedLayer(moved)]));
    legend();
    $("rd-empty").hidden = true;
    fillTable(after.metadata);
    fillHandover(ho);
    $("rd-dl-geojson").href = url + q;
    $("rd-dl-gpkg").href = url + q + "&f=gpkg";
    $("rd-dl-csv").href = job.handover_url + q + "&f=csv";
    $("rd-dl-xlsx").href = job.handover_url + q + "&f=xlsx";
    document.body.dataset.keep = String(keep);
  }

  function movedLayer(fc) {
    return new deck.GeoJsonLayer({
      id: "moved", data: fc, pickable: false, stroked: true, filled: true,
      getFillColor: MOVED.concat(230), getLineColor: [255, 255, 255, 255], lineWidthUnits: "pixels", getLineWidth: 1,
    });
  }

  function fillHandover(h) {
    const who = (w) => (w == null ? t("rd_unassigned") : w);
    const rows = (h.moves || []).map((m) => {
      const tr = Twin.el("tr");
      tr.title = m.building_ids.join(" ");
      for (const v of [m.from_grid || "–", m.to_grid, who(m.from_worker), who(m.to_worker),
                       Twin.fmt.int(m.buildings), Twin.fmt.int(m.households)]) tr.appendChild(Twin.el("td", null, v));
      return tr;
    });
    $("rd-moves").querySelector("tbody").replaceChildren(...rows);
    const wrows = (h.workers || []).map((w) => {
      const tr = Twin.el("tr");
      for (const v of [who(w.worker), Twin.fmt.int(w.gives_households), Twin.fmt.int(w.receives_households)]) {
        tr.appendChild(Twin.el("td", null, v));
      }
      return tr;
    });
    $("rd-workers").querySelector("tbody").replaceChildren(...wrows);
    const tot = h.totals || {};
    $("rd-handover-total").textContent = t("rd_moved_total", { b: Twin.fmt.int(tot.buildings),
      h: Twin.fmt.int(tot.households), p: FORMAT.pct(tot.households_pct) });
    $("rd-handover-keep").textContent = t("rd_keep", { k: h.keep });
    $("rd-handover").hidden = false;
  }

  // The trade-off as a small SVG: households moved (x) against mean Polsby-Popper (y), one circle per keep value.
  function drawFrontier() {
    const pts = shown.job.frontier || [];
    const box = $("rd-frontier-chart");
    $("rd-frontier").hidden = pts.length < 2;
    if (pts.length < 2) { box.replaceChildren(); return; }
    const W = 320, H = 190, L = 40, R = 12, T = 12, B = 34;
    const xs = pts.map((p) => p.moved_households_pct), ys = pts.map((p) => p.pp_mean);
    const x1 = Math.max(...xs) * 1.1 || 1, y0 = Math.min(...ys) - 0.02, y1 = Math.max(...ys) + 0.02;
    const sx = (v) => L + (W - L - R) * v / x1, sy = (v) => H - B - (H - B - T) * (v - y0) / (y1 - y0);
    const NS = "http://www.w3.org/2000/svg";
    const node = (tag, attrs, text) => {
      const n = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text != null) n.textContent = text;
      return n;
    };
    const svg = node("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("rd_axis_moved") });
    svg.appendChild(node("line", { x1: L, y1: H - B, x2: W - R, y2: H - B }));
    svg.appendChild(node("line", { x1: L, y1: T, x2: L, y2: H - B }));
    svg.appendChild(node("text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle" }, t("rd_axis_moved") + " %"));
    svg.appendChild(node("text", { x: 10, y: (T + H - B) / 2, transform: `rotate(-90 10 ${(T + H - B) / 2})`,
                                   "text-anchor": "middle" }, t("rd_axis_pp")));
    for (const v of [0, x1 / 2, x1]) {
      svg.appendChild(node("text", { x: sx(v), y: H - B + 12, "text-anchor": "middle" }, v.toFixed(0)));
    }
    for (const v of [y0, y1]) svg.appendChild(node("text", { x: L - 4, y: sy(v) + 3, "text-anchor": "end" }, v.toFixed(2)));
    const order = pts.slice().sort((a, b) => a.moved_households_pct - b.moved_households_pct);
    svg.appendChild(node("polyline", {
      points: order.map((p) => `${sx(p.moved_households_pct)},${sy(p.pp_mean)}`).join(" ") }));
    for (const p of pts) {
      const c = node("circle", { cx: sx(p.moved_households_pct), cy: sy(p.pp_mean), r: 6, tabindex: 0,
                                 "data-keep": String(p.keep) });
      c.classList.toggle("chosen", p.keep === shown.keep);
      c.classList.toggle("out", !p.band_holds);
      c.appendChild(node("title", {}, t("rd_point", { k: p.keep, m: FORMAT.pct(p.moved_households_pct),
                                                       pp: FORMAT.pp(p.pp_mean) })));
      const pick = async () => {
        try { await showPlan(p.keep); drawFrontier(); } catch (e) { Twin.showError(e); }
      };
      c.addEventListener("click", pick);
      c.addEventListener("keydown", (ev) => { if (ev.key === "Enter") pick(); });
      svg.appendChild(c);
      svg.appendChild(node("text", { x: sx(p.moved_households_pct) + 8, y: sy(p.pp_mean) - 6 }, String(p.keep)));
    }
    box.replaceChildren(svg);
  }

  async function adopt() {
    if (!shown) return;
    try {
      const plan = await Twin.fetchJSON(shown.job.adopt_url, { method: "POST", headers: authHeaders(),
        body: { keep: shown.keep, effective_date: $("rd-effective").value } });
      Twin.setStatus(t("rd_adopted", { id: plan.id, d: plan.effective_date }));
      document.body.dataset.adopted = String(plan.id);
      await loadHistory();
    } catch (e) { Twin.showError(e); }
  }

  async function loadHistory() {
    const doc = await Twin.fetchJSON("/api/plans");
    const items = doc.plans.map((p) => {
      const li = Twin.el("li", p.in_force ? "in-force" : null);
      li.dataset.plan = String(p.id);
      li.dataset.status = p.status;
      const when = p.effective_date ? t("rd_effective", { d: p.effective_date }) : t("rd_since_always");
      const a = Twin.el("a", null, `#${p.id} ${t("rd_status_" + p.status)} · ${when}`);
      a.href = p.url;
      li.appendChild(a);
      if (p.in_force) li.appendChild(Twin.el("span", "dim", " · " + t("rd_in_force")));
      if (p.rollback_url) {
        const b = Twin.el("button", "rollback", t("rd_rollback"));
        b.type = "button";
        b.addEventListener("click", async () => {
          try {
            await Twin.fetchJSON(p.rollback_url, { method: "POST", headers: authHeaders() });
            Twin.setStatus(t("rd_rolled_back", { id: p.id }));
            document.body.dataset.rolledBack = String(p.id);
            await loadHistory();
          } catch (e) { Twin.showError(e); }
        });
        li.appendChild(b);
      }
      return li;
    });
    $("rd-history").replaceChildren(...items);
    document.body.dataset.history = String(doc.plans.length);
  }

  function fillTable(summary) {
    const body = $("rd-table").querySelector("tbody");
    const rows = ROWS.map(([key, en, zh, f]) => {
      const tr = Twin.el("tr");
      tr.dataset.key = key;
      tr.appendChild(Twin.el("th", null, Twin.lang === "en" ? en : zh));
      for (const which of ["before", "after"]) {
        const td = Twin.el("td", which, FORMAT[f](summary[which][key]));
        tr.appendChild(td);
      }
      return tr;
    });
    body.replaceChildren(...rows);
    $("rd-note").textContent = t("rd_time", { s: Number(summary.elapsed_s).toFixed(1), seed: summary.params.seed });
    $("rd-notes").replaceChildren(...(summary.notes || []).map((n) => Twin.el("li", n.kind, Twin.lang === "en" ? n.en : n.zh)));
    $("rd-metrics").hidden = false;
  }

  async function download(ev) {
    ev.preventDefault();
    const a = ev.currentTarget;
    try {
      const data = await Twin.fetchBinary(a.getAttribute("href"), { headers: authHeaders() });
      const blob = new Blob([data]);
      const link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = { "rd-dl-gpkg": "redraw.gpkg", "rd-dl-csv": "handover.csv", "rd-dl-xlsx": "handover.xlsx" }[a.id]
        || "redraw.geojson";
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 1000);
    } catch (e) { Twin.showError(e); }
  }

  function init() {
    for (const r of form.querySelectorAll("input[name=count_mode]")) {
      r.addEventListener("change", () => {
        const mode = form.querySelector("input[name=count_mode]:checked").value;
        const box = $("rd-count");
        box.disabled = mode === "current";
        if (mode === "grids" && Number(box.value) > 999) box.value = "40";
        if (mode === "target" && Number(box.value) < 50) box.value = "300";
      });
    }
    $("rd-keep").addEventListener("input", () => { $("rd-keep-out").textContent = $("rd-keep").value; });
    for (const id of ["rd-dl-geojson", "rd-dl-gpkg", "rd-dl-csv", "rd-dl-xlsx"]) $(id).addEventListener("click", download);
    $("rd-adopt-btn").addEventListener("click", adopt);
    // the legend shows the band typed in until a run is shown (then the run's band)
    const fromField = () => {
      const v = Number($("rd-band").value) / 100;
      if (!shown && v > 0) { band = v; legend(); }
    };
    $("rd-band").addEventListener("input", fromField);
    fromField();
    loadHistory().catch(Twin.showError);
    form.addEventListener("submit", start);
    legend();
  }

  init();
})();
