/*
 * The reference server: one HTTP(S) server carrying the device WebSocket endpoint (/v1/device/<id>), the
 * dashboard's live feed (/v1/dashboard), the HTTP API and the dashboard. The clock, the log and the
 * database come from the caller, so the simulator can run it on a virtual clock and tests can restart it on
 * the same database. The database is a SQLite file (one node) or a PostgreSQL URL (any number of nodes on
 * one database: store.ts, postgres.ts).
 */
import { hostname } from "node:os";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTlsServer } from "node:https";
import type { AddressInfo, Socket } from "node:net";
import type { RecordableHistogram } from "node:perf_hooks";
import type { Duplex } from "node:stream";
import { WebSocketServer, type WebSocket } from "ws";
import { AdminCredential, newAdminToken, sameOrigin } from "./admin";
import { apiHandler, deviceDetail, deviceSummary, requestUrl } from "./api";
import { CommitQueue, DEFAULT_MAX_GROUP_ROWS, type CommitStats, type Writer } from "./commit";
import type { TelemetryDb } from "./db";
import { AddressConnections, Allowance } from "./limits";
import { LiveFeed } from "./live";
import { LogLimit, consoleLog, type Log } from "./log";
import { DEVICE_PATH as ENDPOINT_PATH } from "../modules/protocol/endpoint";
import { Close, DEVICE_ID, MAX_FRAME_BYTES, type ErrorCode } from "./protocol";
import { DeviceSession, type Limited, type SessionObserver } from "./session";
import { SqliteStore } from "./sqlite-store";
import { isPostgresUrl, openStore } from "./open-store";
import type { CheckedToken, Cluster, Store, TokenCheck } from "./store";

export interface ServerOptions {
  /** 0 picks a free port. Default 8080. */
  port?: number;
  host?: string;
  /** A SQLite file (or ":memory:"), or a `postgres://` URL: a node of a cluster on that database. */
  dbPath: string;
  /** This node's name among the nodes on one PostgreSQL database. Default: host name, process id and port. */
  node?: string;
  /** Epoch ms clock used for dating readings, `welcome.time` and `last_seen`. */
  now?: () => number;
  log?: Log;
  maxFrameBytes?: number;
  /**
   * The admin credential for the dashboard and the API. Default: THERMOCAST_ADMIN_TOKEN, else a random
   * one made now and logged (event `admin-token`), also on `RunningServer.adminToken`.
   */
  adminToken?: string;
  /** PEM certificate and key: serve https:// and wss:// instead of http:// and ws://. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /**
   * WebSockets per remote address (devices behind one NAT share one), and HTTP connections without a
   * request in progress (the oldest is closed for a new one: limits.ts); 0: no limit. Default 1000.
   */
  maxConnectionsPerAddress?: number;
  /** Sustained batches per device per minute, 0: no limit (default 120), and the burst allowed (default 600). */
  batchesPerMinute?: number;
  batchBurst?: number;
  /** Hellos per device per minute, also its burst (default 120: a link flapping at its 1 s backoff base fits). */
  hellosPerMinute?: number;
  /** Pings per device per minute, also its burst (default 120: a 1 s `link.heartbeat` fits). */
  pingsPerMinute?: number;
  /** A connection must finish its request headers (or upgrade request) within this many ms. Default 10 000. */
  headersTimeoutMs?: number;
  /** A device must send a valid hello within this many ms of its upgrade (else close 1008). Default 10 000. */
  helloTimeoutMs?: number;
  /**
   * Answers a device leaves unread above this many bytes stop the reading of its frames; if they stay
   * above for `stalledMs`, it is dropped. Defaults 64 KiB and 10 000 ms.
   */
  maxBufferedBytes?: number;
  stalledMs?: number;
  /** Log lines of one event and level per 10 s (debug lines aside); the rest are counted in a `log-suppressed` line. Default 100; 0: no limit. */
  logLinesPerEvent?: number;
  /** Group commit bounds (commit.ts): readings per transaction, and queued readings before back-pressure. */
  maxGroupRows?: number;
  highWaterRows?: number;
  /**
   * Where device writes are committed (writer.ts): "thread", a writer thread with its own connection (the
   * default for a database file), or "inline", on the event loop (the only choice for ":memory:", and the
   * default when `now` is given: a virtual clock waits only for work it can see on this thread).
   */
  writer?: "thread" | "inline";
  /** Under load the writer thread starts a commit at most this often, ms (writer.ts; default 5). */
  commitIntervalMs?: number;
  /** SQLite: how often a revoke made by another process (the CLI) is looked for, ms. Default 1000. */
  revocationPollMs?: number;
  /** Dashboard device-list updates are coalesced over this many ms. Default 500. */
  dashboardUpdateMs?: number;
}

