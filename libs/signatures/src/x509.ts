import { X509Certificate } from 'node:crypto';

import { AsnConvert } from '@peculiar/asn1-schema';
import {
  BasicConstraints,
  Certificate,
  ExtendedKeyUsage,
  id_ce_basicConstraints,
  id_ce_extKeyUsage,
  id_ce_keyUsage,
  KeyUsage,
  KeyUsageFlags,
} from '@peculiar/asn1-x509';

import { SignatureError } from './errors';
import { assertSupportedKey } from './keys';
import { parsePemBlocks } from './pem';

/** Extended key usage OIDs. */
export const EKU_CODE_SIGNING = '1.3.6.1.5.5.7.3.3';
const EKU_ANY = '2.5.29.37.0';
const EKU_SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const EKU_CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const EKU_EMAIL = '1.3.6.1.5.5.7.3.4';
const EKU_TIME_STAMPING = '1.3.6.1.5.5.7.3.8';

const SHA1_SIGNATURE_ALGORITHMS = new Set([
  '1.2.840.113549.1.1.5',
  '1.2.840.10045.4.1',
  '1.2.840.10040.4.3',
]);

/** Subject attribute short names by OID, as RFC 4514 and the Notary Project spell them. */
const ATTRIBUTE_NAMES: Record<string, string> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.5': 'SERIALNUMBER',
  '1.2.840.113549.1.9.1': 'E',
};

/** A certificate parsed by node:crypto (signatures, keys) and by @peculiar/asn1-x509 (extensions). */
export interface ParsedCertificate {
  der: Buffer;
  x509: X509Certificate;
  notBefore: Date;
  notAfter: Date;
  signatureAlgorithm: string;
  basicConstraints?: { critical: boolean; cA: boolean; pathLength?: number };
  keyUsage?: { critical: boolean; flags: number };
  extendedKeyUsage?: { critical: boolean; purposes: string[] };
  /** Subject attributes in order, as [short name or OID, value]. */
  subject: [string, string][];
  /** Every extension by OID, with its DER value (the content of extnValue). */
  extensions: Map<string, { critical: boolean; value: Buffer }>;
}

/** Parses one DER certificate; rejects duplicate extensions (RFC 5280 section 4.2). */
export function parseCertificate(der: Buffer, description: string): ParsedCertificate {
  let x509: X509Certificate;
  let asn: Certificate;
  try {
    x509 = new X509Certificate(der);
    asn = AsnConvert.parse(der, Certificate);
  } catch (error) {
    throw new SignatureError(
      'certificate-invalid',
      `${description} is not a valid DER X.509 certificate`,
      { cause: error },
    );
  }
  const tbs = asn.tbsCertificate;
  const parsed: ParsedCertificate = {
    der,
    x509,
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
    signatureAlgorithm: asn.signatureAlgorithm.algorithm,
    subject: tbs.subject.flatMap((rdn) =>
      rdn.map((attribute): [string, string] => [
        ATTRIBUTE_NAMES[attribute.type] ?? attribute.type,
        attribute.value.toString(),
      ]),
    ),
    extensions: new Map(),
  };
  for (const extension of tbs.extensions ?? []) {
    if (parsed.extensions.has(extension.extnID)) {
      throw new SignatureError(
        'certificate-invalid',
        `${description} has extension ${extension.extnID} more than once`,
      );
    }
    const value = extension.extnValue.buffer;
    parsed.extensions.set(extension.extnID, {
      critical: extension.critical,
      value: Buffer.from(value),
    });
    if (extension.extnID === id_ce_basicConstraints) {
      const constraints = AsnConvert.parse(value, BasicConstraints);
      parsed.basicConstraints = {
        critical: extension.critical,
        cA: constraints.cA,
        ...(constraints.pathLenConstraint !== undefined && {
          pathLength: constraints.pathLenConstraint,
        }),
      };
    } else if (extension.extnID === id_ce_keyUsage) {
      parsed.keyUsage = {
        critical: extension.critical,
        flags: AsnConvert.parse(value, KeyUsage).toNumber(),
      };
    } else if (extension.extnID === id_ce_extKeyUsage) {
      parsed.extendedKeyUsage = {
        critical: extension.critical,
        purposes: [...AsnConvert.parse(value, ExtendedKeyUsage)],
      };
    }
  }
  return parsed;
}

