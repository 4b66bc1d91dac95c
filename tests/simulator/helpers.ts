/*
 * A loopback WebSocket server for the simulator tests, tracked by the clock so settling sees its sockets.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { VirtualClock } from "../../simulator/hardware/clock";

export interface TestServer {
  http: Server;
  wss: WebSocketServer;
  port: number;
  /** ws://127.0.0.1:port */
  url: string;
  /** Upgrade requests, in order (headers included). */
  requests: IncomingMessage[];
  /** Every text received, with the virtual time it arrived. */
  received: { text: string; at: number }[];
  /** Close codes seen by the server, per connection. */
  closes: number[];
  close(): Promise<void>;
}

export type Handler = (ws: WebSocket, request: IncomingMessage) => void;

export async function startServer(clock: VirtualClock, handler: Handler = () => {}): Promise<TestServer> {
  const http = createServer();
  const wss = new WebSocketServer({ server: http });
  const sockets = new Set<Socket>();
  http.on("connection", (socket: Socket) => sockets.add(socket));
  const server: TestServer = {
    http, wss, port: 0, url: "", requests: [], received: [], closes: [],
    close: () => new Promise<void>((resolve) => {
      wss.close();
      for (const socket of sockets) socket.destroy(); // upgraded or stalled ones too
      http.close(() => resolve());
    }),
  };
  wss.on("connection", (ws, request) => {
    server.requests.push(request);
    ws.on("message", (data) => server.received.push({ text: data.toString(), at: clock.now() }));
    ws.on("close", (code) => server.closes.push(code));
    handler(ws, request);
  });
  clock.trackServer(http);
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  server.port = (http.address() as AddressInfo).port;
  server.url = `ws://127.0.0.1:${server.port}`;
  return server;
}

/** Lines of a device's log that start with `prefix` after the tick count: "1234 ws 2" → "ws 2". */
export function events(log: readonly string[], prefix = ""): string[] {
  return log.map((line) => line.replace(/^\d+ /, "")).filter((line) => line.startsWith(prefix));
}
