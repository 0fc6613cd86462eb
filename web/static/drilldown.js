/* Every building, every household (每楼每户): a panel with a building's floors × units, one cell per household.
 *
 * Twin.drilldown.open(buildingId) fetches GET /api/buildings/{id}/units (as the caller: bearer token from
 * Twin.authHeaders(), or the sign-in cookie) and shows floors (top floor first) × units and rooms. Staff of the
 * building's grid and admin get each household in its cell, coloured by a chosen flag (labels: the
 * household_flags vocabulary served in Twin.config); a click on a cell opens GET /api/households/{id}: the
 * record, its open incidents and care calls. Everyone else gets the building's counts, small ones shown as <3.
 * window.twinDrilldown exposes {building, household} (the last answers) for tests.
 */
(function () {
  "use strict";

  Twin.addStrings({
    zh: {
      dd_title: "每楼每户", dd_close: "关闭", dd_colour: "着色", dd_floor: "{f}层", dd_unit: "{u}单元",
      dd_counts: "本楼统计", dd_households: "户数", dd_persons: "人口", dd_hidden: "<3",
      dd_no_personal: "住户明细仅对本网格工作人员开放；小于 3 的数字不显示。", dd_yes: "是", dd_no: "否",
      dd_room: "门牌", dd_size: "人口", dd_name: "户主", dd_phone: "电话", dd_open: "在办事件",
      dd_calls: "关爱电话", dd_none: "无", dd_answered: "已接听", dd_missed: "未接听", dd_due: "时限 {t}",
      dd_overdue: "已超时", dd_size_n: "{n}人", dd_size_more: "{n}人及以上", dd_occupied: "有住户",
      dd_grid: "网格 {g}",
    },
    en: {
      dd_title: "Floors × units", dd_close: "Close", dd_colour: "Colour by", dd_floor: "F{f}", dd_unit: "Unit {u}",
      dd_counts: "This building", dd_households: "Households", dd_persons: "Persons", dd_hidden: "<3",
      dd_no_personal: "Household detail is for staff of this grid only; counts under 3 are not shown.",
      dd_yes: "yes", dd_no: "no", dd_room: "Room", dd_size: "Persons", dd_name: "Head", dd_phone: "Phone",
      dd_open: "Open incidents", dd_calls: "Care calls", dd_none: "none", dd_answered: "answered",
      dd_missed: "missed", dd_due: "due {t}", dd_overdue: "overdue", dd_size_n: "{n}", dd_size_more: "{n}+",
      dd_occupied: "Occupied", dd_grid: "Grid {g}",
    },
  });
  const t = Twin.t;
  const P = Twin.palette;
  const FLAGS = Object.keys((Twin.config.vocab && Twin.config.vocab.household_flags) || {});
  const ON = [250, 125, 45], OFF = [70, 90, 120], VACANT = [40, 46, 58];
  const SIZE_COLORS = [P.density[1], P.density[2], P.density[3], P.density[4], P.density[6]]; // 1, 2, 3, 4, 5+
  const state = (window.twinDrilldown = { building: null, household: null, flag: FLAGS[0] || "elderly_alone" });
  const dtFmt = new Intl.DateTimeFormat(Twin.lang === "en" ? "en-GB" : "zh-CN",
    { month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hour12: false });
  const when = (iso) => (iso ? dtFmt.format(new Date(iso)) : "–");
  const el = Twin.el;
  let panel = null;

  function headers() { return Twin.authHeaders ? Twin.authHeaders() : {}; }

  function ensurePanel() {
    if (panel) return panel;
    panel = el("aside", "panel drill");
    panel.id = "drill";
    panel.setAttribute("aria-live", "polite");
    (document.getElementById("main") || document.body).appendChild(panel);
    return panel;
  }

  function close() { if (panel) { panel.hidden = true; panel.replaceChildren(); } }

  async function open(buildingId) {
    const box = ensurePanel();
    box.hidden = false;
    box.replaceChildren(el("p", "drill-note", t("loading")));
    try {
      const doc = await Twin.fetchJSON(`/api/buildings/${encodeURIComponent(buildingId)}/units`, { headers: headers() });
      state.building = doc;
      state.household = null;
      render();
    } catch (e) {
      close();
      Twin.showError(e);
    }
  }

  function head(doc) {
    const h = el("div", "drill-head");
    h.appendChild(el("h2", null, `${doc.name} · ${t("dd_title")}`));
    const x = el("button", "drill-close", "×");
    x.type = "button";
    x.title = t("dd_close");
    x.addEventListener("click", close);
    h.appendChild(x);
    return h;
  }

  const countText = (v) => (v == null ? t("dd_hidden") : Twin.fmt.int(v));

  function counts(doc) {
    const c = doc.counts, box = el("dl", "drill-counts");
    const add = (k, v) => { box.appendChild(el("dt", null, k)); box.appendChild(el("dd", null, countText(v))); };
    add(t("dd_households"), c.households);
    add(t("dd_persons"), c.persons);
    for (const f of ["elderly_alone", "floating", "key_group"]) add(Twin.label("household_flags", f), c[f]);
    return box;
  }

  // colour and legend class of a cell under the chosen flag
  function classOf(cell) {
    const h = cell.household;
    if (state.flag === "vacant") return cell.vacant ? 0 : 1;
    if (!h) return -1;
    if (state.flag === "size") return Math.min(Math.max(h.size || 1, 1), 5) - 1;
    return h[state.flag] ? 0 : 1;
  }

  function legendItems() {
    const name = Twin.label("household_flags", state.flag);
    if (state.flag === "size") {
      return SIZE_COLORS.map((c, k) => ({ color: c, label: k === 4 ? t("dd_size_more", { n: 5 }) : t("dd_size_n", { n: k + 1 }) }));
    }
    if (state.flag === "vacant") return [{ color: VACANT, label: name }, { color: OFF, label: t("dd_occupied") }];
    return [{ color: ON, label: name }, { color: OFF, label: t("dd_no") }, { color: VACANT, label: Twin.label("household_flags", "vacant") }];
  }

  function colourOf(k) {
    if (k < 0) return VACANT;
    if (state.flag === "size") return SIZE_COLORS[k];
    if (state.flag === "vacant") return k === 0 ? VACANT : OFF;
    return k === 0 ? ON : OFF;
  }

  function flagPicker() {
    const wrap = el("div", "segmented drill-flags");
    wrap.setAttribute("role", "group");
    wrap.setAttribute("aria-label", t("dd_colour"));
    for (const f of FLAGS) {
      const b = el("button", f === state.flag ? "on" : "", Twin.label("household_flags", f));
      b.type = "button";
      b.dataset.flag = f;
      b.addEventListener("click", () => { state.flag = f; render(); });
      wrap.appendChild(b);
    }
    return wrap;
  }

  function grid(doc) {
    const cols = doc.rooms_per_floor.reduce((a, b) => a + b, 0);
    const table = el("div", "drill-grid");
    table.style.setProperty("--cols", cols);
    table.appendChild(el("span", "drill-corner"));
    doc.rooms_per_floor.forEach((n, u) => {
      const th = el("span", "drill-unit", t("dd_unit", { u: u + 1 }));
      th.style.gridColumn = `span ${n}`;
      table.appendChild(th);
    });
    const floors = [...new Set(doc.cells.map((c) => c.floor))].sort((a, b) => b - a);
    const at = new Map(doc.cells.map((c) => [`${c.floor}:${c.unit}:${c.slot}`, c]));
    for (const f of floors) {
      table.appendChild(el("span", "drill-floor", t("dd_floor", { f })));
      doc.rooms_per_floor.forEach((n, u) => {
        for (let s = 0; s < n; s++) {
          const cell = at.get(`${f}:${u + 1}:${s}`);
          const h = cell && cell.household;
          const b = el("button", "drill-cell" + (h ? "" : " vacant"), h ? h.room : "");
          b.type = "button";
          b.style.setProperty("--c", Twin.css(colourOf(cell ? classOf(cell) : -1)));
          if (h) {
            b.dataset.household = h.household_id;
            b.title = `${h.room} · ${t("dd_size_n", { n: h.size })}`;
            b.addEventListener("click", () => openHousehold(h.household_id));
          } else {
            b.disabled = true;
          }
          table.appendChild(b);
        }
      });
    }
    return table;
  }

  function render() {
    const doc = state.building;
    const box = ensurePanel();
    const parts = [head(doc), el("p", "drill-sub", t("dd_grid", { g: doc.grid_code || "–" })), counts(doc)];
    if (doc.personal) {
      parts.push(flagPicker(), grid(doc));
      const legend = el("div", "drill-legend");
      Twin.renderLegend(legend, [{ items: legendItems() }]);
      parts.push(legend);
      parts.push(el("div", "drill-household"));
    } else {
      parts.push(el("p", "drill-note", t("dd_no_personal")));
    }
    box.replaceChildren(...parts);
    box.dataset.building = doc.building_id;
    box.dataset.personal = String(doc.personal);
  }

  async function openHousehold(id) {
    try {
      const rec = await Twin.fetchJSON(`/api/households/${encodeURIComponent(id)}`, { headers: headers() });
      state.household = rec;
      const box = panel.querySelector(".drill-household");
      box.replaceChildren(household(rec));
      for (const c of panel.querySelectorAll(".drill-cell")) c.classList.toggle("on", c.dataset.household === id);
    } catch (e) {
      Twin.showError(e);
    }
  }

  function household(rec) {
    const frag = el("div", "drill-record");
    frag.dataset.household = rec.household_id;
    const dl = el("dl", "drill-counts");
    const add = (k, v) => { dl.appendChild(el("dt", null, k)); dl.appendChild(el("dd", null, v)); };
    add(t("dd_room"), `${rec.unit}-${rec.room}`);
    add(t("dd_name"), rec.name || "–");
    add(t("dd_phone"), rec.phone || "–");
    add(t("dd_size"), Twin.fmt.int(rec.size));
    for (const f of ["elderly_alone", "floating", "key_group"]) {
      add(Twin.label("household_flags", f), rec[f] ? t("dd_yes") : t("dd_no"));
    }
    frag.appendChild(dl);
    frag.appendChild(el("h3", null, t("dd_open")));
    const inc = el("ul", "drill-list drill-incidents");
    for (const i of rec.open_incidents) {
      const li = el("li", i.overdue ? "overdue" : "",
        `${i.incident_id} · ${Twin.label("incident_categories", i.category)} · ${Twin.label("incident_stages", i.stage)}`
        + ` · ${i.overdue ? t("dd_overdue") : t("dd_due", { t: when(i.next_due) })}`);
      inc.appendChild(li);
    }
    if (!rec.open_incidents.length) inc.appendChild(el("li", "none", t("dd_none")));
    frag.appendChild(inc);
    frag.appendChild(el("h3", null, t("dd_calls")));
    const calls = el("ul", "drill-list drill-calls");
    for (const c of rec.care_calls) calls.appendChild(el("li", c.answered ? "" : "missed", `${when(c.at)} · ${c.answered ? t("dd_answered") : t("dd_missed")}`));
    if (!rec.care_calls.length) calls.appendChild(el("li", "none", t("dd_none")));
    frag.appendChild(calls);
    return frag;
  }

  Twin.drilldown = { open, close };
})();
