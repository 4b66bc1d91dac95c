/*
 * native/wifi-ap on the Moddable desktop simulator: its Wi-Fi is a fake with no access point to name, so a
 * wake joins by name (the boards read it in wifi-ap.c).
 */
class WifiAp {
	static read(bssid) {
		return 0;
	}
}
Object.freeze(WifiAp);
export default WifiAp;
