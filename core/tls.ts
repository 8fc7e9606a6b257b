/**
 * The reference server's TLS material, made at start (never a file in the repository): a private
 * CA, a server certificate it signed for localhost / 127.0.0.1 / ::1, and session ticket keys.
 * Clients verify the server against the CA; the ticket keys let every process of one server (and a
 * restarted one, as a fleet sharing its keys does) resume the sessions the others issued.
 *
 * The material is kept in a folder (`serve --tls-dir`), one file a part, readable by this user only.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsMaterial {
  /** the server's private key and certificate (PEM) */
  key: string;
  cert: string;
  /** the CA certificate (PEM) clients verify the server against */
  ca: string;
  /** 48 bytes of session ticket keys (node:tls `ticketKeys`) */
  ticketKeys: Buffer;
}

const FILES = { key: 'key.pem', cert: 'cert.pem', ca: 'ca.pem', ticketKeys: 'ticket-keys.bin' } as const;

/** How long the certificates are valid: a run, a serve session, with margin for a clock off by a day. */
const VALID_DAYS = 30;

/** A new CA and a server certificate it signed (ECDSA P-256, SHA-256: what most deployments serve). */
export async function makeTlsMaterial(): Promise<TlsMaterial> {
  // loaded here, not at the top: it is most of a process's start-up, and only TLS runs need it
  const { generate } = await import('selfsigned');
  const notBeforeDate = new Date(Date.now() - 86_400_000);
  const notAfterDate = new Date(Date.now() + VALID_DAYS * 86_400_000);
  const common = { keyType: 'ec' as const, curve: 'P-256' as const, algorithm: 'sha256' as const, notBeforeDate, notAfterDate };
  const ca = await generate([{ name: 'commonName', value: 'pushbench run CA' }], {
    ...common,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    ...common,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }, { type: 7, ip: '::1' }] },
    ],
  });
  return { key: server.private, cert: server.cert, ca: ca.cert, ticketKeys: randomBytes(48) };
}

/** Write `m` into `dir` (made when missing), each file for this user only. */
export function writeTlsMaterial(dir: string, m: TlsMaterial): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const k of Object.keys(FILES) as (keyof TlsMaterial)[]) writeFileSync(join(dir, FILES[k]), m[k], { mode: 0o600 });
}

/** The material in `dir` as {@link writeTlsMaterial} left it; throws when a part is missing. */
export function readTlsMaterial(dir: string): TlsMaterial {
  return {
    key: readFileSync(join(dir, FILES.key), 'utf8'),
    cert: readFileSync(join(dir, FILES.cert), 'utf8'),
    ca: readFileSync(join(dir, FILES.ca), 'utf8'),
    ticketKeys: readFileSync(join(dir, FILES.ticketKeys)),
  };
}

/** New material ({@link makeTlsMaterial}) written into a new private temporary folder; the caller removes it. */
export async function newTlsFolder(): Promise<{ dir: string; material: TlsMaterial }> {
  const material = await makeTlsMaterial();
  const dir = mkdtempSync(join(tmpdir(), 'pushbench-tls-'));
  writeTlsMaterial(dir, material);
  return { dir, material };
}