/** Parses every `CERTIFICATE` block of a PEM trust store file. */
export function parseCertificatesPem(pem: string, description: string): ParsedCertificate[] {
  const blocks = parsePemBlocks(pem, description);
  if (blocks.length === 0) {
    throw new SignatureError('pem-invalid', `${description} contains no PEM certificate`);
  }
  return blocks.map((block, index) => {
    if (block.label !== 'CERTIFICATE') {
      throw new SignatureError(
        'pem-invalid',
        `${description} block ${index} is "${block.label}", expected "CERTIFICATE"`,
      );
    }
    return parseCertificate(block.der, `${description} certificate ${index}`);
  });
}

/**
 * Validates a signing chain (leaf first, as in the envelope) against trusted roots at time `at`,
 * with the Notary Project certificate rules: every certificate valid at `at`, no SHA-1 signature,
 * RSA of at least 2048 bits or EC of at least 256 bits; each CA with critical basicConstraints
 * cA=true (path length enforced) and critical keyUsage keyCertSign; the leaf with critical
 * keyUsage digitalSignature and no encipherment or certificate-signing bit, not a CA, and, when
 * it has an extended key usage, codeSigning and none of serverAuth, clientAuth, emailProtection,
 * timeStamping or anyExtendedKeyUsage. The chain must end at, or be issued by, a trusted root.
 * Returns the full path, root last.
 */
export function verifyCodeSigningChain(
  chain: ParsedCertificate[],
  roots: ParsedCertificate[],
  at: Date,
): ParsedCertificate[] {
  if (chain.length === 0) {
    throw new SignatureError('chain-invalid', 'the envelope carries no certificate chain');
  }
  for (let index = 0; index + 1 < chain.length; index += 1) {
    const child = chain[index] as ParsedCertificate;
    const parent = chain[index + 1] as ParsedCertificate;
    if (!child.x509.checkIssued(parent.x509) || !child.x509.verify(parent.x509.publicKey)) {
      throw new SignatureError(
        'chain-signature-invalid',
        `certificate ${index} (${child.x509.subject.replace(/\n/g, ', ')}) is not signed by the next certificate in the chain`,
      );
    }
  }

  const path = anchorChain(chain, roots);
  for (const [index, certificate] of path.entries()) {
    const label = `certificate ${index} (${certificate.x509.subject.replace(/\n/g, ', ')})`;
    checkValidity(certificate, at, label);
    if (SHA1_SIGNATURE_ALGORITHMS.has(certificate.signatureAlgorithm)) {
      throw new SignatureError(
        'certificate-weak',
        `${label} is signed with a SHA-1 based algorithm`,
      );
    }
    try {
      assertSupportedKey(certificate.x509.publicKey, label);
    } catch (error) {
      throw new SignatureError('certificate-weak', (error as Error).message, { cause: error });
    }
    if (index === 0) {
      checkLeaf(certificate, label);
    } else {
      checkCa(certificate, label, index - 1);
    }
  }
  return path;
}

function anchorChain(chain: ParsedCertificate[], roots: ParsedCertificate[]): ParsedCertificate[] {
  const last = chain[chain.length - 1] as ParsedCertificate;
  if (roots.some((root) => root.der.equals(last.der))) {
    return chain;
  }
  const issuer = roots.find(
    (root) => last.x509.checkIssued(root.x509) && last.x509.verify(root.x509.publicKey),
  );
  if (issuer !== undefined) {
    return [...chain, issuer];
  }
  throw new SignatureError(
    'chain-untrusted',
    `the chain ending at ${last.x509.subject.replace(/\n/g, ', ')} does not lead to a trusted root`,
  );
}

function checkValidity(certificate: ParsedCertificate, at: Date, label: string): void {
  if (at < certificate.notBefore) {
    throw new SignatureError(
      'certificate-not-yet-valid',
      `${label} is valid from ${certificate.notBefore.toISOString()}, after ${at.toISOString()}`,
    );
  }
  if (at > certificate.notAfter) {
    throw new SignatureError(
      'certificate-expired',
      `${label} expired at ${certificate.notAfter.toISOString()}, before ${at.toISOString()}`,
    );
  }
}

const LEAF_FORBIDDEN_USAGES =
  KeyUsageFlags.keyEncipherment |
  KeyUsageFlags.dataEncipherment |
  KeyUsageFlags.keyAgreement |
  KeyUsageFlags.keyCertSign |
  KeyUsageFlags.cRLSign |
  KeyUsageFlags.encipherOnly |
  KeyUsageFlags.decipherOnly;

