// Polls the API and renders one row per device with its latest reading per channel.
const POLL_MS = 5000;
const devicesBody = document.getElementById("devices");
const status = document.getElementById("status");

function cell(text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function time(ms) {
  return ms == null ? "—" : new Date(ms).toLocaleString();
}

/** The newest reading of each channel (readings come oldest first). */
function latestPerChannel(readings) {
  const byChannel = new Map();
  for (const r of readings) byChannel.set(r.channel, r);
  return [...byChannel.values()];
}

/** As "ch0 21.56 °C (time)" or "ch1 fault: crc (time)". */
function latestText(latest) {
  return latest
    .map((r) => `ch${r.channel} ${r.celsius === null ? `fault: ${r.fault}` : `${r.celsius.toFixed(2)} °C`} (${time(r.t)})`)
    .join(", ") || "—";
}

async function getJson(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

async function refresh() {
  try {
    const devices = await getJson("/api/devices");
    const rows = await Promise.all(devices.map(async (d) => {
      const latest = latestPerChannel(await getJson(`/api/devices/${encodeURIComponent(d.id)}/readings?last=32`));
      const tr = document.createElement("tr");
      tr.append(
        cell(d.id),
        cell(d.revoked ? "revoked" : d.online ? "online" : "offline", d.online ? "online" : "offline"),
        cell(d.firmware ?? "—"),
        cell(d.mode ?? "—"),
        cell(d.boot ?? "—", "num"),
        cell(time(d.lastSeen)),
        cell(d.readingCount, "num"),
        cell(latestText(latest), latest.some((r) => r.fault) ? "fault" : ""),
      );
      return tr;
    }));
    devicesBody.replaceChildren(...rows);
    status.textContent = `${devices.length} device(s), updated ${new Date().toLocaleTimeString()}`;
  } catch (e) {
    status.textContent = `update failed: ${e.message}`;
  }
}

refresh();
setInterval(refresh, POLL_MS);
