/*
 * The boards' native C (modules/host/native/{esp32,esp}/*.c) cannot be built here: there is no ESP-IDF
 * or ESP8266 toolchain. What can be checked is checked: each file compiles, warnings as errors, against the
 * SDK's own XS headers ($MODDABLE/xs/includes) and stand-ins for the vendor headers that declare only the
 * functions used, with the real signatures (tests/sdk/native/); and every host function a module's JS
 * binds (`@ "xs_…"`) is defined in its C. Not checked: the vendor headers themselves, linking, and the
 * behaviour on a chip (sleep current, RTC memory retention, the access point read after a join).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MODDABLE, SKIP_REASON } from "./mcsim";

const ROOT = process.cwd();
const PLATFORMS = ["esp32", "esp"];

for (const platform of PLATFORMS) {
  const folder = join(ROOT, "modules", "host", "native", platform);
  for (const file of readdirSync(folder).filter((name) => name.endsWith(".c"))) {
    test(`native/${platform}/${file} compiles against the SDK's XS headers, and defines what its JS binds`, { skip: SKIP_REASON }, () => {
    const source = join(folder, file);
    const stubs = join(ROOT, "tests", "sdk", "native");
    execFileSync("cc", ["-fsyntax-only", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
      "-Werror=implicit-function-declaration", `-I${join(MODDABLE!, "xs", "includes")}`, `-I${stubs}`, `-I${join(stubs, platform)}`, source],
    { stdio: ["ignore", "pipe", "pipe"] });
    const c = readFileSync(source, "utf8");
    const bound = [...readFileSync(source.replace(/\.c$/, ".js"), "utf8").matchAll(/@ "(\w+)"/g)].map((m) => m[1]);
    assert.ok(bound.length >= 1, `${file.replace(/\.c$/, ".js")} binds its host functions`);
    for (const name of bound) assert.match(c, new RegExp(`^void ${name}\\(xsMachine \\*the\\)$`, "m"), `${name} is defined in ${file}`);
    });
  }
}
