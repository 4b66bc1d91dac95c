/*
 * The Moddable modules device code may use, from @moddable/typings (npm). Listed one by one so that
 * reaching for a module outside the adapter's set fails to type-check.
 */
/// <reference path="../node_modules/@moddable/typings/xs.d.ts" />
/// <reference path="../node_modules/@moddable/typings/timer.d.ts" />
/// <reference path="../node_modules/@moddable/typings/time.d.ts" />
/// <reference path="../node_modules/@moddable/typings/wifi.d.ts" />
/// <reference path="../node_modules/@moddable/typings/preference.d.ts" />
/// <reference path="../node_modules/@moddable/typings/socket.d.ts" />
/// <reference path="../node_modules/@moddable/typings/websocket.d.ts" />
/// <reference path="../node_modules/@moddable/typings/mc/config.d.ts" />
