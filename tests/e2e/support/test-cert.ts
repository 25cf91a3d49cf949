// A throwaway TLS certificate for one test run (Debian's openssl), and the
// Chromium switch that trusts exactly that key in one test browser: WebRTC
// gives RTCIceServer no certificate option, and Chromium checks a turns:
// relay's certificate like any HTTPS site's (its TURN-over-TLS sockets go
// through the network service's certificate verifier). Production code is
// untouched: only the test's own browser process gets the switch.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface TestCert {
  /** PEM certificate and key (0600), in a private temporary folder. */
  certFile: string;
  keyFile: string;
  /** base64 of SHA-256 over the certificate's SubjectPublicKeyInfo (DER): Chromium's SPKI pin format. */
  spkiSha256: string;
  /** Removes the folder. */
  remove(): void;
}

/**
 * Writes a self-signed certificate (EC P-256, valid one day) to `certFile`
 * and its key to `keyFile` (PEM), replacing what is there. `san`: the
 * subjectAltName, e.g. "IP:127.0.0.1,DNS:localhost". Throws when openssl is
 * missing or fails.
 */
export function writeTestCert(certFile: string, keyFile: string, cn: string, san: string): void {
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-keyout', keyFile, '-out', certFile, '-subj', `/CN=${cn}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: 'ignore' });
}

/** A self-signed certificate for the IP address `ip`, in a private temporary folder (see writeTestCert). */
export function makeTestCert(ip: string, cn = 'confide-test'): TestCert {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'confide-cert-'));
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  writeTestCert(certFile, keyFile, cn, `IP:${ip}`);
  const spki = new crypto.X509Certificate(fs.readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return {
    certFile,
    keyFile,
    spkiSha256: crypto.createHash('sha256').update(spki).digest('base64'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The Chromium command-line switch that accepts certificates with this key
 * despite verification errors (unknown issuer, self-signed), in that browser
 * process only; Chromium honours it only with --user-data-dir, which
 * Playwright always passes.
 */
export function chromiumTrustArg(cert: TestCert): string {
  return `--ignore-certificate-errors-spki-list=${cert.spkiSha256}`;
}
