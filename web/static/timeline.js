/* Time playback of the year's incidents (the dashboard's and the planner's time bar).
 *
 *   Twin.twb1(arrayBuffer)          {header, arrays} of a TWB1 blob (web/transport.py)
 *   Twin.timeline.fromBinary(buf)   the model of /api/dashboard/timeline.bin (web/timeline.py)
 *   Twin.timeline.dayEnd(tl, d)     seconds since tl.t0 of the end of day d (local), capped at tl.now
 *   Twin.timeline.dayLabel(tl, d)   the local date of day d as text
 *   Twin.timeline.snapshot(tl, t)   the incidents the map shows at t (seconds since t0): open ones first, then those
 *                                   resolved or closed within the last tl.window days; the same shape as the live
 *                                   incidents.bin model (positions, stage, overdue, category, reported, ...)
 *   Twin.timeline.kpisAt(tl, t)     the KPI figures at t counted over the timeline's incidents (the same keys as
 *                                   /api/dashboard/kpis; what the timeline cannot know is null)
 *   Twin.timeBar(root, opts)        binds the time bar markup (templates/_timebar.html): a range input of days,
 *                                   play/pause and live; opts.onChange(day or null for live) and opts.days.
 *
 * The rules stay on the server: the deadlines per category and limit come in the header; here times are only
 * compared, the way twin.incidents.timeliness does at "now": an open incident is overdue when a limit it has not
 * reached is past due; a limit is met when its stage was reached by its due time.
 */
