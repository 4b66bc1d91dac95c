/*
 * The access point the station is associated with (wifi-ap.c), read into the caller's buffer: the BSSID and
 * channel a deep-sleep wake names to join without a scan; and the station's static address (docs/power.md).
 */
class WifiAp {
	static read(bssid) @ "xs_thermocast_wifi_ap_read";
	static address(address, netmask, gateway, dns) @ "xs_thermocast_wifi_ap_address";
}
Object.freeze(WifiAp);
export default WifiAp;