export interface RunningServer {
  /** http(s)://HOST:PORT: dashboard at `/`, API under `/api`. */
  url: string;
  /** ws(s)://HOST:PORT/v1/device: a device connects to `${wsUrl}/<id>`. */
  wsUrl: string;
  port: number;
  /** The storage, whichever backend. */
  store: Store;
  /** The SQLite database (synchronous, for tests and tools); a PostgreSQL server throws on reading it. */
  db: TelemetryDb;
  /** This node's name (the cluster's, on PostgreSQL). */
  node: string;
  /** The admin credential in force (given, from the environment, or generated). */
  adminToken: string;
  /** Opens the dashboard logged in: the token rides in the fragment, which browsers never send. */
  loginUrl: string;
  /** Group-commit figures: queue depth, group sizes, commit times, paused connections. */
  stats(): CommitStats & { connections: number; dashboards: number };
  /** Each device write's time from being queued to being answered (committed or failed), ns; `reset()` starts a window. */
  commitWaits: RecordableHistogram;
  /**
   * Looks for revokes and re-keys written by another process now, as the poll every `revocationPollMs`
   * does, and drops the live connections they concern.
   */
  checkTokenChanges(): void;
  /** Stops reading and acking, commits what was read, closes every connection (1001), then the database. */
  close(): Promise<void>;
}

const DEVICE_PATH = new RegExp(`^${ENDPOINT_PATH}([^/?]*)$`); // the path has no RegExp metacharacters
const DASHBOARD_PATH = "/v1/dashboard";
const SHUTDOWN_GRACE_MS = 2000;
const DASHBOARD_MAX_FRAME_BYTES = 4096;
const LOG_WINDOW_MS = 10_000;
/** A refused connection (an HTTP refusal of its upgrade, a refused token) is dropped this long after its answer. */
const REFUSAL_GRACE_MS = 2000;

const REFUSAL: Record<Exclude<TokenCheck, "ok">, [error: ErrorCode, close: number, reason: string]> = {
  "unknown-device": ["unknown-device", Close.UnknownDevice, "unknown device"],
  "bad-token": ["unauthorized", Close.Unauthorized, "missing or wrong token"],
  revoked: ["revoked", Close.Revoked, "token revoked"],
};

function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? "")?.[1];
}

/**
 * A socket's error listener, defined out here: a closure made inside the upgrade handler would share its
 * scope, which holds the request, and keep the request and its headers alive as long as the connection.
 */
function destroySocket(this: Duplex): void {
  this.destroy();
}

/** The error listener of a WebSocket that is being refused: whatever it sends now only ends it sooner. */
function terminateSocket(this: WebSocket): void {
  this.terminate();
}

