/* Device code's view of the platform: XS globals plus the Moddable modules the adapter may import. */
/// <reference path="../node_modules/@moddable/typings/xs.d.ts" />
/// <reference path="./moddable-modules.d.ts" />
/// <reference path="../node_modules/@moddable/typings/securesocket.d.ts" />
/// <reference path="../node_modules/@moddable/typings/sntp.d.ts" />
/// <reference path="../node_modules/@moddable/typings/Resource.d.ts" />
