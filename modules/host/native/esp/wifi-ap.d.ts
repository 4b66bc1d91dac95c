/* Types of the native/wifi-ap module; the same in esp32/, esp/ and sim/ (one per platform's folder, as mcconfig finds them). */
declare const WifiAp: {
  /**
   * The access point the station is associated with: its BSSID into the first 6 bytes of `bssid`, and its
   * channel returned; 0 (and `bssid` untouched) when not associated or not known.
   */
  read(bssid: Uint8Array): number;
  /**
   * A static address for the station, each a.b.c.d as the number a·2^24 + b·2^16 + c·2^8 + d: stops its
   * DHCP client and sets address, netmask, gateway and DNS server. Called right after `new WiFi()`, before
   * the association completes. `address` 0 starts DHCP again. Returns whether it was applied.
   */
  address(address: number, netmask: number, gateway: number, dns: number): boolean;
};
export default WifiAp;
