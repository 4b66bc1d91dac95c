// The thermocast dashboard: the device list and one device's chart, kept live by the server's feed
// (/v1/dashboard, pushed as batches are committed), plus CSV download and config pushes through /api.
// Plain script, no build step; uPlot is served from node_modules by the server.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const COLORS = ["#1463b8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d"];
  const MAX_POINTS = 100000;
  /** What a channel measures (the device's hello, probe.ch; temperature when it says nothing), and its unit. */
  const UNITS = { t: "°C", rh: "%RH" };

  const state = {
    devices: new Map(),
    selected: null,
    detail: null,
    /** Server clock minus this browser's: devices may run on simulated time, and the page follows the server. */
    offset: 0,
    /** Epoch ms → Map(channel → value in its unit (°C, %RH), or null for a fault). */
    points: new Map(),
    faults: [],
    /** The chart's channels and their quantities, "0:t,1:rh": it is built again when they change. */
    channels: "",
    chart: null,
    fields: null,
    lastPush: null,
    feed: null,
    loadSeq: 0,
  };

  const serverNow = () => Date.now() + state.offset;

  // ---- formatting
  function ago(ms) {
    if (ms == null) return "never";
    const s = Math.round((serverNow() - ms) / 1000);
    if (s < 5) return "just now";
    if (s < 90) return `${s} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} min ago`;
    if (s < 172800) return `${Math.round(s / 3600)} h ago`;
    return new Date(ms).toLocaleString();
  }
  const dash = (v) => (v == null || v === "" ? "—" : String(v));
  function backlog(store) {
    if (!store || store.n == null) return "—";
    return `${store.n}${store.cap != null ? ` / ${store.cap}` : ""}${store.drop ? ` (${store.drop} dropped)` : ""}`;
  }
  function wake(w) {
    if (!w || (w.awake == null && w.retries == null)) return "—";
    return `${dash(w.awake)} ms, ${dash(w.retries)} ${w.retries === 1 ? "retry" : "retries"}`;
  }
  // Device health, from its last hello: the XS heap in use, store images found corrupt, wakes, probe faults.
  function memory(m) {
    if (!m || (m.slots == null && m.chunks == null)) return "—";
    return `${((m.slots ?? 0) + (m.chunks ?? 0)).toLocaleString("en")} B (${dash(m.slots)} slots, ${dash(m.chunks)} chunks)`;
  }
  function probeFaults(p) {
    if (!p) return "—";
    const faults = Object.entries(p.faults ?? {});
    const retried = Object.values(p.retries ?? {}).reduce((sum, n) => sum + n, 0);
    const list = faults.length === 0 ? "none" : faults.map(([name, n]) => `${name} ${n}`).join(", ");
    return `${list}${p.n != null ? ` in ${p.n} readings` : ""}${retried ? `, ${retried} retried` : ""}${p.type ? ` (${p.type})` : ""}`;
  }
  function stateOf(d) {
    return d.revoked ? "revoked" : d.online ? "online" : "offline";
  }

  // ---- device list
  function cell(text, label, className) {
    const td = document.createElement("td");
    td.textContent = text;
    td.dataset.label = label;
    if (className) td.className = className;
    return td;
  }

  function renderDevices() {
    const rows = [...state.devices.values()].sort((a, b) => a.id.localeCompare(b.id));
    const body = $("devices").tBodies[0];
    body.replaceChildren(...rows.map((d) => {
      const tr = document.createElement("tr");
      tr.dataset.id = d.id;
      tr.dataset.state = stateOf(d);
      tr.setAttribute("aria-selected", String(d.id === state.selected));
      tr.tabIndex = 0;
      const badge = document.createElement("span");
      badge.className = `state ${stateOf(d)}`;
      badge.textContent = stateOf(d);
      const stateCell = cell("", "state");
      stateCell.append(badge);
      const store = cell(backlog(d.store), "backlog", "num");
      if (d.store && d.store.drop) store.classList.add("warn");
      tr.append(
        cell(d.id, "device"), stateCell, cell(ago(d.lastSeen), "last seen"), cell(dash(d.firmware), "firmware"),
        cell(dash(d.mode), "mode"), store, cell(wake(d.wake), "last wake", "num"), cell(String(d.readingCount), "readings", "num"),
      );
      return tr;
    }));
    $("fleet-count").textContent = `${rows.length} · ${rows.filter((d) => d.online).length} online`;
    $("no-devices").hidden = rows.length > 0;
  }

  $("devices").addEventListener("click", (event) => {
    const tr = event.target.closest("tr[data-id]");
    if (tr) select(tr.dataset.id);
  });
  $("devices").addEventListener("keydown", (event) => {
    const tr = event.target.closest("tr[data-id]");
    if (tr && (event.key === "Enter" || event.key === " ")) {
      event.preventDefault();
      select(tr.dataset.id);
    }
  });

  // ---- one device
  function select(id) {
    if (state.selected === id) return;
    state.selected = id;
    state.detail = null;
    state.lastPush = null;
    $("config-status").textContent = "";
    history.replaceState(null, "", `#device=${encodeURIComponent(id)}`);
    $("detail").hidden = false;
    $("detail-title").textContent = id;
    renderDevices();
    watch();
    renderForm();
    loadReadings();
  }

  function renderFacts() {
    const d = state.detail || state.devices.get(state.selected);
    if (!d) return;
    const facts = [
      ["state", stateOf(d)], ["last seen", ago(d.lastSeen)], ["firmware", dash(d.firmware)], ["mode", dash(d.mode)],
      ["boot", dash(d.boot)], ["reset reason", dash(d.resetReason)], ["backlog", backlog(d.store)], ["last wake", wake(d.wake)],
      ["connect", d.wake && d.wake.connect != null ? `${d.wake.connect} ms` : "—"], ["readings", String(d.readingCount)],
      ["last link error", dash(d.lastError)], ["memory", memory(d.mem)],
      ["store corruption", d.store && d.store.corrupt != null ? `${d.store.corrupt}${d.store.lost ? `, ${d.store.lost} readings lost` : ""}` : "—"],
      ["wakes", dash(d.wake && d.wake.n)], ["probe faults", probeFaults(d.probe)],
    ];
    const warn = new Set([d.store && d.store.corrupt ? "store corruption" : "", d.probe && Object.keys(d.probe.faults ?? {}).length ? "probe faults" : ""]);
    $("facts").replaceChildren(...facts.map(([name, value]) => {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = name;
      dd.textContent = value;
      dd.dataset.fact = name;
      if (warn.has(name)) dd.classList.add("warn");
      div.append(dt, dd);
      return div;
    }));
  }

  // ---- range and readings
  function range() {
    const choice = $("range").value;
    if (choice === "custom") {
      const from = new Date($("from").value).getTime();
      const to = new Date($("to").value).getTime();
      if (!Number.isFinite(from) || !Number.isFinite(to) || to <= from) return null;
      return { from, to, sliding: false };
    }
    const now = serverNow();
    // A minute ahead: the server accepts readings dated up to a minute in the future.
    return { from: now - Number(choice), to: now + 60000, sliding: true, span: Number(choice) };
  }

  $("range").addEventListener("change", () => {
    const custom = $("range").value === "custom";
    $("custom").hidden = !custom;
    if (custom && !$("from").value) {
      const local = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60000).toISOString().slice(0, 16);
      $("to").value = local(serverNow() + 60000);
      $("from").value = local(serverNow() - 86400000);
    }
    loadReadings();
  });
  $("from").addEventListener("change", loadReadings);
  $("to").addEventListener("change", loadReadings);

  async function loadReadings() {
    const id = state.selected;
    const r = range();
    if (!id || !r) return;
    const seq = ++state.loadSeq;
    const query = `from=${Math.floor(r.from)}&to=${Math.ceil(r.to)}`;
    $("csv").href = `/api/devices/${encodeURIComponent(id)}/readings?format=csv&${query}`;
    $("csv").setAttribute("download", `${id}.csv`);
    const readings = await api(`/api/devices/${encodeURIComponent(id)}/readings?${query}&last=${MAX_POINTS}`);
    if (seq !== state.loadSeq || readings === undefined) return;
    state.points = new Map();
    state.faults = [];
    for (const reading of readings) addPoint(reading.t, reading.channel, reading.value !== undefined ? reading.value : reading.celsius, reading.fault);
    drawChart();
  }

  function addPoint(t, channel, value, fault) {
    let at = state.points.get(t);
    if (!at) state.points.set(t, (at = new Map()));
    at.set(channel, value);
    if (value === null) state.faults.push({ t, channel, fault });
  }

  /** The quantity channel `c` of the selected device measures: "t" or "rh". */
  function quantity(c) {
    const ch = state.detail && state.detail.probe && state.detail.probe.ch;
    return (ch && UNITS[ch[c]] && ch[c]) || "t";
  }

  /** A batch pushed by the feed: reading j is dated t0 + j·step. */
  function addBatch(message) {
    const r = range();
    if (!r) return;
    for (let j = 0; j < message.v.length; j++) {
      const t = message.t0 + j * message.step;
      if (t < r.from || (!r.sliding && t >= r.to)) continue;
      addPoint(t, message.c, message.v[j] === null ? null : message.v[j] / 100, message.f[j]);
    }
    if (r.sliding) {
      const from = serverNow() - r.span;
      for (const t of state.points.keys()) if (t < from) state.points.delete(t);
      state.faults = state.faults.filter((f) => f.t >= from);
    }
    drawChart();
  }

  /**
   * uPlot's aligned columns: x in seconds; per channel its value (°C, %RH), null for a fault (drawn as a gap), undefined
   * where that channel has no reading at that time (spanned, not a gap).
   */
  function chartData() {
    const times = [...state.points.keys()].sort((a, b) => a - b);
    const channels = [...new Set([...state.points.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
    const columns = [times.map((t) => t / 1000)];
    for (const c of channels) columns.push(times.map((t) => state.points.get(t).get(c)));
    return { channels, columns };
  }

  function drawChart() {
    const el = $("chart");
    const { channels, columns } = chartData();
    const numeric = columns.slice(1).reduce((n, col) => n + col.filter((v) => typeof v === "number").length, 0);
    el.dataset.points = String(numeric);
    el.dataset.gaps = String(state.faults.length);
    el.dataset.latest = String(columns[0].length ? columns[0][columns[0].length - 1] * 1000 : 0);
    const faultNames = [...new Set(state.faults.map((f) => f.fault))];
    $("chart-note").textContent = `${numeric} reading(s)` + (state.faults.length ? `, ${state.faults.length} fault(s) shown as gaps (${faultNames.join(", ")})` : "");
    const width = Math.max(280, el.clientWidth);
    // A series per channel, each on the scale of its quantity: temperature on the left axis, humidity on the right.
    const key = channels.map((c) => `${c}:${quantity(c)}`).join();
    if (!state.chart || state.channels !== key) {
      if (state.chart) state.chart.destroy();
      state.channels = key;
      const humidity = channels.some((c) => quantity(c) === "rh");
      state.chart = new uPlot({
        width,
        height: width < 500 ? 240 : 320,
        scales: { x: { time: true }, y: {}, rh: {} },
        series: [{}, ...channels.map((c) => {
          const unit = UNITS[quantity(c)];
          return {
            label: `ch${c} ${unit}`, scale: quantity(c) === "rh" ? "rh" : "y", stroke: COLORS[c % COLORS.length], width: 1.5,
            spanGaps: false, points: { size: 4 }, value: (u, v) => (v == null ? "—" : `${v.toFixed(2)} ${unit}`),
          };
        })],
        axes: [{}, { label: "°C", size: 55 }, ...(humidity ? [{ scale: "rh", label: "%RH", side: 1, size: 55, grid: { show: false } }] : [])],
        hooks: { draw: [drawFaultMarks] },
      }, columns, el);
    } else {
      state.chart.setData(columns);
    }
  }

  /** A small red mark under each fault's time, so a gap says why it is there. */
  function drawFaultMarks(u) {
    const ctx = u.ctx;
    const bottom = u.bbox.top + u.bbox.height;
    ctx.save();
    ctx.fillStyle = "#b42318";
    for (const f of state.faults) {
      const x = u.valToPos(f.t / 1000, "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath();
      ctx.moveTo(x, bottom - 9 * devicePixelRatio);
      ctx.lineTo(x - 4 * devicePixelRatio, bottom);
      ctx.lineTo(x + 4 * devicePixelRatio, bottom);
      ctx.fill();
    }
    ctx.restore();
  }

  window.addEventListener("resize", () => {
    const el = $("chart");
    if (state.chart) state.chart.setSize({ width: Math.max(280, el.clientWidth), height: el.clientWidth < 500 ? 240 : 320 });
  });

  // ---- configuration form, built from the schema's pushable fields (GET /api/config/fields)
  async function renderForm() {
    state.fields ??= await api("/api/config/fields");
    const form = $("config");
    if (!state.fields) return;
    const current = (state.detail && state.detail.cfg) || {};
    const pending = state.detail ? state.detail.config.pending : [];
    const rows = state.fields.map((field) => {
      const label = document.createElement("label");
      const name = document.createElement("span");
      name.textContent = field.key;
      let input;
      if (field.type === "choice") {
        input = document.createElement("select");
        const keep = document.createElement("option");
        keep.value = "";
        keep.textContent = `— keep (${dash(current[field.key])})`;
        input.append(keep, ...field.choices.map((choice) => {
          const option = document.createElement("option");
          option.value = option.textContent = choice;
          return option;
        }));
      } else {
        input = document.createElement("input");
        if (field.type === "int") {
          input.type = "number";
          input.min = field.min;
          input.max = field.max;
          input.step = 1;
          input.inputMode = "numeric";
        } else input.maxLength = field.maxLength;
        input.placeholder = current[field.key] != null ? `now ${current[field.key]}` : `default ${field.default}`;
      }
      input.name = field.key;
      const help = document.createElement("small");
      help.textContent = field.type === "int" ? `${field.help} (${field.min} to ${field.max}${field.unit ? ` ${field.unit}` : ""})` : field.help;
      label.append(name, input, help);
      return label;
    });
    const actions = document.createElement("div");
    actions.className = "actions";
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.className = "primary";
    submit.textContent = "Push to device";
    actions.append(submit);
    if (pending.length) {
      const note = document.createElement("span");
      note.className = "muted";
      note.textContent = `${pending.length} push(es) waiting for the device`;
      actions.append(note);
    }
    form.replaceChildren(...rows, actions);
  }

  $("config").addEventListener("submit", async (event) => {
    event.preventDefault();
    const set = {};
    for (const field of state.fields || []) {
      const value = $("config").elements[field.key].value.trim();
      if (value === "") continue;
      set[field.key] = field.type === "int" ? Number(value) : value;
    }
    const status = $("config-status");
    if (Object.keys(set).length === 0) {
      status.className = "bad";
      status.textContent = "Nothing to push: fill in the settings to change.";
      return;
    }
    status.className = "";
    status.textContent = "pushing…";
    const response = await fetch(`/api/devices/${encodeURIComponent(state.selected)}/config`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ set }),
    });
    const body = await response.json().catch(() => ({}));
    if (response.status !== 202) {
      status.className = "bad";
      status.textContent = `refused: ${body.error || `HTTP ${response.status}`}`;
      return;
    }
    state.lastPush = body.id;
    status.dataset.push = String(body.id);
    status.dataset.state = body.state;
    status.textContent = body.state === "sent"
      ? `push #${body.id} sent, waiting for the device to answer…`
      : `push #${body.id} pending: it goes to the device when it next connects`;
    $("config").reset();
    showPushAnswer();
  });

  function showPushAnswer() {
    const last = state.detail && state.detail.config.last;
    if (!state.lastPush || !last || last.id !== state.lastPush) return;
    const status = $("config-status");
    status.dataset.state = last.ok ? "applied" : "refused";
    status.className = last.ok ? "ok" : "bad";
    status.textContent = last.ok
      ? `push #${last.id} applied by the device: ${Object.entries(last.set).map(([k, v]) => `${k} = ${v}`).join(", ")}`
      : `push #${last.id} refused by the device: ${last.err}`;
  }

  // ---- API and feed
  async function api(path) {
    const response = await fetch(path, { headers: { accept: "application/json" } });
    if (response.status === 401) {
      location.href = "/login";
      return undefined;
    }
    if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
    return response.json();
  }

  function watch() {
    if (state.feed && state.feed.readyState === WebSocket.OPEN) state.feed.send(JSON.stringify({ t: "watch", id: state.selected }));
  }

  function setFeed(name, text) {
    $("feed").dataset.state = name;
    $("feed").textContent = text;
  }

  function connect() {
    const feed = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/dashboard`);
    state.feed = feed;
    feed.onopen = () => {
      setFeed("live", "live");
      watch();
      // Readings committed while the feed was down are fetched again.
      if (state.selected) loadReadings();
    };
    feed.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (typeof message.time === "number") state.offset = message.time - Date.now();
      if (message.t === "devices") {
        if (message.full) state.devices = new Map();
        for (const d of message.devices) state.devices.set(d.id, d);
        renderDevices();
        if (state.selected && !state.detail) renderFacts();
      } else if (message.t === "detail" && message.device.id === state.selected) {
        const first = state.detail === null;
        state.detail = message.device;
        state.devices.set(message.device.id, { ...state.devices.get(message.device.id), ...message.device });
        renderFacts();
        if (state.chart) drawChart(); // the channels' quantities may have come with it
        if (first || document.activeElement === null || !$("config").contains(document.activeElement)) renderForm();
        showPushAnswer();
      } else if (message.t === "readings" && message.id === state.selected) {
        addBatch(message);
      }
    };
    feed.onclose = () => {
      setFeed("down", "reconnecting…");
      // A refused upgrade (session gone) shows as a close: the API says whether to log in again.
      api("/api/config/fields").catch(() => {}).finally(() => setTimeout(connect, 2000));
    };
  }

  // Relative times ("12 s ago") move on without new data.
  setInterval(() => {
    renderDevices();
    if (state.selected) renderFacts();
  }, 5000);

  connect();
  const wanted = /^#device=(.+)$/.exec(location.hash);
  if (wanted) select(decodeURIComponent(wanted[1]));

  // For tests and the curious: the chart and what it holds.
  window.thermocast = { state, chart: () => state.chart };
})();
