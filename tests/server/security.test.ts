/*
 * Security: device tokens (missing, wrong, revoked — also while connected —, another device's), the admin
 * credential for the API, the dashboard and its socket, same-origin checks, TLS, and the limits on
 * connections per address and batches per minute. Every refusal stores nothing.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import WebSocket from "ws";
import { registerDevice } from "../../server/cli";
import { ADMIN_TOKEN, DeviceClient, TestServer, batch, deviceId, hello } from "./harness";
import { RawClient } from "./raw-client";

/** Opens a dashboard socket; resolves with the HTTP status of a refused upgrade, or 101 and the first message. */
function dashboardSocket(url: string, headers: Record<string, string>): Promise<{ status: number; first?: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url.replace(/^http/, "ws") + "/v1/dashboard", { headers });
    ws.once("unexpected-response", (_req, res) => {
      resolve({ status: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once("message", (data) => {
      resolve({ status: 101, first: JSON.parse(data.toString()) });
      ws.close();
    });
    ws.once("error", (e) => {
      if (!/Unexpected server response/.test(e.message)) reject(e);
    });
  });
}

/** Connects as a device and tries hello + a batch at once; returns how the server answered. */
async function refusedDevice(t: TestServer, path: string, token: string | null) {
  const device = await t.connect(path, token);
  device.send(hello(path));
  device.send(batch({ s: 1 }));
  const err = await device.next();
  const closed = await device.closed;
  return { err, closed };
}

async function login(t: TestServer, token: string): Promise<Response> {
  return fetch(`${t.server.url}/login`, {
    method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }),
  });
}

describe("device credentials", () => {
  let t: TestServer;
  before(async () => {
    t = await new TestServer({ revocationPollMs: 3_600_000 }).start(); // the token watch runs when a test says
  });
  after(async () => {
    await t.dispose();
  });

  test("no token, a wrong token, another device's token: unauthorized, 4001, nothing stored", async () => {
    const id = deviceId("sec");
    registerDevice(t.db, id);
    const other = deviceId("sec");
    const othersToken = registerDevice(t.db, other);
    for (const token of [null, "wrong-token-0000", othersToken]) {
      const { err, closed } = await refusedDevice(t, id, token);
      assert.equal(err.code, "unauthorized", String(token));
      assert.equal(closed.code, 4001);
    }
    assert.equal(t.readingCount(id), 0, "nothing stored");
    assert.equal(t.readingCount(other), 0, "nothing stored for the token's owner either");
    assert.equal(t.db.device(id)!.firmware, null, "the hello was not recorded");
  });

  test("a revoked token is refused (4003); revoking from the CLI drops the live connection", async () => {
    const id = deviceId("sec");
    const token = registerDevice(t.db, id);
    const device = await t.connect(id, token);
    await device.hello(id);
    await device.acked(batch({ s: 1 }));

    // The CLI is another process writing the same database; the server notices at its next poll (run now).
    const revoked = spawnSync(process.execPath, ["--import", "tsx", "server/cli.ts", "device", "revoke", id, "--db", t.dbPath], { encoding: "utf8" });
    assert.equal(revoked.status, 0, revoked.stderr);
    t.server.checkTokenChanges();
    const err = await device.next();
    assert.deepEqual([err.t, err.code], ["err", "revoked"]);
    assert.deepEqual(await device.closed, { code: 4003, reason: "token revoked" });

    const again = await refusedDevice(t, id, token);
    assert.equal(again.err.code, "revoked");
    assert.equal(again.closed.code, 4003);
    assert.equal(t.readingCount(id), 5, "only the batch acked before the revoke");
  });

  test("a token replaced with `device add --replace` drops the connection that used the old one", async () => {
    const id = deviceId("sec");
    const token = registerDevice(t.db, id);
    const device = await t.connect(id, token);
    await device.hello(id);
    registerDevice(t.db, id, "the-new-token-123", { replace: true });
    t.server.checkTokenChanges();
    assert.equal((await device.next()).code, "unauthorized");
    assert.equal((await device.closed).code, 4001);
    await (await t.connect(id, "the-new-token-123")).hello(id);
  });
});

