/* The report page (templates/reports.html): /api/reports/page drawn as plain SVG charts and tables.
 *
 * Every drawn figure carries data-key (the path of the figure in the API answer, e.g. "by_category.garbage",
 * "trend.3.on_time.accept") and data-value (the raw value; "" when suppressed), so tests compare the page with
 * /api/reports/* directly. window.twinReports: {doc (the last answer), loads, rendered}.
 */
(function () {
  "use strict";

  Twin.addStrings({
    zh: {
      rp_total: "事件总数", rp_open: "未办结", rp_overdue: "超时", rp_closure: "办结率", rp_rating: "平均满意度",
      rp_accept: "按时受理率", rp_on_site: "按时到场率", rp_resolve: "按时办结率", rp_reports: "上报事件数",
      rp_as_of: "数据时间 {time}{partial}", rp_partial: "（报告期未结束）", rp_compound: "小区", rp_state: "物业",
      rp_passed: "达标", rp_yes: "达标", rp_no: "未达标", rp_sixnos_meta: "{quarter}：{passed} / {total} 个小区达标；下表列出未达标小区及其背后的事件。",
      rp_all_passed: "全部小区达标。", rp_more_grids: "另有 {n} 个网格，见 XLSX 导出。",
      rp_suppressed: "求助、关爱走访等涉及住户的类别，1–2 件时显示为 <3，其热点不列出。",
      rp_hotspots_meta: "同类问题在同一楼栋或 {radius} 米内反复上报（至少 {min} 件）：共 {total} 处，下表列出最大的 {shown} 处；全部见“导出全部 CSV”。",
      rp_no_hotspots: "本期没有重复热点。", rp_category: "类别", rp_grid: "网格", rp_count: "事件数",
      rp_first: "首次上报", rp_last: "最近上报",
      rp_need_token: "请输入令牌。", rp_loading: "加载中…", rp_weekly: "周报", rp_monthly: "月报", rp_quarterly: "季度考核",
    },
    en: {
      rp_total: "Incidents", rp_open: "Open", rp_overdue: "Overdue", rp_closure: "Closure rate", rp_rating: "Mean rating",
      rp_accept: "Accepted on time", rp_on_site: "On site on time", rp_resolve: "Resolved on time",
      rp_reports: "Incidents reported", rp_as_of: "Data as of {time}{partial}", rp_partial: " (period not over)",
      rp_compound: "Compound", rp_state: "Management", rp_passed: "Passed", rp_yes: "passed", rp_no: "failed",
      rp_sixnos_meta: "{quarter}: {passed} of {total} compounds pass; the table lists those that fail and the incidents behind each failure.",
      rp_all_passed: "Every compound passes.", rp_more_grids: "{n} more grids in the XLSX export.",
      rp_suppressed: "Categories about a household (SOS, care visits) show 1–2 as <3; their hotspots are not listed.",
      rp_hotspots_meta: "The same problem reported again and again in one building or within {radius} m (at least {min}): {total} places; the {shown} largest are listed; all of them in “Export all (CSV)”.",
      rp_no_hotspots: "No repeat hotspot in this period.", rp_category: "Category", rp_grid: "Grid",
      rp_count: "Incidents", rp_first: "First reported", rp_last: "Last reported",
      rp_need_token: "Type a token first.", rp_loading: "Loading…", rp_weekly: "Weekly report",
      rp_monthly: "Monthly report", rp_quarterly: "Quarterly assessment",
    },
  });
  const t = Twin.t, f = Twin.fmt, $ = (id) => document.getElementById(id);
  const LIMITS = ["accept", "on_site", "resolve"];
  const LIMIT_COLORS = { accept: "#2f8fe0", on_site: "#22a889", resolve: "#e0802f" };
  const TOP_GRIDS = 15;
  const TOKEN_KEY = "twin.token";
  const state = (window.twinReports = { doc: null, loads: 0, rendered: 0 });
  let period = "weekly";

  // ---- SVG helpers ------------------------------------------------------------------------------------------
  const NS = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    const n = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) if (v != null) n.setAttribute(k, v);
    if (text != null) n.textContent = text;
    return n;
  }
  const figure = (key, value) => ({ "data-key": key, "data-value": value == null ? "" : String(value) });
  const count = (v) => (v == null ? "<3" : f.int(v));

  // Vertical bars of totals (left axis) with the on-time rates as lines (right axis, 0-100%).
  function trendChart(el, trend) {
    const W = 720, H = 260, L = 44, R = 44, T = 14, B = 40, w = W - L - R, h = H - T - B;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": t("rp_reports") });
    const max = Math.max(1, ...trend.map((p) => p.total));
    const step = w / trend.length, bw = step * 0.6;
    for (let k = 0; k <= 4; k++) {
      const y = T + h - (h * k) / 4;
      root.appendChild(svg("line", { x1: L, x2: L + w, y1: y, y2: y, class: "grid" }));
      root.appendChild(svg("text", { x: L - 6, y: y + 4, class: "axis", "text-anchor": "end" }, f.int(Math.round((max * k) / 4))));
      root.appendChild(svg("text", { x: L + w + 6, y: y + 4, class: "axis" }, `${25 * k}%`));
    }
    trend.forEach((p, i) => {
      const x = L + i * step + (step - bw) / 2, bh = (h * p.total) / max;
      const bar = svg("rect", { x, y: T + h - bh, width: bw, height: bh, class: "bar", ...figure(`trend.${i}.total`, p.total) });
      bar.dataset.period = p.period.label;
      bar.appendChild(svg("title", {}, `${p.period.label}: ${f.int(p.total)}`));
      root.appendChild(bar);
      root.appendChild(svg("text", { x: x + bw / 2, y: H - B + 16, class: "axis", "text-anchor": "middle" }, shortLabel(p.period.label)));
    });
    for (const lim of LIMITS) {
      const pts = [];
      trend.forEach((p, i) => {
        const v = p.on_time[lim];
        const x = L + i * step + step / 2, y = v == null ? null : T + h - h * v;
        const dot = svg("circle", { cx: x, cy: y ?? T + h, r: v == null ? 0 : 3.5, fill: LIMIT_COLORS[lim], ...figure(`trend.${i}.on_time.${lim}`, v) });
        dot.appendChild(svg("title", {}, `${p.period.label} ${t("rp_" + lim)}: ${f.pct(v)}`));
        root.appendChild(dot);
        if (y != null) pts.push(`${x},${y}`);
      });
      if (pts.length > 1) root.insertBefore(svg("polyline", { points: pts.join(" "), fill: "none", stroke: LIMIT_COLORS[lim], "stroke-width": 2 }), root.firstChild.nextSibling);
    }
    const key = svg("g", { class: "key" });
    [["rp_reports", "#8aa0bf"], ...LIMITS.map((l) => ["rp_" + l, LIMIT_COLORS[l]])].forEach(([k, c], i) => {
      key.appendChild(svg("rect", { x: L + i * 150, y: H - 14, width: 10, height: 10, fill: c }));
      key.appendChild(svg("text", { x: L + i * 150 + 14, y: H - 5, class: "axis" }, t(k)));
    });
    root.appendChild(key);
    el.replaceChildren(root);
  }

  const shortLabel = (label) => label.replace(/^\d{4}-?/, "");

  // Horizontal bars: rows of {key, label, value (null = suppressed)}.
  function barChart(el, rows) {
    const W = 360, row = 22, L = 130, R = 46, H = rows.length * row + 8;
    const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img" });
    const max = Math.max(1, ...rows.map((r) => r.value || 0));
    rows.forEach((r, i) => {
      const y = 4 + i * row, bw = ((W - L - R) * (r.value || 0)) / max;
      root.appendChild(svg("text", { x: L - 6, y: y + 15, class: "label", "text-anchor": "end" }, r.label));
      const bar = svg("rect", { x: L, y: y + 3, width: Math.max(bw, 0.5), height: row - 8, class: "bar", ...figure(r.key, r.value) });
      bar.appendChild(svg("title", {}, `${r.label}: ${count(r.value)}`));
      root.appendChild(bar);
      root.appendChild(svg("text", { x: L + bw + 5, y: y + 15, class: "value" }, count(r.value)));
    });
    el.replaceChildren(root);
  }

  // ---- sections -----------------------------------------------------------------------------------------------
  function figures(rep) {
    const items = [["total", t("rp_total"), f.int(rep.total)], ["open", t("rp_open"), f.int(rep.open)],
                   ["overdue", t("rp_overdue"), f.int(rep.overdue)], ["closure_rate", t("rp_closure"), f.pct(rep.closure_rate)],
                   ["mean_rating", t("rp_rating"), rep.mean_rating == null ? "–" : rep.mean_rating.toFixed(2)]];
    for (const lim of LIMITS) items.push([`on_time.${lim}`, t("rp_" + lim), f.pct(rep.on_time[lim])]);
    const box = $("rp-figures");
    box.replaceChildren(...items.map(([key, label, text]) => {
      const cell = Twin.el("div", "rp-figure");
      cell.appendChild(Twin.el("div", "rp-figure-label", label));
      const v = Twin.el("div", "rp-figure-value", text);
      const value = key.split(".").reduce((o, k) => o[k], rep);
      Object.assign(v.dataset, { key, value: value == null ? "" : String(value) });
      cell.appendChild(v);
      return cell;
    }));
  }

  function hotspots(rep, names) {
    const rule = rep.hotspot_rule, list = rep.hotspots;
    const meta = $("rp-hotspots-meta");
    meta.textContent = t("rp_hotspots_meta", { radius: rule.radius_m, min: rule.min_count,
      total: f.int(rep.hotspots_total), shown: f.int(list.length) });
    Object.assign(meta.dataset, { total: rep.hotspots_total, shown: list.length });
    const head = Twin.el("tr");
    for (const key of ["rp_category", "rp_compound", "rp_grid", "rp_count", "rp_first", "rp_last"]) head.appendChild(Twin.el("th", null, t(key)));
    const table = $("rp-hotspots-table");
    table.tHead.replaceChildren(head);
    const place = (dim, code) => (code == null ? "–" : (names[dim] || {})[code] || code);
    const rows = list.map((h) => {
      const tr = Twin.el("tr");
      Object.assign(tr.dataset, { category: h.category, count: h.count, ids: h.incident_ids.join(" ") });
      tr.appendChild(Twin.el("td", null, Twin.label("incident_categories", h.category)));
      tr.appendChild(Twin.el("td", "rp-name", place("compound", h.compound_id)));
      tr.appendChild(Twin.el("td", null, place("grid", h.grid_code)));
      tr.appendChild(Twin.el("td", "num", f.int(h.count)));
      tr.appendChild(Twin.el("td", null, h.first_reported.slice(0, 16).replace("T", " ")));
      tr.appendChild(Twin.el("td", null, h.last_reported.slice(0, 16).replace("T", " ")));
      return tr;
    });
    if (!rows.length) {
      const tr = Twin.el("tr"), td = Twin.el("td", null, t("rp_no_hotspots"));
      td.colSpan = 6;
      tr.appendChild(td);
      rows.push(tr);
    }
    table.tBodies[0].replaceChildren(...rows);
  }

  function sixNos(six) {
    const s = six.summary, nos = Object.keys(s.failed_by_no); // the rating's order of the six "nos"
    $("rp-sixnos-meta").textContent = t("rp_sixnos_meta", { quarter: six.quarter.label, passed: f.int(s.passed), total: f.int(s.compounds) });
    $("rp-sixnos-meta").dataset.passed = s.passed;
    $("rp-sixnos-meta").dataset.total = s.compounds;
    const head = Twin.el("tr");
    for (const text of [t("rp_compound"), t("rp_state"), ...nos.map((no) => Twin.label("six_nos", no))]) head.appendChild(Twin.el("th", null, text));
    const table = $("rp-sixnos-table");
    table.tHead.replaceChildren(head);
    const rows = six.compounds.filter((c) => !c.passed).map((c) => {
      const tr = Twin.el("tr");
      tr.dataset.compound = c.compound_id;
      tr.appendChild(Twin.el("td", "rp-name", c.name || c.compound_id));
      tr.appendChild(Twin.el("td", null, c.state ? Twin.label("property_states", c.state) : "–"));
      for (const no of nos) {
        const v = c.nos[no], td = Twin.el("td", v.passed ? "ok" : "fail");
        td.dataset.no = no;
        td.dataset.ids = v.incident_ids.join(" ");
        td.textContent = v.passed ? "✓" : v.incident_ids.join(" ");
        td.title = v.passed ? t("rp_yes") : t("rp_no");
        tr.appendChild(td);
      }
      return tr;
    });
    if (!rows.length) {
      const tr = Twin.el("tr"), td = Twin.el("td", null, t("rp_all_passed"));
      td.colSpan = nos.length + 2;
      tr.appendChild(td);
      rows.push(tr);
    }
    table.tBodies[0].replaceChildren(...rows);
  }

  function render(doc) {
    const rep = doc.report, p = rep.period;
    $("rp-title").textContent = `${t("rp_" + p.kind)} · ${p.label}`;
    const partial = rep.complete ? "" : t("rp_partial");
    $("rp-meta").textContent = `${p.start.slice(0, 10)} – ${p.end.slice(0, 10)} · ` +
      t("rp_as_of", { time: rep.as_of.slice(0, 16).replace("T", " "), partial });
    figures(rep);
    trendChart($("rp-trend"), doc.trend);
    barChart($("rp-category"), Object.entries(rep.by_category)
      .map(([code, n]) => ({ key: `by_category.${code}`, label: Twin.label("incident_categories", code), value: n }))
      .sort((a, b) => (b.value || 0) - (a.value || 0)));
    const grids = Object.entries(rep.by_grid).sort((a, b) => b[1] - a[1]);
    barChart($("rp-grid"), grids.slice(0, TOP_GRIDS).map(([code, n]) => ({
      key: `by_grid.${code}`, label: (doc.names.grid || {})[code] || code, value: n })));
    hotspots(rep, doc.names);
    sixNos(doc.sixnos);
    const notes = [];
    if (grids.length > TOP_GRIDS) notes.push(t("rp_more_grids", { n: f.int(grids.length - TOP_GRIDS) }));
    if (doc.suppressed_categories.length) notes.push(t("rp_suppressed"));
    $("rp-note").textContent = notes.join(" ");
    $("rp-empty").hidden = true;
    $("rp-body").hidden = false;
    $("rp-print").disabled = false;
    $("rp-xlsx").disabled = false;
    $("rp-csv").disabled = false;
    state.rendered++;
  }

  // ---- data -----------------------------------------------------------------------------------------------------
  function query() {
    const q = new URLSearchParams({ period, lang: Twin.lang });
    if ($("rp-date").value) q.set("date", $("rp-date").value);
    return q.toString();
  }

  function auth() {
    const token = $("rp-token").value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    return token ? { Authorization: "Bearer " + token } : null;
  }

  async function load() {
    const headers = auth();
    if (!headers) { Twin.setStatus(t("rp_need_token"), "error"); return; }
    Twin.setStatus(t("rp_loading"));
    try {
      state.doc = await Twin.fetchJSON("/api/reports/page?" + query(), { headers });
      state.loads++;
      render(state.doc);
      Twin.setStatus(t("updated", { time: f.time(new Date()) }));
    } catch (e) {
      Twin.setStatus(e.message, "error");
      Twin.showError(e);
    }
  }

  async function download(path, ext) {
    const headers = auth();
    if (!headers) return;
    const resp = await fetch(path, { headers });
    if (!resp.ok) { Twin.showError(new Error(resp.statusText)); return; }
    const url = URL.createObjectURL(await resp.blob());
    const a = Object.assign(document.createElement("a"), { href: url, download: `report-${state.doc.report.period.label}.${ext}` });
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  function start() {
    const params = new URLSearchParams(window.location.search);
    if (Twin.config.periods[params.get("period")]) period = params.get("period");
    if (params.get("date")) $("rp-date").value = params.get("date");
    for (const b of document.querySelectorAll("#rp-period button")) {
      b.classList.toggle("on", b.dataset.period === period);
      b.addEventListener("click", () => {
        period = b.dataset.period;
        for (const o of document.querySelectorAll("#rp-period button")) o.classList.toggle("on", o === b);
        if (state.doc) load();
      });
    }
    $("rp-token").value = sessionStorage.getItem(TOKEN_KEY) || "";
    $("rp-load").addEventListener("click", load);
    $("rp-token").addEventListener("keydown", (e) => { if (e.key === "Enter") load(); });
    $("rp-print").addEventListener("click", () => window.print());
    $("rp-xlsx").addEventListener("click", () => download("/api/reports/page.xlsx?" + query(), "xlsx"));
    $("rp-csv").addEventListener("click", () => {
      const q = new URLSearchParams({ f: "csv", lang: Twin.lang });
      if ($("rp-date").value) q.set("date", $("rp-date").value);
      download(`/api/reports/${period}?${q}`, "csv");
    });
    if ($("rp-token").value) load();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
