/* The work queue (工单台): filters → GET /api/work (server-side filtering, sorting and paging), the list beside a
 * map, the detail of one incident (GET /api/work/<id>) with its time limits, history and the actions the server
 * says are allowed; actions go to POST /api/incidents/<id>/actions, duplicates to POST /api/work/<id>/duplicate.
 * Alerts (web/static/alerts.js) dispatch "twin:alert" on window: the list reloads at once.
 * Test hooks: body[data-work] = "ready" after each list load; #wk-items li[data-id][data-stage];
 * #wk-detail[data-id][data-stage]; #wk-d-actions button[data-action].
 */
(function () {
  "use strict";
  const cfg = Twin.config;
  const t = Twin.t;
  Twin.addStrings({
    zh: {
      wk_total: "共 {n} 件，超时 {o} 件", wk_page: "第 {p} / {n} 页", wk_left: "剩 {t}", wk_late: "超时 {t}",
      wk_dup: "可能重复", wk_dup_of: "与 {id} 重复", wk_mark_dup: "标为 {id} 的重复",
      wk_category: "类别", wk_stage: "阶段", wk_level: "层级", wk_source: "来源", wk_place: "位置", wk_grid: "网格",
      wk_worker: "网格员", wk_reported: "上报时间", wk_desc: "描述", wk_contact: "联系人", wk_photo: "照片",
      wk_due: "时限", wk_done_at: "完成于", wk_limit_accept: "受理（1分钟）", wk_limit_on_site: "到场（1小时）",
      wk_limit_resolve: "办结（1天）", wk_met: "按时", wk_missed: "超时", wk_none: "暂无可执行的操作",
      wk_done_ok: "已执行：{a}", wk_dups: "重复工单", wk_candidates: "附近同类未办结工单",
      act_accept: "受理", act_arrive: "到场", act_resolve: "办结", act_close: "关闭", act_reopen: "重新打开",
      act_escalate: "上报升级", act_duplicate: "标为重复", act_report: "上报", act_duplicate_linked: "关联重复",
      act_import: "导入",
    },
    en: {
      wk_total: "{n} incidents, {o} overdue", wk_page: "page {p} of {n}", wk_left: "{t} left", wk_late: "{t} late",
      wk_dup: "possible duplicate", wk_dup_of: "duplicate of {id}", wk_mark_dup: "Duplicate of {id}",
      wk_category: "Category", wk_stage: "Stage", wk_level: "Level", wk_source: "Source", wk_place: "Place",
      wk_grid: "Grid", wk_worker: "Grid worker", wk_reported: "Reported", wk_desc: "Description",
      wk_contact: "Contact", wk_photo: "Photo", wk_due: "Due", wk_done_at: "Done", wk_limit_accept: "Accept (1 min)",
      wk_limit_on_site: "On site (1 h)", wk_limit_resolve: "Resolve (1 day)", wk_met: "on time", wk_missed: "late",
      wk_none: "No action is possible now", wk_done_ok: "Done: {a}", wk_dups: "Duplicates",
      wk_candidates: "Open reports of the same kind nearby",
      act_accept: "Accept", act_arrive: "On site", act_resolve: "Resolve", act_close: "Close", act_reopen: "Reopen",
      act_escalate: "Escalate", act_duplicate: "Mark duplicate", act_report: "Reported",
      act_duplicate_linked: "Duplicate linked", act_import: "Imported",
    },
  });
  const $ = (id) => document.getElementById(id);
  const el = Twin.el;
  const S = { page: 1, pages: 1, items: [], selected: null, map: null };

  function fillSelect(sel, table, codes) {
    for (const code of codes || Object.keys(cfg.vocab[table] || {})) {
      const o = el("option", null, Twin.label(table, code));
      o.value = code;
      sel.appendChild(o);
    }
  }

  function duration(s) {
    const a = Math.abs(s);
    if (a < 90) return Math.round(a) + (Twin.lang === "en" ? " s" : "秒");
    if (a < 5400) return Math.round(a / 60) + (Twin.lang === "en" ? " min" : "分钟");
    if (a < 172800) return (a / 3600).toFixed(1) + (Twin.lang === "en" ? " h" : "小时");
    return Math.round(a / 86400) + (Twin.lang === "en" ? " d" : "天");
  }

  function query() {
    const fd = new FormData($("wk-filters"));
    const q = new URLSearchParams();
    for (const [k, v] of fd.entries()) if (v !== "" && k !== "sound") q.set(k, v);
    q.set("page", String(S.page));
    q.set("lang", Twin.lang);
    return q;
  }

  // ---- the list -----------------------------------------------------------------------------------------------
  async function load() {
    document.body.dataset.work = "loading";
    try {
      const data = await Twin.fetchJSON("/api/work?" + query().toString());
      S.items = data.items;
      S.pages = Math.max(1, Math.ceil(data.total / data.page_size));
      $("wk-count").textContent = t("wk_total", { n: Twin.fmt.int(data.total), o: Twin.fmt.int(data.overdue) });
      $("wk-page").textContent = t("wk_page", { p: data.page, n: S.pages });
      $("wk-prev").disabled = S.page <= 1;
      $("wk-next").disabled = S.page >= S.pages;
      renderList();
      renderMap();
      Twin.setStatus(t("updated", { time: Twin.fmt.time() }));
    } catch (e) {
      Twin.showError(e);
    }
    document.body.dataset.work = "ready";
  }

  function renderList() {
    const rows = S.items.map((it) => {
      const li = el("li", "wk-item" + (it.overdue ? " overdue" : "") + (it.id === S.selected ? " selected" : ""));
      li.dataset.id = it.id;
      li.dataset.stage = it.stage;
      li.dataset.grid = it.grid_code || "";
      const l1 = el("div", "wk-line1");
      const cat = el("span", "wk-cat", Twin.label("incident_categories", it.category));
      if (it.possible_duplicates.length) cat.appendChild(el("span", "wk-badge wk-dup", t("wk_dup")));
      if (it.duplicate_of) cat.appendChild(el("span", "wk-badge", t("wk_dup_of", { id: it.duplicate_of })));
      l1.appendChild(cat);
      const left = it.seconds_left == null ? Twin.label("incident_stages", it.stage)
        : it.seconds_left < 0 ? t("wk_late", { t: duration(it.seconds_left) }) : t("wk_left", { t: duration(it.seconds_left) });
      l1.appendChild(el("span", "wk-left", left));
      li.appendChild(l1);
      const where = [it.grid_name, it.building_name].filter(Boolean).join(" · ");
      const line2 = [it.id, Twin.label("incident_stages", it.stage), where, it.description].filter(Boolean);
      li.appendChild(el("div", "wk-line2", line2.join(" · ")));
      li.addEventListener("click", () => open(it.id));
      return li;
    });
    $("wk-items").replaceChildren(...rows);
  }

  function renderMap() {
    if (!S.map) return;
    const stageColor = (s) => Twin.palette.incident_stages[s] || [200, 200, 200];
    S.map.setLayers([
      new deck.ScatterplotLayer({
        id: "work-items", data: S.items, getPosition: (d) => [d.lon, d.lat], radiusUnits: "pixels",
        getRadius: (d) => (d.id === S.selected ? 11 : 7), getFillColor: (d) => (d.overdue ? Twin.palette.overdue : stageColor(d.stage)),
        stroked: true, getLineColor: (d) => (d.id === S.selected ? [255, 255, 255] : [10, 10, 10]), lineWidthUnits: "pixels",
        getLineWidth: (d) => (d.id === S.selected ? 3 : 1), pickable: true, onClick: (info) => info.object && open(info.object.id),
        updateTriggers: { getRadius: S.selected, getLineColor: S.selected, getLineWidth: S.selected },
      }),
    ]);
  }

  // ---- one incident -------------------------------------------------------------------------------------------
  async function open(id) {
    S.selected = id;
    renderList();
    renderMap();
    try {
      showDetail(await Twin.fetchJSON(`/api/work/${encodeURIComponent(id)}?lang=${Twin.lang}`));
    } catch (e) { Twin.showError(e); }
  }

  function fact(dl, key, value) {
    if (value == null || value === "") return;
    dl.appendChild(el("dt", null, t(key)));
    const dd = el("dd");
    if (value instanceof Node) dd.appendChild(value); else dd.textContent = value;
    dl.appendChild(dd);
  }

  function showDetail(d) {
    const box = $("wk-detail");
    box.hidden = false;
    box.dataset.id = d.id;
    box.dataset.stage = d.stage;
    $("wk-d-title").textContent = `${Twin.label("incident_categories", d.category)} · ${d.id}`;
    const dl = el("dl", "wk-facts");
    dl.id = "wk-d-facts";
    fact(dl, "wk_stage", Twin.label("incident_stages", d.stage));
    fact(dl, "wk_level", Twin.label("escalation_levels", d.level));
    fact(dl, "wk_source", Twin.label("incident_sources", d.source));
    fact(dl, "wk_reported", d.reported_at);
    fact(dl, "wk_place", [d.community_name, d.compound_name, d.building_name].filter(Boolean).join(" · "));
    fact(dl, "wk_grid", d.grid_name);
    if (d.worker) fact(dl, "wk_worker", [d.worker.worker, d.worker.phone].filter(Boolean).join(" "));
    fact(dl, "wk_desc", d.description);
    fact(dl, "wk_contact", [d.contact_name, d.contact_phone].filter(Boolean).join(" "));
    if (d.media_url && /^https?:\/\//.test(d.media_url)) {
      const a = el("a", null, d.media_url);
      a.href = d.media_url;
      a.rel = "noopener noreferrer";
      a.target = "_blank";
      fact(dl, "wk_photo", a);
    }
    $("wk-d-facts").replaceWith(dl);
    const now = Date.now();
    $("wk-d-limits").querySelector("tbody").replaceChildren(...d.limits.map((l) => {
      const tr = el("tr");
      tr.dataset.limit = l.limit;
      tr.appendChild(el("td", null, t("wk_limit_" + l.limit)));
      let state;
      if (l.done_at) state = el("td", l.met === false ? "late" : "met", `${t("wk_done_at")} ${l.done_at.slice(11, 19)} · ${l.met === false ? t("wk_missed") : t("wk_met")}`);
      else if (d.stage === "resolved" || d.stage === "closed") state = el("td", null, "–");
      else state = el("td", l.seconds_left < 0 ? "late" : "", l.seconds_left < 0 ? t("wk_late", { t: duration(l.seconds_left) }) : t("wk_left", { t: duration(l.seconds_left) }));
      tr.appendChild(state);
      tr.dataset.now = String(now);
      return tr;
    }));
    const dups = $("wk-d-dups");
    dups.replaceChildren();
    if (d.duplicate_of) dups.appendChild(el("p", null, t("wk_dup_of", { id: d.duplicate_of })));
    if (d.duplicates.length) dups.appendChild(el("p", null, `${t("wk_dups")}: ${d.duplicates.join(", ")}`));
    if (d.possible_duplicates.length) dups.appendChild(el("p", "wk-badge", `${t("wk_candidates")}: ${d.possible_duplicates.map((c) => `${c.id} (${Math.round(c.metres)} m)`).join(", ")}`));
    const acts = d.actions.flatMap((a) => {
      if (a !== "duplicate") return [[a, null]];
      return d.possible_duplicates.map((c) => [a, c.id]);
    });
    const buttons = acts.map(([a, of]) => {
      const b = el("button", a === acts[0][0] ? "primary" : null, of ? t("wk_mark_dup", { id: of }) : t("act_" + a));
      b.type = "button";
      b.dataset.action = a;
      if (of) b.dataset.of = of;
      b.addEventListener("click", () => act(d.id, a, of));
      return b;
    });
    $("wk-d-actions").replaceChildren(...(buttons.length ? buttons : [el("span", "wk-none", t("wk_none"))]));
    $("wk-d-history").replaceChildren(...d.history.map((h) => {
      const li = el("li");
      li.dataset.action = h.action;
      const what = t("act_" + h.action) + (h.to_stage ? " → " + Twin.label("incident_stages", h.to_stage) : "");
      li.appendChild(el("div", null, h.note ? what + "：" + h.note : what));
      li.appendChild(el("div", "wk-h-meta", `${h.at} · ${h.actor}`));
      return li;
    }));
  }

  async function act(id, action, of) {
    const note = $("wk-d-note").value.trim();
    const buttons = $("wk-d-actions").querySelectorAll("button");
    buttons.forEach((b) => { b.disabled = true; });
    try {
      if (action === "duplicate") {
        await Twin.fetchJSON(`/api/work/${encodeURIComponent(id)}/duplicate`, { method: "POST", body: { of, note: note || null } });
      } else {
        await Twin.fetchJSON(`/api/incidents/${encodeURIComponent(id)}/actions`, { method: "POST", body: { action, note: note || null } });
      }
      $("wk-d-note").value = "";
      Twin.setStatus(t("wk_done_ok", { a: t("act_" + action) }));
      await open(id);
      await load();
    } catch (e) {
      Twin.showError(e);  // the server's reason, e.g. an action another clerk made impossible a moment ago
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  // ---- wiring -------------------------------------------------------------------------------------------------
  function init() {
    fillSelect($("wk-category"), "incident_categories");
    fillSelect($("wk-source"), "incident_sources");
    for (const g of cfg.grids || []) {
      const o = el("option", null, g.name || g.code);
      o.value = g.code;
      $("wk-grid").appendChild(o);
    }
    const stage = $("wk-stage");
    for (const code of Object.keys(cfg.vocab.incident_stages)) {
      const o = el("option", null, Twin.label("incident_stages", code));
      o.value = code;
      stage.appendChild(o);
    }
    let timer = null;
    $("wk-filters").addEventListener("input", (ev) => {
      if (ev.target.id === "wk-sound") return;
      clearTimeout(timer);
      timer = setTimeout(() => { S.page = 1; load(); }, ev.target.id === "wk-q" ? 300 : 0);
    });
    $("wk-filters").addEventListener("submit", (ev) => ev.preventDefault());
    $("wk-prev").addEventListener("click", () => { if (S.page > 1) { S.page--; load(); } });
    $("wk-next").addEventListener("click", () => { if (S.page < S.pages) { S.page++; load(); } });
    $("wk-d-close").addEventListener("click", () => { $("wk-detail").hidden = true; S.selected = null; renderList(); renderMap(); });
    try {
      S.map = Twin.createMap($("map"), { initialViewState: Twin.fitBounds(cfg.bbox, $("map"), { pitch: 0 }),
        getTooltip: ({ object }) => object && { text: `${Twin.label("incident_categories", object.category)} ${object.id}` } });
    } catch (e) { Twin.showError(e); }
    window.addEventListener("twin:alert", () => { load(); if (S.selected) open(S.selected); });
    Twin.every(30, load);  // time left moves on even when nothing is reported
  }

  init();
})();
