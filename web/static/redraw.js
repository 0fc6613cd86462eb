/* The grid redraw page: read the form, POST /api/redraw, poll the job, then draw today's and the proposed grids
 * (coloured by load deviation on a diverging ramp, 3-digit codes labelled) and fill the metrics table. */
(function () {
  "use strict";

  Twin.addStrings({
    zh: {
      rd_token_needed: "请先以工作人员或管理员身份登录", rd_queued: "排队中", rd_running: "计算中", rd_done: "完成",
      rd_failed: "失败", rd_preparing: "准备数据", rd_assembling: "生成网格", rd_community: "社区 {id}",
      rd_legend_title: "负荷偏差（相对本社区理想负荷）", rd_below: "偏低 {v}", rd_above: "偏高 {v}",
      rd_band: "容差带 ±{v}", rd_outline: "网格边界（标注编码末三位）",
      rd_yes: "是", rd_no: "否", rd_time: "用时 {s} 秒，种子 {seed}",
      rd_households: "户数", rd_load: "负荷", rd_ideal: "理想负荷", rd_deviation: "偏差", rd_pp: "紧凑度",
      rd_community_label: "社区", rd_previous: "原编码", rd_kept: "沿用原编码",
    },
    en: {
      rd_token_needed: "Sign in as staff or admin first", rd_queued: "Queued", rd_running: "Running", rd_done: "Done",
      rd_failed: "Failed", rd_preparing: "preparing", rd_assembling: "building grids", rd_community: "community {id}",
      rd_legend_title: "Load deviation (from the community's ideal)", rd_below: "under {v}", rd_above: "over {v}",
      rd_band: "band ±{v}", rd_outline: "grid outline (last 3 digits of the code)",
      rd_yes: "yes", rd_no: "no", rd_time: "{s} s, seed {seed}",
      rd_households: "households", rd_load: "load", rd_ideal: "ideal load", rd_deviation: "deviation",
      rd_pp: "compactness", rd_community_label: "community", rd_previous: "previous code", rd_kept: "kept its code",
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
  const RAMP = [[33, 102, 172], [103, 169, 207], [209, 229, 240], [235, 235, 235], [253, 219, 199],
                [239, 138, 98], [178, 24, 43]];

  const $ = (id) => document.getElementById(id);
  const form = $("redraw-form");
  let band = Number(Twin.config.redrawBand) || 0.1;
  let maps = null;
  let polling = null;

  function colour(dev) {
    const x = Math.max(-1, Math.min(1, dev / (2 * band)));
    const pos = (x + 1) / 2 * (RAMP.length - 1);
    const i = Math.min(RAMP.length - 2, Math.floor(pos));
    const f = pos - i;
    const c = RAMP[i].map((v, k) => Math.round(v + f * (RAMP[i + 1][k] - v)));
    return c.concat(215);
  }

  function legend() {
    const pct = (v) => Math.round(100 * v) + "%";
    Twin.renderLegend($("rd-legend"), [
      { title: t("rd_legend_title"), ramp: RAMP, labels: [t("rd_below", { v: "−" + pct(2 * band) }),
                                                          t("rd_above", { v: "+" + pct(2 * band) })] },
      { items: [{ color: [235, 235, 235], label: t("rd_band", { v: pct(band) }) },
                { color: Twin.palette.grid_line, label: t("rd_outline"), shape: "line" }] },
    ]);
  }

  // ---- maps -----------------------------------------------------------------------------------------------
  function tooltip(info) {
    const p = info.object && info.object.properties;
    if (!p) return null;
    const row = (k, v) => `<div class="tt-row"><span>${Twin.esc(k)}</span><span>${Twin.esc(v)}</span></div>`;
    return {
      className: "twin-tooltip",
      html: `<div class="tt-title">${Twin.esc(p.grid_code)}</div>` + row(t("rd_community_label"), p.community_id) +
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
    else if (msg === "done" || job.status === "done") msg = t("rd_done");
    $("rd-progress-msg").textContent = (job.status === "queued" ? t("rd_queued") + " " : "") + msg;
    $("rd-progress").dataset.status = job.status;
  }

  async function start(ev) {
    ev.preventDefault();
    if (!Twin.user || !["staff", "admin"].includes(Twin.user.role)) {
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
    const url = job.result_url;
    const [after, before] = await Promise.all([
      Twin.fetchJSON(url, { headers: authHeaders() }),
      Twin.fetchJSON(url + "?which=before", { headers: authHeaders() }),
    ]);
    band = (after.metadata.params && after.metadata.params.band) || band;
    if (!maps) maps = makeMaps();
    maps.before.setLayers(layers("before", before));
    maps.after.setLayers(layers("after", after));
    legend();
    $("rd-empty").hidden = true;
    fillTable(after.metadata);
    $("rd-dl-geojson").href = url;
    $("rd-dl-gpkg").href = url + "?f=gpkg";
    $("rd-downloads").hidden = false;  // fetched by download() so the file gets its name
    Twin.setStatus(t("rd_done"));
    document.body.dataset.redraw = "done";
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
      link.download = a.id === "rd-dl-gpkg" ? "redraw.gpkg" : "redraw.geojson";
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
    $("rd-dl-geojson").addEventListener("click", download);
    $("rd-dl-gpkg").addEventListener("click", download);
    form.addEventListener("submit", start);
    legend();
  }

  init();
})();