(function () {
  "use strict";

  const TYPES = { float32: Float32Array, float64: Float64Array, uint8: Uint8Array, uint16: Uint16Array,
                  uint32: Uint32Array, int32: Int32Array, int16: Int16Array };

  function twb1(buf) {
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

  const DAY = 86400;
  const LATER = ["accepted", "on_site", "resolved", "closed"]; // stage ranks 1..4 (0 = reported)
  const LIMITS = ["accept", "on_site", "resolve"];
  const LIMIT_RANK = { accept: 1, on_site: 2, resolve: 3 };

  // Per incident and stage rank 1..4, the second (since t0) it was reached (NEVER = not yet): a stage counts as
  // reached once any later one is, and a stage reached with no recorded time counts from the report. Uint32 keeps
  // a million incidents in 40 MB; seconds since t0 stay far below the two sentinels.
  const NEVER = 0xFFFFFFFF, UNTIMED = 0xFFFFFFFE;

  function fromBinary(buf) {
    const { header: h, arrays: a } = twb1(buf);
    const n = h.count;
    const reach = new Uint32Array(n * 5), own = new Uint32Array(n * 5);
    for (let i = 0; i < n; i++) {
      const r = a.reported[i];
      reach[5 * i] = own[5 * i] = r;
      let later = NEVER;
      for (let k = 4; k >= 1; k--) {
        const v = a[LATER[k - 1]][i];
        const at = v === h.never ? NEVER : v === h.untimed ? UNTIMED : r + v;
        own[5 * i + k] = at; // UNTIMED: reached, time unknown (met undecided)
        const eff = at === UNTIMED ? Math.min(later, r) : Math.min(at, later);
        reach[5 * i + k] = eff;
        later = eff;
      }
    }
    const dl = {};
    for (const lim of LIMITS) dl[lim] = Float64Array.from(h.deadlines[lim]);
    const positions = new Float32Array(a.positions);
    return { n, origin: h.origin, t0: h.t0, now: h.now, days: h.days, utcOffset: h.utc_offset * 60,
             categories: h.categories, stages: h.stages, window: 30 * DAY, deadlines: dl,
             positions, category: a.category, reported: a.reported, reach, own, lastDay: Math.floor(h.now / DAY) };
  }

  // t0 is a local midnight, so day d runs from d * DAY to (d + 1) * DAY seconds since t0.
  const dayEnd = (tl, d) => Math.min((d + 1) * DAY - 1, tl.now);
  const dateFmt = () => new Intl.DateTimeFormat(Twin.lang === "en" ? "en-GB" : "zh-CN",
    { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC" });
  let fmt = null;
  // the local date of day d, as text
  function dayLabel(tl, d) {
    fmt = fmt || dateFmt();
    return fmt.format(new Date((tl.t0 + tl.utcOffset + d * DAY) * 1000));
  }

  function stageAt(tl, i, t) {
    let s = 0;
    for (let k = 1; k <= 4; k++) if (tl.reach[5 * i + k] <= t) s = k;
    return s;
  }

  function due(tl, i, lim) {
    const c = tl.category[i];
    return tl.reported[i] + (c < 255 ? tl.deadlines[lim][c] : tl.deadlines[lim][0]);
  }

  function overdueAt(tl, i, t, s) {
    if (s >= 3) return false;
    for (const lim of LIMITS) if (tl.reach[5 * i + LIMIT_RANK[lim]] > t && due(tl, i, lim) < t) return true;
    return false;
  }

  // true / false / null (undecided) for limit `lim` of incident i judged at t
  function metAt(tl, i, t, lim) {
    const k = LIMIT_RANK[lim], when = tl.own[5 * i + k], d = due(tl, i, lim);
    if (when === UNTIMED) return null;
    if (when <= t) return when <= d;
    if (tl.reach[5 * i + k] <= t) return null; // a later stage was reached: this one without a time
    return d < t ? false : null;
  }

  function snapshot(tl, t) {
    const open = [], done = [];
    for (let i = 0; i < tl.n; i++) {
      const r = tl.reported[i];
      if (r > t) continue;
      if (stageAt(tl, i, t) >= 3) { if (r >= t - tl.window) done.push(i); } else open.push(i);
    }
    const ix = open.concat(done), n = ix.length;
    const m = { n, open: open.length, origin: tl.origin, stages: tl.stages, categories: tl.categories,
                positions: new Float32Array(2 * n), stage: new Uint8Array(n), overdue: new Uint8Array(n),
                category: new Uint8Array(n), reported: new Uint32Array(n), overdueIx: [], overdueCount: 0,
                hidden: null, at: t, lonlat: null };
    for (let j = 0; j < n; j++) {
      const i = ix[j], s = stageAt(tl, i, t);
      m.positions[2 * j] = tl.positions[2 * i]; m.positions[2 * j + 1] = tl.positions[2 * i + 1];
      m.stage[j] = s; m.category[j] = tl.category[i]; m.reported[j] = tl.t0 + tl.reported[i];
      if (overdueAt(tl, i, t, s)) { m.overdue[j] = 1; m.overdueIx.push(j); }
    }
    m.overdueCount = m.overdueIx.length;
    return m;
  }

  function rate(met, decided) { return decided ? Math.round((met / decided) * 10000) / 10000 : null; }

  function kpisAt(tl, t) {
    const local = t + tl.utcOffset; // local midnights: t0 is one, so days count from it
    const day0 = Math.floor(t / DAY) * DAY;
    const date = new Date((tl.t0 + local) * 1000);
    const month0 = t - ((date.getUTCDate() - 1) * DAY + (t - day0));
    const byStage = { reported: 0, accepted: 0, on_site: 0 };
    let open = 0, overdue = 0, today = 0, month = 0, doneMonth = 0;
    const met = { today: {}, month: {} }, decided = { today: {}, month: {} };
    for (const per of ["today", "month"]) for (const lim of LIMITS) { met[per][lim] = 0; decided[per][lim] = 0; }
    for (let i = 0; i < tl.n; i++) {
      const r = tl.reported[i];
      if (r > t) continue;
      const s = stageAt(tl, i, t);
      if (s < 3) { open++; byStage[tl.stages[s]]++; if (overdueAt(tl, i, t, s)) overdue++; }
      const pers = r >= day0 ? ["today", "month"] : r >= month0 ? ["month"] : [];
      if (!pers.length) continue;
      if (r >= day0) today++;
      month++;
      if (s >= 3) doneMonth++;
      for (const lim of LIMITS) {
        const v = metAt(tl, i, t, lim);
        if (v === null) continue;
        for (const per of pers) { decided[per][lim]++; if (v) met[per][lim]++; }
      }
    }
    const onTime = (per) => Object.fromEntries(LIMITS.map((l) => [l, rate(met[per][l], decided[per][l])]));
    return { at: new Date((tl.t0 + t) * 1000).toISOString(), open, open_by_stage: byStage, overdue,
             on_time_today: onTime("today"), on_time_month: onTime("month"), reported_today: today,
             reported_month: month, closure_rate_month: month ? Math.round((doneMonth / month) * 10000) / 10000 : null,
             mean_rating_month: null, six_nos: null, care_unanswered_today: null, playback: true };
  }

  // ---- the time bar ----------------------------------------------------------------------------------------
  // Markup: templates/_timebar.html. Keyboard: the range input (arrows = a day, PageUp/PageDown = a week,
  // Home/End), Space on the play button. Playing steps a day every opts.stepMs with setTimeout (no animation loop).
  function timeBar(root, opts) {
    const range = root.querySelector("input[type=range]"), play = root.querySelector("[data-tb=play]");
    const live = root.querySelector("[data-tb=live]"), out = root.querySelector("output");
    const stepMs = opts.stepMs || 400;
    let timer = 0, days = 0, tl = null;
    const dayText = (d) => dayLabel(tl, d);

    function show(d, isLive) {
      const text = isLive ? Twin.t("tb_live_now") : dayText(d);
      out.textContent = text;
      range.setAttribute("aria-valuetext", text);
      root.classList.toggle("is-live", isLive);
      live.setAttribute("aria-pressed", String(isLive));
    }

    function set(d, fromUser) {
      const isLive = d == null || d >= days;
      range.value = String(isLive ? days : d);
      if (isLive) stop();
      show(isLive ? days : d, isLive);
      if (fromUser !== false) opts.onChange(isLive ? null : d);
    }

    function stop() {
      if (timer) clearTimeout(timer);
      timer = 0;
      play.setAttribute("aria-pressed", "false");
      play.textContent = Twin.t("tb_play");
    }

    function tick() {
      timer = 0;
      const d = Number(range.value) + 1;
      if (d >= days) { set(null); return; }
      range.value = String(d);
      set(d);
      timer = setTimeout(tick, stepMs);
    }

    range.addEventListener("input", () => { stop(); set(Number(range.value)); });
    live.addEventListener("click", () => set(null));
    play.addEventListener("click", () => {
      if (timer) { stop(); return; }
      if (Number(range.value) >= days) { range.value = "0"; set(0); }
      play.setAttribute("aria-pressed", "true");
      play.textContent = Twin.t("tb_pause");
      timer = setTimeout(tick, stepMs);
    });
    return {
      // the timeline arrived: days 0..lastDay are days of data, the last position (lastDay + 1) is "live"
      setRange(timeline) {
        tl = timeline; days = tl.lastDay + 1;
        range.max = String(days);
        range.disabled = false; play.disabled = false;
        root.querySelector("[data-tb=first]").textContent = dayText(0);
        if (!timer && root.classList.contains("is-live")) range.value = String(days);
        show(Number(range.value) >= days ? days : Number(range.value), Number(range.value) >= days);
      },
      set, stop, playing: () => !!timer,
    };
  }

  Twin.addStrings({
    zh: { tb_play: "▶ 播放", tb_pause: "❚❚ 暂停", tb_live_now: "实时" },
    en: { tb_play: "▶ Play", tb_pause: "❚❚ Pause", tb_live_now: "Live" },
  });

  Twin.twb1 = twb1;
  Twin.timeline = { fromBinary, dayEnd, dayLabel, snapshot, kpisAt, stageAt, DAY };
  Twin.timeBar = timeBar;
})();
