/*
 * Certificates for the wss:// tier and the heap bench over TLS, made with openssl in a temp folder: nothing
 * of it is kept or committed.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface Pki {
  /** The folder holding server-ca.der, for THERMOCAST_TLS. */
  caFolder: string;
  /** The server's key and chain (its certificate, then its CA's), signed by the trusted CA. */
  trusted: { cert: Buffer; key: Buffer };
  /** The same, signed by another CA, which the build does not trust. */
  untrusted: { cert: Buffer; key: Buffer };
}

/** Two CAs and a server certificate from each, for 127.0.0.1 (subjectAltName IP), RSA 2048, SHA-256. */
export function makePki(dir: string): Pki {
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  writeFileSync(join(dir, "server.ext"), "basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
  const server = (ca: string) => {
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", `${ca}.key`, "-out", `${ca}.pem`, "-days", "2", "-subj", `/CN=thermocast test ${ca}`,
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${ca}-server.key`, "-out", `${ca}-server.csr`, "-subj", "/CN=127.0.0.1");
    openssl("x509", "-req", "-in", `${ca}-server.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}.key`, "-set_serial", "2", "-days", "2", "-sha256",
      "-extfile", "server.ext", "-out", `${ca}-server.pem`);
    const cert = Buffer.concat([readFileSync(join(dir, `${ca}-server.pem`)), readFileSync(join(dir, `${ca}.pem`))]);
    return { cert, key: readFileSync(join(dir, `${ca}-server.key`)) };
  };
  const trusted = server("ca");
  const untrusted = server("other-ca");
  const caFolder = join(dir, "trusted");
  mkdirSync(caFolder);
  openssl("x509", "-in", "ca.pem", "-outform", "der", "-out", join(caFolder, "server-ca.der"));
  return { caFolder, trusted, untrusted };
}

