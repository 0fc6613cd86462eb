/* The search box of every page (in the top bar): suggestions as you type from GET /api/search?q=, and choosing one
 * flies the page's map there and highlights it.
 *
 * Also the caller's credentials for the household pages: Twin.authHeaders() is {Authorization: "Bearer …"} when a
 * token was given on this tab (Twin.setToken, kept in sessionStorage), else {} and the sign-in cookie (if any)
 * goes with the request as usual.
 *
 * A choice is announced as a "twin:place" event on document (detail = the search result: kind, id, label, bbox,
 * building_id), so a page can react (the dashboard opens a building's floors × units). window.twinSearch holds
 * {results, chosen} for tests.
 */
(function () {
  "use strict";

  const TOKEN_KEY = "twin.token";
  Twin.addStrings({
    zh: { search: "搜索小区、楼栋、网格、社区、事件编号…", search_none: "没有找到" },
    en: { search: "Search compound, building, grid, community, incident…", search_none: "Nothing found" },
  });

  Twin.setToken = (token) => {
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  };
  // A tab token (a device signed in by token) wins; otherwise the sign-in cookie goes by itself and state changes
  // carry the session's CSRF token (web/session.py) from the page's <meta>.
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  Twin.authHeaders = () => {
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) return { Authorization: "Bearer " + token };
    return csrfMeta && csrfMeta.content ? { "X-CSRF-Token": csrfMeta.content } : {};
  };

  const state = (window.twinSearch = { results: [], chosen: null });
  const HIT = [255, 230, 80];
  let box, input, list, timer = null, seq = 0, active = -1;

  function build() {
    const bar = document.querySelector(".topbar");
    if (!bar || document.getElementById("twin-search")) return;
    box = Twin.el("div", "twin-search");
    box.id = "twin-search";
    box.setAttribute("role", "search");
    input = Twin.el("input", "twin-search-input");
    input.type = "search";
    input.placeholder = Twin.t("search");
    input.setAttribute("aria-label", Twin.t("search"));
    input.setAttribute("autocomplete", "off");
    list = Twin.el("ul", "twin-search-list");
    list.setAttribute("role", "listbox");
    list.hidden = true;
    box.append(input, list);
    bar.insertBefore(box, bar.querySelector(".topbar-right"));
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(suggest, 120); });
    input.addEventListener("keydown", keys);
    input.addEventListener("focus", () => { if (state.results.length) list.hidden = false; });
    document.addEventListener("click", (e) => { if (!box.contains(e.target)) list.hidden = true; });
  }

  async function suggest() {
    const q = input.value.trim();
    const mine = ++seq;
    if (!q) { show([]); return; }
    try {
      const doc = await Twin.fetchJSON(`/api/search?q=${encodeURIComponent(q)}&lang=${Twin.lang}`,
                                       { headers: Twin.authHeaders() });
      if (mine === seq) show(doc.results);
    } catch (e) {
      Twin.showError(e);
    }
  }

  function show(results) {
    state.results = results;
    active = -1;
    const items = results.map((r, i) => {
      const li = Twin.el("li", "twin-search-item");
      li.setAttribute("role", "option");
      li.dataset.kind = r.kind;
      li.dataset.id = r.id;
      li.append(Twin.el("span", "twin-search-kind", r.kind_label), Twin.el("span", "twin-search-label", r.label),
                Twin.el("span", "twin-search-sub", r.sub || ""));
      li.addEventListener("mousedown", (e) => { e.preventDefault(); choose(i); });
      return li;
    });
    if (!results.length && input.value.trim()) items.push(Twin.el("li", "twin-search-none", Twin.t("search_none")));
    list.replaceChildren(...items);
    list.hidden = !items.length;
  }

  function keys(e) {
    const n = state.results.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      if (!n) return;
      active = (active + (e.key === "ArrowDown" ? 1 : n - 1)) % n;
      list.querySelectorAll(".twin-search-item").forEach((li, i) => li.classList.toggle("on", i === active));
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (n) choose(active >= 0 ? active : 0);
    } else if (e.key === "Escape") {
      list.hidden = true;
    }
  }

  function choose(i) {
    const r = state.results[i];
    state.chosen = r;
    input.value = r.label;
    list.hidden = true;
    flyTo(r);
    document.dispatchEvent(new CustomEvent("twin:place", { detail: r }));
  }

  // Fly the page's map to a result and draw it as a highlighted box (or ring, for a point) above the page's layers.
  function flyTo(r) {
    const map = Twin.currentMap();
    if (!map) return;
    const [x0, y0, x1, y1] = r.bbox;
    const pad = 0.0004; // ~40 m: a point or a building is shown with its surroundings
    const view = Twin.fitBounds([x0 - pad, y0 - pad, x1 + pad, y1 + pad], map.props.parent || document.body, { pitch: 40 });
    map.setProps({
      initialViewState: { ...view, transitionDuration: 900, transitionInterpolator: new deck.FlyToInterpolator() },
    });
    highlight(map, r);
    state.flownTo = view;
  }

  function highlight(map, r) {
    const [x0, y0, x1, y1] = r.bbox;
    const point = x0 === x1 && y0 === y1;
    const hit = point
      ? new deck.ScatterplotLayer({ id: "search-hit", data: [[x0, y0]], getPosition: (d) => d, radiusUnits: "pixels",
          getRadius: 16, filled: false, stroked: true, lineWidthUnits: "pixels", getLineWidth: 4, getLineColor: HIT,
          parameters: { depthCompare: "always" } })
      : new deck.PathLayer({ id: "search-hit", data: [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
          getPath: (d) => d, getColor: HIT, widthUnits: "pixels", getWidth: 4, parameters: { depthCompare: "always" } });
    if (!map.twinSearchPatched) {
      // keep the highlight on top when the page sets its layers again (every refresh)
      const setLayers = map.setLayers;
      map.setLayers = (layers) => setLayers(layers.concat(map.twinSearchHit ? [map.twinSearchHit] : []));
      map.twinSearchPatched = true;
    }
    map.twinSearchHit = hit;
    const layers = (map.props.layers || []).filter((l) => l && l.id !== "search-hit" && l.id !== "basemap");
    map.setLayers(layers);
  }

  Twin.search = { choose: (r) => { state.results = [r]; choose(0); } };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
