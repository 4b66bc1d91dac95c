/*
 * The Moddable host modules the adapter (modules/host/moddable.ts, and the per-platform native/probe-io)
 * imports, from @moddable/typings (npm), and `onewire`, which it lacks (onewire.d.ts).
 * Listed one by one so that reaching for a module outside this set fails to type-check. Node-side code
 * that bundles the firmware sees these too, without XS's global typings.
 */
/// <reference path="../node_modules/@moddable/typings/timer.d.ts" />
/// <reference path="../node_modules/@moddable/typings/time.d.ts" />
/// <reference path="../node_modules/@moddable/typings/wifi.d.ts" />
/// <reference path="../node_modules/@moddable/typings/preference.d.ts" />
/// <reference path="../node_modules/@moddable/typings/socket.d.ts" />
/// <reference path="../node_modules/@moddable/typings/websocket.d.ts" />
/// <reference path="../node_modules/@moddable/typings/mc/config.d.ts" />
/// <reference path="../node_modules/@moddable/typings/net.d.ts" />
/// <reference path="../node_modules/@moddable/typings/instrumentation.d.ts" />
/// <reference path="../node_modules/@moddable/typings/embedded_io/serial.d.ts" />
/// <reference path="../node_modules/@moddable/typings/embedded_io/smbus.d.ts" />
/// <reference path="../node_modules/@moddable/typings/embedded_io/analog.d.ts" />
/// <reference path="../node_modules/@moddable/typings/embedded_io/digital.d.ts" />
/// <reference path="./onewire.d.ts" />

/** XS's trace(), as the adapter uses it (the full declaration is in @moddable/typings/xs.d.ts). */
declare function trace(...log: (string | number | boolean)[]): void;
