/* Alerts on every page of a signed-in staff member or admin (the work queue, the wall dashboard): polls
 * GET /api/alerts?since=SEQ every Twin.config.alertSeconds (2 s by default; see web/alerts.py for why polling) and
 * shows a toast per new incident, newly overdue incident and SOS. An SOS stays on screen, red, until someone
 * presses "知道了"; a chime plays when the sound is on (the #wk-sound box, remembered in localStorage).
 * Each alert is also dispatched as a "twin:alert" event on window (detail = the alert), so a page can reload.
 * Test hook: #twin-alerts .alert[data-kind][data-id].
 */
(function () {
  "use strict";
  if (!Twin.user || !["staff", "admin"].includes(Twin.user.role)) return;
  Twin.addStrings({
    zh: { al_new: "新工单", al_overdue: "工单超时", al_ack: "知道了" },
    en: { al_new: "New incident", al_overdue: "Overdue", al_ack: "Got it" },
  });
  const SOUND_KEY = "twin.alerts.sound";
  const box = Twin.el("div", "alerts");
  box.id = "twin-alerts";
  box.setAttribute("role", "alert");
  box.setAttribute("aria-live", "assertive");
  document.body.appendChild(box);
  const sound = document.getElementById("wk-sound");
  if (sound) {
    sound.checked = localStorage.getItem(SOUND_KEY) === "1";
    sound.addEventListener("change", () => localStorage.setItem(SOUND_KEY, sound.checked ? "1" : "0"));
  }
  let seq = null;
  let audio = null;

  function chime(urgent) {
    if (localStorage.getItem(SOUND_KEY) !== "1") return;
    try {
      audio = audio || new AudioContext();
      for (let i = 0; i < (urgent ? 3 : 1); i++) {
        const o = audio.createOscillator(), g = audio.createGain();
        o.frequency.value = urgent ? 880 : 660;
        g.gain.setValueAtTime(0.2, audio.currentTime + i * 0.35);
        g.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + i * 0.35 + 0.3);
        o.connect(g).connect(audio.destination);
        o.start(audio.currentTime + i * 0.35);
        o.stop(audio.currentTime + i * 0.35 + 0.3);
      }
    } catch (e) { /* no audio device: the toast is enough */ }
  }

  function show(a) {
    const div = Twin.el("div", "alert alert-" + a.kind);
    div.dataset.kind = a.kind;
    div.dataset.id = a.incident_id;
    const title = a.kind === "sos" ? Twin.label("incident_categories", "sos") : Twin.t("al_" + a.kind);
    div.appendChild(Twin.el("strong", null, title));
    div.appendChild(Twin.el("span", null,
      ` ${Twin.label("incident_categories", a.category)} · ${a.incident_id}${a.building_id ? " · " + a.building_id : ""}`));
    const ack = Twin.el("button", null, Twin.t("al_ack"));
    ack.type = "button";
    ack.addEventListener("click", () => div.remove());
    div.appendChild(ack);
    box.prepend(div);
    if (a.kind !== "sos") setTimeout(() => div.remove(), 15000);  // an SOS stays until acknowledged
    while (box.children.length > 8) box.lastElementChild.remove();
    chime(a.kind === "sos");
    window.dispatchEvent(new CustomEvent("twin:alert", { detail: a }));
  }

  async function poll() {
    const data = await Twin.fetchJSON("/api/alerts" + (seq == null ? "" : "?since=" + seq));
    if (seq != null && data.seq < seq) seq = null;  // the server restarted: start again from its count
    else {
      for (const a of data.alerts) show(a);
    }
    seq = data.seq;
  }

  Twin.every(Number(Twin.config.alertSeconds) || 2, poll);
})();