/** An HTTP answer on a socket that asked for an upgrade (before any WebSocket exists). */
function refuseUpgrade(socket: Duplex, status: number, text: string, headers: string[] = []): void {
  const body = `${text}\n`;
  socket.end([`HTTP/1.1 ${status} ${text}`, "Connection: close", "Content-Type: text/plain", `Content-Length: ${Buffer.byteLength(body)}`, ...headers, "", body].join("\r\n"));
  // A client that neither reads the answer nor closes would otherwise hold the socket for good.
  (socket as Socket).setTimeout(REFUSAL_GRACE_MS, destroySocket); // an upgrade's socket is a net.Socket
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const host = options.host ?? "127.0.0.1";
  const now = options.now ?? Date.now;
  const logLimit = new LogLimit(options.log ?? consoleLog(), { lines: options.logLinesPerEvent ?? 100, windowMs: LOG_WINDOW_MS, now });
  const log = logLimit.log;
  // Says what was left out also when the lines stop coming (a window ends only at the next line otherwise).
  const logWindow = setInterval(() => logLimit.flush(), LOG_WINDOW_MS);
  logWindow.unref();
  const secure = options.tls !== undefined;
  const adminToken = options.adminToken ?? process.env.THERMOCAST_ADMIN_TOKEN ?? newAdminToken();
  const admin = new AdminCredential(adminToken);
  const postgres = isPostgresUrl(options.dbPath);
  const threaded = !postgres && (options.writer ?? (options.dbPath === ":memory:" || options.now !== undefined ? "inline" : "thread")) === "thread";
  if (threaded && options.dbPath === ":memory:") throw new Error("a memory database cannot be shared with a writer thread: writer \"inline\"");
  // With a writer thread this connection mostly reads, and SQLite drops a connection's page cache when
  // another one has committed: a large cache here would only hold memory (~1 KB a device at 10 000).
  const store = await openStore(options.dbPath, { cacheMb: threaded ? 2 : undefined });
  const sessions = new Map<string, DeviceSession>();
  let closing = false;
  const maxGroupRows = options.maxGroupRows ?? DEFAULT_MAX_GROUP_ROWS;
  let writer: Writer;
  try {
    writer = await store.openWriter({
      threaded,
      maxGroupRows,
      commitIntervalMs: options.commitIntervalMs,
      onError: (error) => log({ level: "error", event: "writer-stopped", msg: error.message }),
    });
  } catch (e) {
    clearInterval(logWindow);
    await store.close();
    throw e;
  }
  const commits = new CommitQueue({ writer, maxGroupRows, highWaterRows: options.highWaterRows });
  const addresses = new AddressConnections<Duplex>(options.maxConnectionsPerAddress ?? 1000);
  const hellosPerMinute = options.hellosPerMinute ?? 120;
  const pingsPerMinute = options.pingsPerMinute ?? 120;
  const allowances: Record<Limited, Allowance> = {
    batch: new Allowance({ perMinute: options.batchesPerMinute ?? 120, burst: options.batchBurst ?? 600, now }),
    hello: new Allowance({ perMinute: hellosPerMinute, burst: hellosPerMinute, now }),
    ping: new Allowance({ perMinute: pingsPerMinute, burst: pingsPerMinute, now }),
  };
  const helloTimeoutMs = options.helloTimeoutMs ?? 10_000;
  const maxBufferedBytes = options.maxBufferedBytes ?? 65536;
  const stalledMs = options.stalledMs ?? 10_000;
  // perMessageDeflate off (the ws default, said here because it matters): a deflate context costs ~300 KB
  // a connection, and 100-byte frames gain nothing from it.
  const deviceSockets = new WebSocketServer({ noServer: true, maxPayload: options.maxFrameBytes ?? MAX_FRAME_BYTES, perMessageDeflate: false });
  const dashboardSockets = new WebSocketServer({ noServer: true, maxPayload: DASHBOARD_MAX_FRAME_BYTES, perMessageDeflate: false });
  // Set below, once the cluster is joined; nothing calls it before the server listens.
  let cluster!: Cluster;
  const isOnline = (id: string) => sessions.has(id) || cluster.onlineElsewhere(id);
  const live = new LiveFeed({
    store, now, log,
    summary: (row) => deviceSummary(row, isOnline(row.id)),
    detail: (row) => deviceDetail(store, row, isOnline(row.id)),
    updateMs: options.dashboardUpdateMs ?? 500,
    viewing: (dashboards, watching) => cluster.viewing(dashboards, watching),
  });
  // Sessions report here; what they report goes to this node's dashboards and to the other nodes'.
  const observer: SessionObserver = {
    changed: (id) => {
      live.changed(id);
      cluster.changed(id);
    },
    stored: (id, rows) => {
      live.stored(id, rows);
      cluster.stored(id, rows);
    },
  };
  /** Claim generations other nodes took for devices whose claim here is still on its way. */
  const claimedElsewhere = new Map<string, number>();
  const node = options.node ?? `${hostname()}:${process.pid}:${options.port ?? 8080}`;
  try {
    cluster = await store.joinCluster(node, {
      tokenChanged: (change) => {
        // A revoke or re-key, from any node or process: drop that device's connection here, as the upgrade
        // would have refused it.
        const session = sessions.get(change.device_id);
        if (session === undefined || change.version <= session.tokenChecked) return;
        log({ level: "info", event: "token-changed", device: change.device_id, kind: change.kind });
        if (change.kind === "revoked") session.refuse("revoked", Close.Revoked, "token revoked");
        else session.refuse("unauthorized", Close.Unauthorized, "token replaced");
      },
      claimed: (deviceId, generation) => {
        const session = sessions.get(deviceId);
        if (session === undefined) return;
        if (session.generation === undefined) claimedElsewhere.set(deviceId, Math.max(generation, claimedElsewhere.get(deviceId) ?? 0));
        else if (session.generation < generation) session.close(Close.Normal, "replaced by a new connection on another node");
      },
      configPushed: (deviceId, pushId) => {
        const session = sessions.get(deviceId);
        // Not said hello yet: its hello's answer sends every pending push anyway.
        if (session === undefined || !session.helloed) return;
        store.pendingConfigPushes(deviceId).then((pushes) => {
          for (const push of pushes) if (push.id === pushId) session.deliverConfig(push);
        }, (e: unknown) => log({ level: "error", event: "config-push-failed", device: deviceId, msg: String(e) }));
      },
      stored: (deviceId, rows) => live.stored(deviceId, rows),
      changed: (deviceIds) => {
        for (const id of deviceIds) live.changed(id);
      },
    }, { tokenPollMs: options.revocationPollMs ?? 1000, log });
  } catch (e) {
    clearInterval(logWindow);
    await writer.close();
    await store.close();
    throw e;
  }

  const handler = apiHandler({
    store, now, log, admin, secure, isOnline,
    connections: () => sessions.size,
    dashboards: () => live.viewers,
    commits: () => commits.stats(),
    deliverConfig: (push) => {
      const session = sessions.get(push.device_id);
      if (session === undefined || !session.helloed) {
        // Another node may hold it; if none does, it stays pending until the device's next hello.
        cluster.configPushed(push.device_id, push.id);
        return false;
      }
      session.deliverConfig(push);
      return true;
    },
    changed: (id) => observer.changed(id),
  });
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const address = socket.remoteAddress ?? "";
    const port = socket.remotePort ?? 0;
    addresses.busy(address, port);
    res.once("finish", () => {
      if (!socket.destroyed) addresses.idle(address, port, socket);
    });
    if (closing) {
      res.writeHead(503, { "content-type": "text/plain", connection: "close" });
      res.end("server shutting down\n");
    } else handler(req, res);
  };
  const headersTimeoutMs = options.headersTimeoutMs ?? 10_000;
  const httpOptions = {
    // Node looks for connections over their headers or request time only this often (default 30 s, which
    // let a slow-headers client last 20-40 s instead of 10).
    connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeoutMs / 4)),
    headersTimeout: headersTimeoutMs,
    requestTimeout: Math.max(30_000, headersTimeoutMs),
    // TLS: the handshake comes before the headers, within the same limit (Node's default: 120 s).
    handshakeTimeout: headersTimeoutMs,
  };
  const http: Server = secure
    ? createTlsServer({ ...httpOptions, cert: options.tls!.cert, key: options.tls!.key }, onRequest)
    : createServer(httpOptions, onRequest);
  // Extra headers are dropped, not parsed (Node's default: 2000); the request line and headers together
  // are bounded by Node's 16 KiB.
  http.maxHeadersCount = 64;

  // From accept to close; the oldest connection of its address still waiting for a request makes room.
  http.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const port = socket.remotePort ?? 0;
    addresses.accepted(address, port, socket)?.destroy();
    socket.once("close", () => addresses.closed(address, port));
  });

  http.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on("error", destroySocket);
    const address = req.socket.remoteAddress ?? "";
    const port = req.socket.remotePort ?? 0;
    addresses.busy(address, port);
    const path = requestUrl(req.url)?.pathname;
    if (closing) return refuseUpgrade(socket, 503, "Service Unavailable");
    if (path === undefined) return refuseUpgrade(socket, 400, "Bad Request");
    if (path !== DASHBOARD_PATH && !DEVICE_PATH.test(path)) return refuseUpgrade(socket, 404, "Not Found");
    // Before the upgrade: nothing is allocated for a connection that is over the limit, and a device's
    // link takes a failed upgrade for a transient failure, which it backs off from (docs/protocol.md).
    if (!addresses.upgrade(address, port)) {
      log({ level: "warn", event: "rejected", address, status: 429, msg: "too many connections from this address" });
      return refuseUpgrade(socket, 429, "Too Many Requests", ["Retry-After: 60"]);
    }
    if (path === DASHBOARD_PATH) {
      // A page of another site could open this socket with the admin's cookie: only our own pages may.
      if (!sameOrigin(req, secure, true)) {
        log({ level: "warn", event: "rejected", address, status: 403, msg: "dashboard socket from another origin", origin: req.headers.origin });
        return refuseUpgrade(socket, 403, "Forbidden");
      }
      if (!admin.authorized(req)) {
        log({ level: "warn", event: "rejected", address, status: 401, msg: "dashboard socket without the admin credential" });
        return refuseUpgrade(socket, 401, "Unauthorized");
      }
      dashboardSockets.handleUpgrade(req, socket, head, (ws) => live.add(ws));
      return;
    }
    const deviceId = DEVICE_PATH.exec(path)![1];
    // The token is checked before the upgrade (the store may answer over the network: no WebSocket is
    // held meanwhile); refusals still come after it, as an err frame and a close code: embedded clients
    // see those, not HTTP statuses (docs/protocol.md, "Connection and authentication").
    const checking: Promise<CheckedToken> = DEVICE_ID.test(deviceId)
      ? store.checkToken(deviceId, bearerToken(req))
      : Promise.resolve({ check: "unknown-device", version: 0 });
    checking.then((checked) => {
      if (closing) return refuseUpgrade(socket, 503, "Service Unavailable");
      deviceSockets.handleUpgrade(req, socket, head, (ws) => admit(ws, address, port, deviceId, checked));
    }, (e: unknown) => {
      log({ level: "error", event: "token-check-failed", device: deviceId, msg: e instanceof Error ? e.message : String(e) });
      refuseUpgrade(socket, 503, "Service Unavailable", ["Retry-After: 5"]);
    });
  });

  function admit(ws: WebSocket, address: string, port: number, deviceId: string, checked: CheckedToken): void {
    // `checked.version`: every token change up to it is in the check's answer, so the revocation watch
    // must not act on it again (a device re-keyed, reconnecting with its new token before the change
    // arrived, would be dropped for the change it is connecting after).
    const { check, version: tokenChecked } = checked;
    if (check !== "ok") {
      const [error, close, reason] = REFUSAL[check];
      log({ level: "warn", event: "rejected", device: deviceId, code: error, close, msg: reason });
      // Whatever it sends from now on (a bad frame, one over the size limit) ends in this listener.
      ws.on("error", terminateSocket);
      ws.send(JSON.stringify({ t: "err", code: error, msg: reason }));
      ws.close(close, reason);
      // It no longer counts against its address, and it is gone soon even if it never answers the close.
      addresses.closed(address, port);
      setTimeout(() => ws.terminate(), REFUSAL_GRACE_MS).unref();
      return;
    }
    // A device that reconnects before its old connection timed out replaces it.
    sessions.get(deviceId)?.close(Close.Normal, "replaced by a new connection");
    const session = new DeviceSession(deviceId, ws, tokenChecked, {
      store, now, log, commits, observer,
      allow: (kind, id) => allowances[kind].allow(id),
      closing: () => closing,
      helloTimeoutMs, maxBufferedBytes, stalledMs,
    });
    sessions.set(deviceId, session);
    observer.changed(deviceId); // online; `last_seen` is written with its hello, which follows at once
    claimedElsewhere.delete(deviceId);
    // One live session per device across the nodes: this claim makes another node close its session.
    cluster.claim(deviceId).then((generation) => {
      session.generation = generation;
      if ((claimedElsewhere.get(deviceId) ?? 0) > generation && sessions.get(deviceId) === session)
        session.close(Close.Normal, "replaced by a new connection on another node");
      if (ws.readyState === ws.CLOSED) cluster.release(deviceId, generation);
    }, (e: unknown) => log({ level: "error", event: "claim-failed", device: deviceId, msg: String(e) }));
    ws.on("close", (code) => {
      if (sessions.get(deviceId) === session) {
        sessions.delete(deviceId);
        claimedElsewhere.delete(deviceId);
        observer.changed(deviceId);
      }
      if (session.generation !== undefined) cluster.release(deviceId, session.generation);
      log({ level: "info", event: "disconnected", device: deviceId, code });
    });
  }

  try {
    await new Promise<void>((resolve, reject) => {
      http.once("error", reject);
      // A deep accept queue: thousands of devices reconnect together after an outage, and a full queue
      // drops their SYNs (each then waits a second or more to try again).
      http.listen({ port: options.port ?? 8080, host, backlog: 4096 }, () => {
        http.off("error", reject);
        // Accepting can fail later (out of file descriptors): that is logged, not thrown.
        http.on("error", (e: Error) => log({ level: "error", event: "server-error", msg: e.message }));
        resolve();
      });
    });
  } catch (e) {
    clearInterval(logWindow);
    await cluster.close();
    await writer.close();
    await store.close();
    throw e;
  }
  const port = (http.address() as AddressInfo).port;
  const authority = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  const url = `${secure ? "https" : "http"}://${authority}`;
  if (options.adminToken === undefined && process.env.THERMOCAST_ADMIN_TOKEN === undefined)
    log({ level: "warn", event: "admin-token", msg: "no admin token given (--admin-token or THERMOCAST_ADMIN_TOKEN): made one for this run", token: adminToken, login: `${url}/login#token=${adminToken}` });

  let closed: Promise<void> | undefined;
  // Idempotent: a test's cleanup may close a server its body already closed.
  const close = () => (closed ??= shutdown());

  async function shutdown(): Promise<void> {
    closing = true;
    // No new connections, no more frames read, and from now on no ack goes out: what was read is still
    // committed (nothing committed is lost), nothing uncommitted is acked, and a device sends again what
    // it has no ack for, which the next server does not store twice (docs/protocol.md, "Shutdown").
    http.close();
    for (const session of sessions.values()) {
      session.pause();
      session.release(true); // what waited for room in the queue goes in now: it was read
    }
    await commits.drain();
    await writer.close();
    live.close(Close.GoingAway, "server shutting down");
    const clients = [...deviceSockets.clients, ...dashboardSockets.clients];
    // Reading again, so that the devices' close frames are seen (the frames before them are ignored now).
    for (const ws of deviceSockets.clients) ws.resume();
    await Promise.all(clients.map((ws) => new Promise<void>((resolve) => {
      if (ws.readyState === ws.CLOSED) return resolve();
      const timer = setTimeout(() => ws.terminate(), SHUTDOWN_GRACE_MS);
      ws.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(Close.GoingAway, "server shutting down");
    })));
    await new Promise<void>((resolve) => deviceSockets.close(() => resolve()));
    await new Promise<void>((resolve) => dashboardSockets.close(() => resolve()));
    await new Promise<void>((resolve) => {
      http.close(() => resolve());
      http.closeAllConnections();
    });
    await cluster.close();
    await store.close();
    clearInterval(logWindow);
    logLimit.flush();
  }

  return {
    url,
    wsUrl: `${secure ? "wss" : "ws"}://${authority}${ENDPOINT_PATH.slice(0, -1)}`,
    port,
    store,
    get db(): TelemetryDb {
      if (store instanceof SqliteStore) return store.db;
      throw new Error("this server stores in PostgreSQL: use `store`");
    },
    node,
    adminToken,
    loginUrl: `${url}/login#token=${adminToken}`,
    stats: () => ({ ...commits.stats(), connections: sessions.size, dashboards: live.viewers }),
    commitWaits: commits.waits,
    checkTokenChanges: () => cluster.checkTokenChanges(),
    close,
  };
}
