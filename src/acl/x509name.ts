/**
 * The `x509` ACL id of a client certificate: its subject as Java's
 * X500Principal.getName() prints it (RFC 2253), which is what ZooKeeper's X509AuthenticationProvider
 * uses, so ACLs written for ZooKeeper match here byte for byte. Read from the certificate's DER
 * (not from Node's display string, whose order, separators and attribute names differ).
 *
 * RFC 2253 as Java prints it: RDNs most specific first, joined by ','; AVAs of one RDN joined by
 * '+'; attribute types CN C L ST O OU STREET DC UID by name, anything else as its dotted OID with
 * the value as '#' + hex of its DER; string values escape , = + < > # ; " \ anywhere and a
 * leading or trailing space (checked against Java 17's output).
 */

const KEYWORDS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.10': 'O', '2.5.4.11': 'OU',
  '2.5.4.9': 'STREET', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.1': 'UID',
};

/** DER string types whose value prints as text. */
const STRING_TAGS = new Set([0x0c /* UTF8 */, 0x13 /* Printable */, 0x14 /* Teletex */, 0x16 /* IA5 */, 0x1a /* Visible */, 0x1c /* Universal */, 0x1e /* BMP */]);

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  if (at + 2 > der.length) throw new Error('truncated DER');
  const tag = der[at]!;
  let len = der[at + 1]!;
  let p = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > der.length) throw new Error('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + der[p + i]!;
    p += n;
  }
  if (p + len > der.length) throw new Error('truncated DER');
  return { tag, start: at, contentStart: p, end: p + len };
}

function children(der: Uint8Array, t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = t.contentStart; p < t.end; ) {
    const c = readTlv(der, p);
    out.push(c);
    p = c.end;
  }
  return out;
}

function oidText(der: Uint8Array, t: Tlv): string {
  const parts: number[] = [];
  let v = 0;
  for (let p = t.contentStart; p < t.end; p++) {
    v = v * 128 + (der[p]! & 0x7f);
    if (!(der[p]! & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join('.');
}

function stringValue(der: Uint8Array, t: Tlv): string {
  const bytes = Buffer.from(der.subarray(t.contentStart, t.end));
  if (t.tag === 0x1e) return bytes.swap16().toString('utf16le');
  if (t.tag === 0x1c) {
    let s = '';
    for (let i = 0; i + 3 < bytes.length; i += 4) s += String.fromCodePoint(bytes.readUInt32BE(i));
    return s;
  }
  return t.tag === 0x14 ? bytes.toString('latin1') : bytes.toString('utf8');
}

function escape(value: string): string {
  let out = '';
  for (const c of value) out += ',=+<>#;"\\'.includes(c) ? `\\${c}` : c;
  if (out.startsWith(' ')) out = `\\${out}`;
  if (out.endsWith(' ') && !out.endsWith('\\ ')) out = `${out.slice(0, -1)}\\ `;
  return out;
}

function ava(der: Uint8Array, seq: Tlv): string {
  const [type, value] = children(der, seq);
  if (!type || !value) throw new Error('bad AttributeTypeAndValue');
  const oid = oidText(der, type);
  const keyword = KEYWORDS[oid];
  if (keyword && STRING_TAGS.has(value.tag)) return `${keyword}=${escape(stringValue(der, value))}`;
  return `${keyword ?? oid}=#${Buffer.from(der.subarray(value.start, value.end)).toString('hex')}`;
}

/** RFC 2253 text of a DER Name (SEQUENCE OF SET OF AttributeTypeAndValue). */
export function nameToRfc2253(der: Uint8Array, name: Tlv): string {
  return children(der, name)
    .map((rdn) => children(der, rdn).map((a) => ava(der, a)).join('+'))
    .reverse()
    .join(',');
}

/** The subject of a DER certificate, as Java's X500Principal.getName() prints it. */
export function certificateSubject(der: Uint8Array): string {
  const cert = readTlv(der, 0);
  const tbs = children(der, cert)[0];
  if (!tbs) throw new Error('not a certificate');
  const fields = children(der, tbs);
  // [0] version is optional: subject is the 6th field with it, the 5th without.
  const subject = fields[fields[0]?.tag === 0xa0 ? 5 : 4];
  if (!subject) throw new Error('certificate has no subject');
  return nameToRfc2253(der, subject);
}