test("a device re-keyed and back with its new token before the revocation watch ran is not dropped for the change", async () => {
  const t = await new TestServer({ revocationPollMs: 3_600_000 }).start(); // the watch runs when the test says
  try {
    const id = deviceId("sec");
    const device = await t.connect(id, registerDevice(t.db, id));
    await device.hello(id);
    registerDevice(t.db, id, "the-new-token-456", { replace: true });
    // At once, well inside the watch's period: the new connection replaces the old one.
    const again = await t.connect(id, "the-new-token-456");
    await again.hello(id);
    assert.equal((await device.closed).code, 1000, "the old connection was replaced");
    t.server.checkTokenChanges(); // the watch runs and sees the re-key
    await again.acked(batch({ s: 1 }));
    assert.equal(t.rejections(id).length, 0);
    await again.close();
  } finally {
    await t.dispose();
  }
});

describe("admin credential", () => {
  let t: TestServer;
  let id: string;
  before(async () => {
    t = await new TestServer().start();
    id = deviceId("adm");
    registerDevice(t.db, id);
  });
  after(async () => {
    await t.dispose();
  });

  test("the API refuses requests without the admin credential, or with a wrong one", async () => {
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer not-the-admin-token" }, { authorization: "Basic YWRtaW46YWRtaW4=" }, { cookie: "thermocast_session=forged" }];
    for (const headers of attempts) {
      for (const path of ["/api/devices", `/api/devices/${id}`, `/api/devices/${id}/readings?format=csv`, "/api/config/fields"]) {
        const response = await fetch(t.server.url + path, { headers });
        assert.equal(response.status, 401, `${path} ${JSON.stringify(headers)}`);
      }
      const push = await fetch(`${t.server.url}/api/devices/${id}/config`, { method: "POST", headers, body: '{"set":{"sample.interval":5}}' });
      assert.equal(push.status, 401);
    }
    assert.deepEqual(t.db.pendingConfigPushes(id), [], "nothing queued");
    assert.equal((await t.api("/api/devices")).status, 200, "the right Bearer token passes");
  });

  test("the dashboard page sends a visitor without a session to the login form; health stays open", async () => {
    const page = await fetch(`${t.server.url}/`, { redirect: "manual" });
    assert.equal(page.status, 303);
    assert.equal(page.headers.get("location"), "/login");
    const form = await fetch(`${t.server.url}/login`);
    assert.equal(form.status, 200);
    assert.match(await form.text(), /name="token"/);
    assert.equal((await fetch(`${t.server.url}/health`)).status, 200);
  });

  test("login: a wrong token gets no session; the right one gets an HttpOnly SameSite cookie that opens the API", async () => {
    const wrong = await login(t, "nope-nope-nope");
    assert.equal(wrong.status, 303);
    assert.equal(wrong.headers.get("location"), "/login?failed=1");
    assert.equal(wrong.headers.get("set-cookie"), null);

    const right = await login(t, ADMIN_TOKEN);
    assert.equal(right.headers.get("location"), "/");
    const cookie = right.headers.get("set-cookie") ?? "";
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.ok(!cookie.includes(ADMIN_TOKEN), "the cookie is not the token itself");
    const session = cookie.split(";")[0];
    assert.equal((await fetch(`${t.server.url}/api/devices`, { headers: { cookie: session } })).status, 200);
    assert.equal((await fetch(`${t.server.url}/`, { headers: { cookie: session } })).status, 200);
  });

  test("a cookie-borne config push from another origin is refused (403), nothing queued", async () => {
    const session = ((await login(t, ADMIN_TOKEN)).headers.get("set-cookie") ?? "").split(";")[0];
    const headers = { cookie: session, "content-type": "application/json" };
    const body = JSON.stringify({ set: { "sample.interval": 5 } });
    const forged = await fetch(`${t.server.url}/api/devices/${id}/config`, { method: "POST", headers: { ...headers, origin: "http://evil.example" }, body });
    assert.equal(forged.status, 403);
    const noOrigin = await fetch(`${t.server.url}/api/devices/${id}/config`, { method: "POST", headers, body });
    assert.equal(noOrigin.status, 403, "a cookie alone is not enough to change something");
    assert.deepEqual(t.db.pendingConfigPushes(id), [], "nothing queued");
    const own = await fetch(`${t.server.url}/api/devices/${id}/config`, { method: "POST", headers: { ...headers, origin: t.server.url }, body });
    assert.equal(own.status, 202);
  });

  test("the dashboard socket needs the credential and the server's own origin", async () => {
    const session = ((await login(t, ADMIN_TOKEN)).headers.get("set-cookie") ?? "").split(";")[0];
    const origin = t.server.url;
    assert.equal((await dashboardSocket(t.server.url, { origin })).status, 401, "no credential");
    assert.equal((await dashboardSocket(t.server.url, { origin, cookie: "thermocast_session=forged" })).status, 401, "forged cookie");
    assert.equal((await dashboardSocket(t.server.url, { origin: "http://evil.example", cookie: session })).status, 403, "cross-origin");
    assert.equal((await dashboardSocket(t.server.url, { cookie: session })).status, 403, "no Origin: not a page of ours");
    const open = await dashboardSocket(t.server.url, { origin, cookie: session });
    assert.equal(open.status, 101);
    assert.equal(open.first?.t, "devices");
    const refusals = t.logs.filter((l) => l.event === "rejected" && l.status !== undefined);
    assert.ok(refusals.length >= 4, `each refusal is logged: ${JSON.stringify(refusals)}`);
  });
});

