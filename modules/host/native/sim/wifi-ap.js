/*
 * native/wifi-ap on the Moddable desktop simulator: its Wi-Fi is a fake with no access point to name, so a
 * wake joins by name (the boards read it in wifi-ap.c), and takes the address the fake gives.
 */
class WifiAp {
	static read(bssid) {
		return 0;
	}
	static address(address, netmask, gateway, dns) {
		return false; // mcsim's fake Wi-Fi has no address to set: DHCP as it is
	}
}
Object.freeze(WifiAp);
export default WifiAp;
