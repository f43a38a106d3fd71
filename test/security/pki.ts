import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A throwaway PKI made with openssl in a temp dir (never committed): a CA, a server certificate
 * for 127.0.0.1/localhost, client certificates, and a second CA nobody trusts. PEM key stores are
 * ZooKeeper's layout (key + certificate in one file); `p12` makes a PKCS12 key store.
 */
export interface Pki {
  dir: string;
  ca: string;
  /** Files of one identity: key, cert, and `pem` = key + cert (a ZooKeeper PEM key store). */
  server: Identity;
  client: Identity;
  /** Signed by the untrusted CA. */
  rogue: Identity;
  /** Issues another certificate from the trusted CA. */
  issue(name: string, subject: string, san?: string): Identity;
  p12(id: Identity, password: string): string;
  remove(): void;
}

export interface Identity {
  key: string;
  cert: string;
  pem: string;
  subject: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** The RFC 2253 form Java prints for the client subject used below. */
export const CLIENT_SUBJECT_RFC2253 = 'CN=client1,OU=Eng,O=Example\\, Inc.,ST=CA,C=US';

export function makePki(): Pki {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-pki-'));
  const mkCa = (name: string, subject: string) => {
    openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', subject], dir);
  };
  mkCa('ca', '/CN=zabkeeper test CA');
  mkCa('rogue-ca', '/CN=rogue CA');
  const issueFrom = (caName: string, name: string, subject: string, san = 'IP:127.0.0.1,DNS:localhost'): Identity => {
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`], dir);
    const key = path.join(dir, `${name}.key`);
    const cert = path.join(dir, `${name}.crt`);
    const pem = path.join(dir, `${name}.pem`);
    fs.writeFileSync(pem, fs.readFileSync(key, 'utf8') + fs.readFileSync(cert, 'utf8'));
    return { key, cert, pem, subject };
  };
  return {
    dir,
    ca: path.join(dir, 'ca.pem'),
    server: issueFrom('ca', 'server', '/CN=localhost'),
    client: issueFrom('ca', 'client', '/C=US/ST=CA/O=Example, Inc./OU=Eng/CN=client1'),
    rogue: issueFrom('rogue-ca', 'rogue', '/CN=client1'),
    issue: (name, subject, san) => issueFrom('ca', name, subject, san),
    p12(id, password) {
      const out = id.pem.replace(/\.pem$/, '.p12');
      openssl(['pkcs12', '-export', '-inkey', id.key, '-in', id.cert, '-out', out, '-passout', `pass:${password}`], dir);
      return out;
    },
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