describe("limits", () => {
  test("connections per address: over the limit, HTTP 429 before the upgrade; a freed slot is usable again", async () => {
    const t = await new TestServer({ maxConnectionsPerAddress: 3 }).start();
    try {
      const ids = [deviceId("lim"), deviceId("lim"), deviceId("lim"), deviceId("lim")];
      const tokens = ids.map((id) => registerDevice(t.db, id));
      const open: DeviceClient[] = [];
      for (let i = 0; i < 3; i++) {
        open.push(await t.connect(ids[i], tokens[i]));
        await open[i].hello(ids[i]);
      }
      const refused = await new Promise<number>((resolve, reject) => {
        const ws = new WebSocket(`${t.server.wsUrl}/${ids[3]}`, { headers: { authorization: `Bearer ${tokens[3]}` } });
        ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        ws.once("open", () => reject(new Error("a 4th connection was accepted")));
      });
      assert.equal(refused, 429);
      assert.equal(t.db.device(ids[3])!.last_seen, null, "the refused device was never admitted");
      await open[0].close();
      // The server frees the slot when its side of the TCP connection closes, a moment after ours: retry
      // (refused with 429 meanwhile) until it is admitted.
      let late: DeviceClient | undefined;
      for (const end = Date.now() + 10000; late === undefined;) {
        late = await t.connect(ids[3], tokens[3]).catch((e) => {
          if (Date.now() > end) throw e;
          return new Promise<undefined>((r) => setTimeout(() => r(undefined), 20));
        });
      }
      await late.hello(ids[3]);
      for (const c of [late, open[1], open[2]]) await c.close();
    } finally {
      await t.dispose();
    }
  });

  test("batches per device per minute: over the allowance, err rate-limited (no s: the device keeps it) and close 4008", async () => {
    const t = await new TestServer({ batchesPerMinute: 60, batchBurst: 3 }).start();
    try {
      const id = deviceId("lim");
      const token = registerDevice(t.db, id);
      const device = await t.connect(id, token);
      await device.hello(id);
      for (let s = 1; s <= 3; s++) await device.acked(batch({ s, k: s * 5 }));
      device.send(batch({ s: 4, k: 20 }));
      assert.deepEqual(await device.next(), { t: "err", code: "rate-limited", msg: "too many batches per minute" });
      assert.deepEqual(await device.closed, { code: 4008, reason: "rate limited" });
      assert.equal(t.readingCount(id), 15, "the 4th batch stored nothing");
      // The allowance is the device's, not the connection's: reconnecting does not refill it...
      const again = await t.connect(id, token);
      await again.hello(id);
      again.send(batch({ s: 1, k: 20 }));
      assert.equal((await again.next()).code, "rate-limited");
      await again.closed;
      // ...time does: a second later there is one batch more.
      t.clock += 1000;
      const later = await t.connect(id, token);
      await later.hello(id);
      await later.acked(batch({ s: 1, k: 20 }));
      assert.equal(t.readingCount(id), 20);
      await later.close();
    } finally {
      await t.dispose();
    }
  });
});

