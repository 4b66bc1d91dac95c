/*
 * The baseline for bench/link.ts: a fixed-interval reconnect, as arduinoWebSockets does it by default
 * (WebSocketsClient: setReconnectInterval, 500 ms). Device code on the Moddable modules, run by the
 * simulator in place of main.ts: join Wi-Fi once, open the WebSocket with the token, say hello when it
 * opens, and 500 ms after any disconnect open it again. No backoff, no jitter, no phase timeouts.
 */
import Timer from "timer";
import WiFi from "wifi";
import { Client } from "websocket";
import config from "mc/config";

const RECONNECT_MS = 500;

export default function main(): void {
  const settings = (config as unknown as { thermocast: Record<string, string> }).thermocast;
  const match = /^ws:\/\/([^:/]+):(\d+)/.exec(settings["server.url"]);
  if (!match) throw new Error("server.url must be ws://host:port");
  const id = settings["device.id"];
  const open = () => {
    const client = new Client({ host: match[1], port: Number(match[2]), path: `/v1/device/${id}`, headers: ["Authorization", `Bearer ${settings["device.token"]}`] } as ConstructorParameters<typeof Client>[0]);
    client.callback = (message: number) => {
      if (message === Client.handshake) client.write(JSON.stringify({ t: "hello", v: 1, id, fw: "baseline", boot: 1, rr: "power-on" }));
      else if (message === Client.disconnect) Timer.set(open, RECONNECT_MS);
    };
  };
  new WiFi({ ssid: settings["wifi.ssid"] }, (message) => {
    if (message === WiFi.gotIP) open();
  });
}
