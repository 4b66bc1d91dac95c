/* Types of the native/wifi-ap module; the same in esp32/, esp/ and sim/ (one per platform's folder, as mcconfig finds them). */
declare const WifiAp: {
  /**
   * The access point the station is associated with: its BSSID into the first 6 bytes of `bssid`, and its
   * channel returned; 0 (and `bssid` untouched) when not associated or not known.
   */
  read(bssid: Uint8Array): number;
};
export default WifiAp;