describe("TLS", { skip: existsSync("/usr/bin/openssl") ? false : "openssl not installed" }, () => {
  let t: TestServer;
  let cert: Buffer;
  const keys = new TestServer(); // only for a temp dir to hold the key pair
  before(async () => {
    const dir = keys.dir;
    const [certPath, keyPath] = [join(dir, "cert.pem"), join(dir, "key.pem")];
    execFileSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", keyPath, "-out", certPath,
      "-days", "1", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stdio: "ignore" });
    cert = readFileSync(certPath);
    t = await new TestServer({ tls: { cert, key: readFileSync(keyPath) } }).start();
  });
  after(async () => {
    await t?.dispose();
    rmSync(keys.dir, { recursive: true, force: true });
  });

  test("with --cert/--key the server speaks https:// and wss:// only", async () => {
    assert.match(t.server.url, /^https:\/\//);
    assert.match(t.server.wsUrl, /^wss:\/\//);
    const id = deviceId("tls");
    const token = registerDevice(t.db, id);
    const socket = new WebSocket(`${t.server.wsUrl}/${id}`, { headers: { authorization: `Bearer ${token}` }, ca: cert });
    await new Promise((resolve, reject) => {
      socket.once("open", resolve);
      socket.once("error", reject);
    });
    const next = () => new Promise<Record<string, unknown>>((resolve) => socket.once("message", (d) => resolve(JSON.parse(d.toString()))));
    socket.send(JSON.stringify(hello(id)));
    assert.equal((await next()).t, "welcome");
    socket.send(JSON.stringify(batch({ s: 1 })));
    assert.deepEqual(await next(), { t: "ack", s: 1 });
    socket.close();
    assert.equal(t.readingCount(id), 5);

    const api = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest(`${t.server.url}/api/devices`, { ca: cert, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } }, (res) => {
        let body = "";
        res.on("data", (c) => (body += c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.end();
    });
    assert.equal(api.status, 200);
    assert.ok(api.body.includes(id), "the device is listed over https");

    const login = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(`${t.server.url}/login`, { method: "POST", ca: cert, headers: { "content-type": "application/x-www-form-urlencoded" } }, (res) => {
        res.resume();
        resolve(String(res.headers["set-cookie"] ?? ""));
      });
      req.on("error", reject);
      req.end(`token=${ADMIN_TOKEN}`);
    });
    assert.match(login, /; Secure/, "the session cookie is Secure over TLS");

    // Plain ws:// to the TLS port does not get a WebSocket.
    const plain = new WebSocket(`ws://127.0.0.1:${t.server.port}/v1/device/${id}`, { headers: { authorization: `Bearer ${token}` } });
    const outcome = await new Promise<string>((resolve) => {
      plain.once("open", () => resolve("open"));
      plain.once("error", () => resolve("error"));
    });
    assert.equal(outcome, "error");
    assert.equal(t.readingCount(id), 5);
  });

  test("over TLS too, idle connections make room by closing each other, never a device's socket", { timeout: 30_000 }, async () => {
    const small = await new TestServer({ tls: { cert, key: readFileSync(join(keys.dir, "key.pem")) }, maxConnectionsPerAddress: 2 }).start();
    try {
      const devices = [];
      for (let n = 0; n < 2; n++) {
        const id = deviceId("tls");
        const socket = new WebSocket(`${small.server.wsUrl}/${id}`, { headers: { authorization: `Bearer ${registerDevice(small.db, id)}` }, ca: cert });
        await new Promise((resolve, reject) => {
          socket.once("open", resolve);
          socket.once("error", reject);
        });
        devices.push({ id, socket });
      }
      // Five TCP connections that never start their handshake: three are closed to keep two waiting.
      const idle = await Promise.all(Array.from({ length: 5 }, () => RawClient.open(small.server.port)));
      let closed = 0;
      await new Promise<void>((resolve) => {
        for (const c of idle) void c.closed.then(() => ++closed === 3 && resolve());
      });
      for (const { id, socket } of devices) {
        assert.equal(socket.readyState, WebSocket.OPEN, `${id} is still connected`);
        const answer = new Promise<unknown>((resolve) => {
          socket.once("message", (d) => resolve(JSON.parse(d.toString()).t));
          socket.once("close", (code) => resolve(`closed ${code}`));
        });
        socket.send(JSON.stringify(hello(id)));
        assert.equal(await answer, "welcome");
        socket.close();
      }
      for (const c of idle) c.destroy();
    } finally {
      await small.dispose();
    }
  });
});
