/* Shared helpers of the map pages (dashboard, planner, redraw): config, i18n, fetch, deck.gl map, legend.
 *
 * Loaded by web/templates/base.html after /vendor/deckgl.js (pydeck 0.9's UMD bundle of deck.gl 9.3), which
 * defines these globals:
 *   deck      - every deck.gl class: Deck, MapView, WebMercatorViewport, FlyToInterpolator, COORDINATE_SYSTEM,
 *               layers PolygonLayer, SolidPolygonLayer, GeoJsonLayer, PathLayer, LineLayer, ScatterplotLayer,
 *               IconLayer, TextLayer, ColumnLayer, HexagonLayer, HeatmapLayer, GridLayer, ScreenGridLayer,
 *               ContourLayer, TileLayer, BitmapLayer, MVTLayer, TripsLayer, H3HexagonLayer, ...
 *   luma, mathgl, loaders - luma.gl, math.gl and loaders.gl (fetchFile, load, parse)
 *   createDeck, updateDeck - pydeck's JSON-driven deck (not used here: we build layers directly)
 *
 * Everything here lives on one global, `Twin`:
 *   Twin.config                 the page config the server put in #twin-config (lang, refreshSeconds, tileUrl,
 *                               tileCrs, vocab, strings)
 *   Twin.lang                   "zh" or "en"
 *   Twin.t(key, vars)           a UI string in the page language ({name} placeholders filled from vars)
 *   Twin.addStrings({zh, en})   add page-specific strings
 *   Twin.label(table, code)     a vocabulary label (tables: property_states, building_uses, grid_types,
 *                               incident_sources, incident_stages, escalation_levels, incident_categories, six_nos)
 *   Twin.user                   who is signed in ({name, role, grids}) or null; state changes carry the CSRF token
 *   Twin.fetchJSON(url, opts)   JSON or throws Twin.HttpError (status, code, message from the API's error body);
 *                               opts.conditional: send If-None-Match with the last ETag of url, resolve null on 304
 *   Twin.fetchBinary(url, opts) the same for an ArrayBuffer
 *   Twin.showError(err)         a toast at the bottom of the screen (auto-hides); Twin.setStatus(text, kind)
 *   Twin.createMap(el, opts)    a deck.Deck on el: dark, MapView with 3D controller, optional base map tiles
 *   Twin.fitBounds([minx, miny, maxx, maxy], el, opts)  a view state framing the box
 *   Twin.renderLegend(el, sections)  a legend; section = {title, items: [{color, label, shape}]} or
 *                               {title, ramp: [colors], labels: [low, high]}
 *   Twin.palette                shared colours (property states, risk levels, stages, decades, ...)
 *   Twin.css(color)             CSS rgba() of an [r, g, b(, a)] colour
 *   Twin.fmt.int / pct / num / time  number and time formatting in the page language
 *   Twin.every(seconds, fn)     run fn now and then every `seconds` (never overlapping); returns stop()
 *   Twin.gcj02(lon, lat) / Twin.wgs84FromGcj02(lon, lat)  the GCJ-02 offset used for base-map tiles
 *   Twin.currentMap() / Twin.baseMapTiles()  the page's deck, and its base-map tiles (tests and debugging)
 */
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("twin-config").textContent || "{}");
  const lang = config.lang === "en" ? "en" : "zh";

  // ---- i18n ---------------------------------------------------------------------------------------------
  const strings = {
    zh: {
      app_title: "社区数字孪生", loading: "加载中…", updated: "已更新 {time}", offline: "连接中断，正在重试…",
      error: "出错了", retry: "重试", no_data: "暂无数据", legend: "图例", low: "低", high: "高",
    },
    en: {
      app_title: "Community digital twin", loading: "Loading…", updated: "Updated {time}",
      offline: "Connection lost, retrying…", error: "Error", retry: "Retry", no_data: "No data", legend: "Legend",
      low: "Low", high: "High",
    },
  };
  addStrings(config.strings ? { [lang]: config.strings } : {});

  function addStrings(table) {
    for (const l of ["zh", "en"]) Object.assign(strings[l], (table && table[l]) || {});
  }

  function t(key, vars) {
    let s = strings[lang][key];
    if (s === undefined) s = strings.zh[key] !== undefined ? strings.zh[key] : key;
    if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined ? vars[k] : m));
    return s;
  }

  function label(table, code) {
    const entry = config.vocab && config.vocab[table] && config.vocab[table][code];
    if (!entry) return code == null ? "" : String(code);
    return lang === "en" ? entry[1] : entry[0];
  }

  // ---- fetch --------------------------------------------------------------------------------------------
  class HttpError extends Error {
    constructor(status, code, message, details) {
      super(message);
      this.name = "HttpError";
      this.status = status;
      this.code = code;
      this.details = details;
    }
  }

  // The session's CSRF token (web/session.py): sent with every state change a signed-in page makes.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrf = csrfMeta ? csrfMeta.content : "";

  const etags = new Map(); // url -> last ETag; one entry per URL a page polls, so it stays small

  async function request(url, opts, read) {
    opts = opts || {};
    const headers = Object.assign({}, opts.headers || {});
    const method = (opts.method || "GET").toUpperCase();
    if (csrf && !["GET", "HEAD"].includes(method) && !headers.Authorization) headers["X-CSRF-Token"] = csrf;
    if (opts.conditional && etags.has(url)) headers["If-None-Match"] = etags.get(url);
    const init = { method, headers, signal: opts.signal, cache: "no-cache" };
    if (opts.body !== undefined) {
      init.body = typeof opts.body === "string" ? opts.body : JSON.stringify(opts.body);
      if (!headers["Content-Type"]) headers["Content-Type"] = "application/json";
    }
    let resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      if (e.name === "AbortError") throw e;
      throw new HttpError(0, "network", t("offline"));
    }
    if (resp.status === 304) return null;
    if (!resp.ok) {
      let body = null;
      try { body = await resp.json(); } catch (e) { /* not a JSON error body */ }
      throw new HttpError(resp.status, (body && body.code) || "http_" + resp.status,
                          (body && body.message) || resp.statusText || t("error"), body && body.details);
    }
    const value = await read(resp);
    const etag = resp.headers.get("ETag");
    if (opts.conditional && etag) etags.set(url, etag);
    return value;
  }

  const fetchJSON = (url, opts) => request(url, opts, (r) => r.json());
  const fetchBinary = (url, opts) => request(url, opts, (r) => r.arrayBuffer());

  // ---- status and errors ---------------------------------------------------------------------------------
  let toastTimer = null;

  function showError(err) {
    const el = document.getElementById("twin-toast");
    const msg = err && err.message ? err.message : String(err);
    if (err && err.name !== "AbortError") console.warn("twin:", err);
    if (!el) return;
    el.textContent = msg;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.hidden = true; }, 8000);
  }

  function setStatus(text, kind) {
    const el = document.getElementById("twin-status");
    if (!el) return;
    el.textContent = text || "";
    el.className = "status" + (kind ? " " + kind : "");
  }

  // ---- formatting ----------------------------------------------------------------------------------------
  const locale = lang === "en" ? "en-GB" : "zh-CN";
  const intFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
  const numFmt = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  const timeFmt = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const fmt = {
    int: (v) => (v == null || Number.isNaN(v) ? "–" : intFmt.format(v)),
    num: (v) => (v == null || Number.isNaN(v) ? "–" : numFmt.format(v)),
    pct: (v, digits) => (v == null || Number.isNaN(v) ? "–" : (100 * v).toFixed(digits == null ? 1 : digits) + "%"),
    time: (d) => timeFmt.format(d || new Date()),
  };

  // ---- colours -----------------------------------------------------------------------------------------
  // Chosen for a dark background and to stay distinct for the common colour-vision deficiencies.
  const palette = {
    background: [11, 16, 26],
    property_states: {
      company: [46, 160, 255], fallback: [230, 60, 70], welfare: [40, 200, 150],
      self: [250, 190, 50], unmanaged: [170, 120, 255],
    },
    risk_levels: { low: [52, 178, 120], medium: [245, 200, 60], high: [250, 125, 45], critical: [235, 40, 70] },
    incident_stages: {
      reported: [255, 90, 90], accepted: [255, 170, 60], on_site: [80, 170, 255],
      resolved: [90, 210, 140], closed: [130, 140, 160],
    },
    decades: [[65, 40, 120], [110, 55, 160], [165, 70, 175], [215, 90, 150], [245, 130, 110], [250, 185, 90],
              [245, 235, 140]],
    density: [[25, 45, 85], [30, 90, 140], [40, 150, 170], [100, 200, 150], [210, 230, 110], [255, 200, 60],
              [255, 120, 60]],
    grid_line: [140, 200, 255],
    overdue: [255, 40, 60],
    text: [230, 238, 250],
  };

  const css = (c) => (c.length > 3 ? `rgba(${c[0]},${c[1]},${c[2]},${c[3] / 255})` : `rgb(${c[0]},${c[1]},${c[2]})`);

  // Text put into tooltip HTML (deck.gl's getTooltip takes HTML strings) goes through this.
  function esc(s) {
    return String(s == null ? "" : s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
  }

  // ---- legend ------------------------------------------------------------------------------------------
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  function renderLegend(container, sections) {
    const frag = document.createDocumentFragment();
    for (const s of sections || []) {
      const sec = el("section", "legend-section");
      if (s.title) sec.appendChild(el("h3", "legend-title", s.title));
      if (s.ramp) {
        const bar = el("div", "legend-ramp");
        bar.style.background = `linear-gradient(to right, ${s.ramp.map(css).join(", ")})`;
        sec.appendChild(bar);
        const ends = el("div", "legend-ramp-labels");
        ends.appendChild(el("span", null, (s.labels && s.labels[0]) || t("low")));
        ends.appendChild(el("span", null, (s.labels && s.labels[1]) || t("high")));
        sec.appendChild(ends);
      }
      for (const item of s.items || []) {
        const row = el("div", "legend-item");
        const sw = el("span", "swatch " + (item.shape || "square"));
        sw.style.setProperty("--c", css(item.color));
        row.appendChild(sw);
        row.appendChild(el("span", "legend-label", item.label));
        if (item.count != null) row.appendChild(el("span", "legend-count", fmt.int(item.count)));
        sec.appendChild(row);
      }
      frag.appendChild(sec);
    }
    container.replaceChildren(frag);
  }

  // ---- GCJ-02 (the datum of most Chinese web base maps) ------------------------------------------------
  const A = 6378245.0, EE = 0.00669342162296594323;
  function outOfChina(lon, lat) { return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271; }
  function tLat(x, y) {
    let r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLon(x, y) {
    let r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function gcj02(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let dLat = tLat(lon - 105, lat - 35), dLon = tLon(lon - 105, lat - 35);
    const rad = lat / 180 * Math.PI;
    let magic = Math.sin(rad);
    magic = 1 - EE * magic * magic;
    const sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLon = (dLon * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return [lon + dLon, lat + dLat];
  }
  function wgs84FromGcj02(lon, lat) {
    // Fixed-point inversion: three rounds bring the error well under a centimetre.
    let x = lon, y = lat;
    for (let i = 0; i < 3; i++) {
      const g = gcj02(x, y);
      x -= g[0] - lon;
      y -= g[1] - lat;
    }
    return [x, y];
  }

  // ---- base map and deck ----------------------------------------------------------------------------
  // deck.gl picks the tiles whose bbox meets the view, but a GCJ-02 tile shows ground some 500 m south-west of its
  // bbox: pick tiles for the view moved onto GCJ-02, or a strip along the east and north edges stays empty.
  let Gcj02Tileset = null;
  function gcj02Tileset() {
    if (!Gcj02Tileset) {
      Gcj02Tileset = class extends deck._Tileset2D {
        getTileIndices(opts) {
          const v = opts.viewport;
          const [longitude, latitude] = gcj02(v.longitude, v.latitude);
          const viewport = new deck.WebMercatorViewport({
            width: v.width, height: v.height, longitude, latitude, zoom: v.zoom, pitch: v.pitch, bearing: v.bearing,
          });
          return super.getTileIndices({ ...opts, viewport });
        }
      };
    }
    return Gcj02Tileset;
  }

  function baseMapLayer(url, crs) {
    if (!url) return null;
    const shift = String(crs || "").toLowerCase().replace(/[-_]/g, "") === "gcj02"; // as twin.chinacoords reads it
    return new deck.TileLayer({
      id: "basemap",
      ...(shift ? { TilesetClass: gcj02Tileset() } : {}),
      data: url,
      minZoom: 0,
      maxZoom: 19,
      tileSize: 256,
      maxCacheSize: 200, // bounded: a wall screen runs for weeks
      refinementStrategy: "no-overlap", // translucent tiles: a placeholder under its children would show through
      renderSubLayers: (props) => {
        const { west, south, east, north } = props.tile.bbox;
        // Tiles are drawn in GCJ-02 coordinates; move each tile back onto WGS84, where our data lives.
        const sw = shift ? wgs84FromGcj02(west, south) : [west, south];
        const ne = shift ? wgs84FromGcj02(east, north) : [east, north];
        return new deck.BitmapLayer(props, {
          data: null, image: props.data, bounds: [sw[0], sw[1], ne[0], ne[1]], opacity: 0.55,
        });
      },
    });
  }

  function fitBounds(bbox, container, opts) {
    const w = Math.max(container.clientWidth || window.innerWidth, 100);
    const h = Math.max(container.clientHeight || window.innerHeight, 100);
    const vp = new deck.WebMercatorViewport({ width: w, height: h });
    const pad = (opts && opts.padding) != null ? opts.padding : Math.round(Math.min(w, h) * 0.06);
    const fit = vp.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { padding: pad });
    return {
      longitude: fit.longitude, latitude: fit.latitude, zoom: Math.min(fit.zoom, 19),
      pitch: (opts && opts.pitch) != null ? opts.pitch : 45, bearing: (opts && opts.bearing) || 0,
      maxPitch: 75,
    };
  }

  function createMap(container, opts) {
    opts = opts || {};
    const base = baseMapLayer(opts.tileUrl !== undefined ? opts.tileUrl : config.tileUrl,
                              opts.tileCrs || config.tileCrs);
    const d = new deck.Deck({
      parent: container,
      views: new deck.MapView({ repeat: false }),
      initialViewState: opts.initialViewState || { longitude: 116.4, latitude: 39.9, zoom: 13, pitch: 45, bearing: 0 },
      controller: { dragRotate: true, touchRotate: true, inertia: true },
      layers: [],
      getTooltip: opts.getTooltip || null,
      useDevicePixels: opts.useDevicePixels != null ? opts.useDevicePixels : true,
      parameters: { clearColor: palette.background.map((v) => v / 255).concat(1) },
      onError: (e) => showError(e),
      ...(opts.onLoad ? { onLoad: opts.onLoad } : {}),
      ...(opts.onAfterRender ? { onAfterRender: opts.onAfterRender } : {}),
    });
    // Page layers are set through map.setLayers so that the base map always stays underneath.
    d.twinBase = base;
    d.setLayers = (layers) => d.setProps({ layers: [base].concat(layers).filter(Boolean) });
    d.setLayers(opts.layers || []);
    lastMap = d;
    return d;
  }

  let lastMap = null; // the page's map (each page makes one)

  // Tests and debugging: whether the base map has loaded, and each tile it draws with the bounds it is drawn at.
  function baseMapTiles() {
    const layers = lastMap && lastMap.layerManager ? lastMap.layerManager.getLayers() : [];
    const base = layers.find((l) => l.id === "basemap");
    const tiles = layers.filter((l) => l instanceof deck.BitmapLayer && l.props.tile && l.id.startsWith("basemap-"))
      .map((l) => ({ index: l.props.tile.index, bounds: l.props.bounds, loaded: Boolean(l.props.image),
                     visible: l.props.visible !== false }));
    return { loaded: Boolean(base && base.isLoaded), tiles };
  }

  // ---- timers -------------------------------------------------------------------------------------------
  function every(seconds, fn) {
    let stopped = false, timer = null;
    const run = async () => {
      try { await fn(); } catch (e) { if (e.name !== "AbortError") showError(e); }
      if (!stopped) timer = setTimeout(run, Math.max(1, seconds) * 1000);
    };
    run();
    return () => { stopped = true; clearTimeout(timer); };
  }

  // ---- page chrome: clock and language links that keep the other query parameters --------------------
  function startClock() {
    const c = document.getElementById("twin-clock");
    if (!c) return;
    const tick = () => { c.textContent = fmt.time(new Date()); };
    tick();
    setInterval(tick, 1000);
  }

  function fixLangLinks() {
    for (const a of document.querySelectorAll(".lang-switch a[data-lang]")) {
      const u = new URL(window.location.href);
      u.searchParams.set("lang", a.dataset.lang);
      a.href = u.pathname + u.search + u.hash;
    }
  }

  window.Twin = {
    config, lang, user: config.user || null, t, addStrings, label, HttpError, fetchJSON, fetchBinary, showError, setStatus, fmt, palette,
    css, renderLegend, createMap, fitBounds, baseMapLayer, every, gcj02, wgs84FromGcj02, el, esc,
    currentMap: () => lastMap, baseMapTiles,
  };

  document.addEventListener("DOMContentLoaded", () => { startClock(); fixLangLinks(); });
  if (document.readyState !== "loading") { startClock(); fixLangLinks(); }
})();