function checkLeaf(leaf: ParsedCertificate, label: string): void {
  const usage = leaf.keyUsage;
  if (
    usage === undefined ||
    !usage.critical ||
    (usage.flags & KeyUsageFlags.digitalSignature) === 0
  ) {
    throw new SignatureError(
      'leaf-key-usage',
      `${label} needs a critical keyUsage with digitalSignature`,
    );
  }
  if ((usage.flags & LEAF_FORBIDDEN_USAGES) !== 0) {
    throw new SignatureError(
      'leaf-key-usage',
      `${label} has a keyUsage bit other than digitalSignature and nonRepudiation`,
    );
  }
  if (leaf.basicConstraints?.cA === true) {
    throw new SignatureError(
      'leaf-is-ca',
      `${label} is a CA certificate and cannot sign artifacts`,
    );
  }
  const purposes = leaf.extendedKeyUsage?.purposes;
  if (purposes !== undefined) {
    if (!purposes.includes(EKU_CODE_SIGNING)) {
      throw new SignatureError(
        'leaf-eku',
        `${label} has an extended key usage without codeSigning`,
      );
    }
    const forbidden = purposes.filter((purpose) =>
      [EKU_ANY, EKU_SERVER_AUTH, EKU_CLIENT_AUTH, EKU_EMAIL, EKU_TIME_STAMPING].includes(purpose),
    );
    if (forbidden.length > 0) {
      throw new SignatureError(
        'leaf-eku',
        `${label} has extended key usages ${forbidden.join(', ')} next to codeSigning`,
      );
    }
  }
}

function checkCa(ca: ParsedCertificate, label: string, intermediatesBelow: number): void {
  const constraints = ca.basicConstraints;
  if (constraints === undefined || !constraints.critical || !constraints.cA) {
    throw new SignatureError(
      'ca-invalid',
      `${label} issues certificates but has no critical basicConstraints cA=true`,
    );
  }
  if (constraints.pathLength !== undefined && intermediatesBelow > constraints.pathLength) {
    throw new SignatureError(
      'ca-invalid',
      `${label} allows ${constraints.pathLength} intermediate CAs below it, found ${intermediatesBelow}`,
    );
  }
  const usage = ca.keyUsage;
  if (usage === undefined || !usage.critical || (usage.flags & KeyUsageFlags.keyCertSign) === 0) {
    throw new SignatureError('ca-invalid', `${label} needs a critical keyUsage with keyCertSign`);
  }
}

/**
 * Parses an RFC 4514 distinguished name such as `C=US, ST=WA, O=Example` into [name, value]
 * pairs. Rejects multi-valued RDNs (`+`), hex-encoded values (`=#`) and repeated attributes,
 * as notation-go does for trusted identities.
 */
export function parseDistinguishedName(text: string): [string, string][] {
  const attributes: [string, string][] = [];
  let current = '';
  const parts: string[] = [];
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] as string;
    if (char === '\\') {
      current += text.slice(index, index + 2);
      index += 1;
    } else if (char === ',' || char === ';') {
      parts.push(current);
      current = '';
    } else if (char === '+') {
      throw new SignatureError(
        'dn-invalid',
        `distinguished name ${JSON.stringify(text)} has a multi-valued RDN`,
      );
    } else {
      current += char;
    }
  }
  parts.push(current);
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0) {
      throw new SignatureError(
        'dn-invalid',
        `distinguished name ${JSON.stringify(text)} has no attribute in ${JSON.stringify(part)}`,
      );
    }
    const name = part.slice(0, equals).trim().toUpperCase();
    const rawValue = part.slice(equals + 1).trim();
    if (rawValue.startsWith('#')) {
      throw new SignatureError(
        'dn-invalid',
        `distinguished name ${JSON.stringify(text)} has a hex-encoded value`,
      );
    }
    const value = rawValue.replace(/\\(.)/g, '$1');
    const normalized = name === 'S' ? 'ST' : name;
    if (attributes.some(([existing]) => existing === normalized)) {
      throw new SignatureError(
        'dn-invalid',
        `distinguished name ${JSON.stringify(text)} repeats attribute ${normalized}`,
      );
    }
    attributes.push([normalized, value]);
  }
  return attributes;
}

/**
 * Returns true when the certificate subject has every attribute of `trustedSubject` with an
 * equal value. The trusted DN must name C, ST and O, as the Notary Project trust policy requires.
 */
export function subjectMatches(trustedSubject: string, certificate: ParsedCertificate): boolean {
  const trustedAttributes = parseDistinguishedName(trustedSubject);
  for (const required of ['C', 'ST', 'O']) {
    if (!trustedAttributes.some(([name]) => name === required)) {
      throw new SignatureError(
        'dn-invalid',
        `trusted identity ${JSON.stringify(trustedSubject)} must name C, ST and O`,
      );
    }
  }
  return trustedAttributes.every(([name, value]) => {
    const present = certificate.subject.filter(([subjectName]) => subjectName === name);
    return present.length === 1 && present[0]?.[1] === value;
  });
}
