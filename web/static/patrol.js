/* The grid worker's phone (/patrol): my grid's open incidents by urgency (GET /api/patrol/incidents) over a small
 * map; an incident's detail (GET /api/patrol/incidents/{id}) with accept / on site / resolve through
 * POST /api/incidents/{id}/actions and a photo (POST /api/incidents/{id}/photo); a report at my GPS position or a
 * tap on the map with a category, text and a photo from the camera (POST /api/patrol/reports, multipart).
 * The caller is the signed-in user (cookie) or the bearer token of Twin.authHeaders().
 * window.twinPatrol = {incidents, detail, position, reports} for tests.
 */
(function () {
  "use strict";

  Twin.addStrings({
    zh: {
      pt_count: "我的网格：在办事件 {n} 件", pt_overdue: "超时 {d}", pt_left: "剩余 {d}", pt_min: "{n}分钟",
      pt_hour: "{n}小时", pt_day: "{n}天", pt_position: "位置：{lon}, {lat}", pt_no_gps: "无法定位，请在地图上点选位置",
      pt_sent: "已上报 {id}", pt_done: "已更新", pt_category: "类别", pt_stage: "阶段", pt_reported: "上报时间",
      pt_due: "下一时限", pt_desc: "描述", pt_photo: "照片", pt_history: "处理记录", pt_none: "无", pt_number: "编号",
      pt_locating: "位置：正在定位…（也可在地图上点选）",
    },
    en: {
      pt_count: "My grid: {n} open incidents", pt_overdue: "{d} overdue", pt_left: "{d} left", pt_min: "{n} min",
      pt_hour: "{n} h", pt_day: "{n} d", pt_position: "Position: {lon}, {lat}", pt_no_gps: "No GPS fix: tap the map",
      pt_sent: "Reported {id}", pt_done: "Updated", pt_category: "Category", pt_stage: "Stage",
      pt_reported: "Reported", pt_due: "Next deadline", pt_desc: "Description", pt_photo: "Photo",
      pt_history: "History", pt_none: "none", pt_number: "Number", pt_locating: "Position: locating… (or tap the map)",
    },
  });
  const t = Twin.t;
  const C = Twin.config;
  const P = Twin.palette;
  const $ = (id) => document.getElementById(id);
  const S = (window.twinPatrol = { incidents: [], detail: null, position: null, reports: 0, view: "list" });
  let map = null;

  // ---- helpers ---------------------------------------------------------------------------------------------
  function span(seconds) {
    const m = Math.max(1, Math.round(Math.abs(seconds) / 60));
    if (m < 60) return t("pt_min", { n: m });
    if (m < 48 * 60) return t("pt_hour", { n: Math.round(m / 60) });
    return t("pt_day", { n: Math.round(m / 1440) });
  }

  const dtFmt = new Intl.DateTimeFormat(Twin.lang === "en" ? "en-GB" : "zh-CN",
    { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const when = (iso) => (iso ? dtFmt.format(new Date(iso)) : "–");

  async function send(url, form) {
    // multipart: fetch directly (Twin.fetchJSON sends JSON), with the same error shape
    let resp;
    try {
      resp = await fetch(url, { method: "POST", body: form, headers: Twin.authHeaders() });
    } catch (e) {
      throw new Twin.HttpError(0, "network", t("offline"));
    }
    const body = await resp.json().catch(() => null);
    if (!resp.ok) throw new Twin.HttpError(resp.status, (body && body.code) || "http", (body && body.message) || resp.statusText);
    return body;
  }

  function show(view) {
    S.view = view;
    $("pt-list-view").hidden = view !== "list";
    $("pt-detail-view").hidden = view !== "detail";
    $("pt-report-view").hidden = view !== "report";
  }

  // ---- the list ----------------------------------------------------------------------------------------------
  async function load() {
    try {
      const doc = await Twin.fetchJSON("/api/patrol/incidents", { headers: Twin.authHeaders() });
      $("pt-signin").hidden = true;
      S.incidents = doc.incidents;
      renderList();
      draw();
    } catch (e) {
      if (e.status === 401 || e.status === 403) { $("pt-signin").hidden = false; return; }
      throw e;
    }
  }

  function renderList() {
    $("pt-count").textContent = t("pt_count", { n: S.incidents.length });
    const items = S.incidents.map((inc) => {
      const li = Twin.el("li", "pt-item" + (inc.overdue ? " overdue" : ""));
      li.dataset.id = inc.incident_id;
      li.style.setProperty("--c", Twin.css(P.incident_stages[inc.stage] || P.text));
      const l1 = Twin.el("div", "pt-line1");
      l1.append(Twin.el("span", null, Twin.label("incident_categories", inc.category)),
                Twin.el("span", inc.overdue ? "pt-late" : "", inc.overdue ? t("pt_overdue", { d: span(inc.overdue_seconds) })
                  : inc.due_in_seconds != null ? t("pt_left", { d: span(inc.due_in_seconds) }) : ""));
      // text nodes only (Twin.el sets textContent): the resident's words are never parsed as markup
      const l2 = Twin.el("div", "pt-line2",
        [inc.incident_id, Twin.label("incident_stages", inc.stage), inc.description].filter(Boolean).join(" · "));
      li.append(l1, l2);
      li.addEventListener("click", () => openDetail(inc.incident_id));
      return li;
    });
    $("pt-list").replaceChildren(...items);
    $("pt-empty").hidden = S.incidents.length > 0;
  }

  // ---- the detail --------------------------------------------------------------------------------------------
  async function openDetail(id) {
    const doc = await Twin.fetchJSON(`/api/patrol/incidents/${encodeURIComponent(id)}`, { headers: Twin.authHeaders() });
    S.detail = doc;
    const box = $("pt-detail");
    box.dataset.id = doc.incident_id;
    const dl = Twin.el("dl");
    const add = (k, v) => dl.append(Twin.el("dt", null, k), Twin.el("dd", null, v));
    add(t("pt_number"), doc.incident_id);
    add(t("pt_stage"), Twin.label("incident_stages", doc.stage));
    add(t("pt_reported"), when(doc.reported_at));
    add(t("pt_due"), doc.overdue ? t("pt_overdue", { d: span(doc.overdue_seconds) }) : when(doc.next_due));
    add(t("pt_desc"), doc.description || t("pt_none"));
    const parts = [Twin.el("h3", null, Twin.label("incident_categories", doc.category)), dl];
    if (doc.photo) {
      const img = Twin.el("img", "pt-photo");
      img.alt = t("pt_photo");
      parts.push(img);
      photoInto(img, doc.photo);
    }
    parts.push(Twin.el("h3", null, t("pt_history")));
    const hist = Twin.el("ul");
    for (const h of doc.history) {
      const line = [when(h.at), h.actor, Twin.label("incident_stages", h.to_stage), h.note].filter(Boolean).join(" · ");
      hist.appendChild(Twin.el("li", null, line));
    }
    parts.push(hist);
    box.replaceChildren(...parts);
    const next = { reported: "accept", accepted: "arrive", on_site: "resolve" }[doc.stage];
    for (const b of document.querySelectorAll("#pt-actions [data-action]")) b.disabled = b.dataset.action !== next;
    show("detail");
    fly([doc.lon, doc.lat]);
  }

  async function photoInto(img, url) {
    // with the caller's credentials (an <img src> would not send a bearer token)
    const resp = await fetch(url, { headers: Twin.authHeaders() });
    if (resp.ok) { img.src = URL.createObjectURL(await resp.blob()); img.dataset.loaded = "1"; }
  }

  async function act(action) {
    const id = S.detail.incident_id;
    const note = $("pt-note").value.trim();
    await Twin.fetchJSON(`/api/incidents/${encodeURIComponent(id)}/actions`,
      { method: "POST", headers: Twin.authHeaders(), body: { action, ...(note ? { note } : {}) } });
    $("pt-note").value = "";
    Twin.setStatus(t("pt_done"));
    await load();
    await openDetail(id);
  }

  async function addPhoto() {
    const file = $("pt-detail-photo").files[0];
    if (!file) return;
    const form = new FormData();
    form.append("photo", file);
    await send(`/api/incidents/${encodeURIComponent(S.detail.incident_id)}/photo`, form);
    $("pt-detail-photo").value = "";
    await openDetail(S.detail.incident_id);
  }

  // ---- reporting ---------------------------------------------------------------------------------------------
  function startReport() {
    show("report");
    if (!S.position) locate();
  }

  function locate() {
    $("pt-position").textContent = t("pt_locating");
    if (!navigator.geolocation) { $("pt-position").textContent = t("pt_no_gps"); return; }
    navigator.geolocation.getCurrentPosition(
      (pos) => setPosition([pos.coords.longitude, pos.coords.latitude]),
      () => { if (!S.position) $("pt-position").textContent = t("pt_no_gps"); },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
  }

  function setPosition(lonlat) {
    S.position = lonlat;
    $("pt-position").textContent = t("pt_position", { lon: lonlat[0].toFixed(5), lat: lonlat[1].toFixed(5) });
    $("pt-send").disabled = false;
    draw();
  }

  async function submit(e) {
    e.preventDefault();
    const form = new FormData($("pt-form"));
    if (!$("pt-photo").files.length) form.delete("photo");
    form.append("lon", S.position[0]);
    form.append("lat", S.position[1]);
    $("pt-send").disabled = true;
    try {
      const doc = await send("/api/patrol/reports", form);
      S.reports++;
      $("pt-form").reset();
      Twin.setStatus(t("pt_sent", { id: doc.incident_id }));
      await load();
      await openDetail(doc.incident_id);
    } finally {
      $("pt-send").disabled = !S.position;
    }
  }

  // ---- the map -------------------------------------------------------------------------------------------
  function draw() {
    if (!map) return;
    const layers = [new deck.ScatterplotLayer({
      id: "patrol-incidents", data: S.incidents, getPosition: (d) => [d.lon, d.lat], radiusUnits: "pixels",
      getRadius: (d) => (d.overdue ? 9 : 7), stroked: true, lineWidthUnits: "pixels", getLineWidth: 2,
      getFillColor: (d) => P.incident_stages[d.stage] || P.text,
      getLineColor: (d) => (d.overdue ? P.overdue : [10, 14, 24]), pickable: true,
      onClick: (info) => { if (S.view !== "report" && info.object) openDetail(info.object.incident_id); return true; },
    })];
    if (S.position) {
      layers.push(new deck.ScatterplotLayer({
        id: "patrol-me", data: [S.position], getPosition: (d) => d, radiusUnits: "pixels", getRadius: 8,
        getFillColor: [77, 179, 255], stroked: true, getLineColor: [255, 255, 255], lineWidthUnits: "pixels", getLineWidth: 3,
      }));
    }
    map.setLayers(layers);
  }

  function fly(lonlat) {
    const pad = 0.0015;
    const view = Twin.fitBounds([lonlat[0] - pad, lonlat[1] - pad, lonlat[0] + pad, lonlat[1] + pad], $("map"), { pitch: 0 });
    map.setProps({ initialViewState: { ...view, transitionDuration: 600, transitionInterpolator: new deck.FlyToInterpolator() } });
  }

  function start() {
    const sel = $("pt-category");
    for (const code of C.categories) {
      const o = Twin.el("option", null, Twin.label("incident_categories", code));
      o.value = code;
      sel.appendChild(o);
    }
    map = Twin.createMap($("map"), { initialViewState: Twin.fitBounds(C.bbox, $("map"), { pitch: 0 }) });
    map.setProps({ onClick: (info) => { if (S.view === "report" && info.coordinate) setPosition(info.coordinate.slice(0, 2)); } });
    $("pt-new").addEventListener("click", startReport);
    $("pt-cancel").addEventListener("click", () => show("list"));
    $("pt-back").addEventListener("click", () => show("list"));
    $("pt-gps").addEventListener("click", locate);
    $("pt-form").addEventListener("submit", (e) => submit(e).catch(Twin.showError));
    $("pt-detail-photo").addEventListener("change", () => addPhoto().catch(Twin.showError));
    for (const b of document.querySelectorAll("#pt-actions [data-action]")) {
      b.addEventListener("click", () => act(b.dataset.action).catch(Twin.showError));
    }
    document.addEventListener("twin:place", (e) => { if (S.view === "report" && e.detail.bbox) {
      const b = e.detail.bbox; setPosition([(b[0] + b[2]) / 2, (b[1] + b[3]) / 2]);
    } });
    S.ready = true;
    Twin.every(Math.max(C.refreshSeconds, 30), () => (S.view === "list" ? load() : null));
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
