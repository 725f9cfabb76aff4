import { PolicyError, SignatureError } from './errors';
import { assertIdentityRuleValid } from './identity';
import { validateTrustPolicy } from './policy';
import type { IdentityRule, PolicyRequirement, TrustAnchor, TrustPolicy } from './policy-types';
import { isJsonObject, JsonObject, JsonValue, parseStrictJson } from './strict-json';

/** Reads a file that a policy.json names by path (keyPath, caPath); the caller owns all I/O. */
export type PolicyFileReader = (path: string) => Buffer;

/** Result of {@link parsePolicyJson}. */
export interface PolicyImport {
  policy: TrustPolicy;
  /**
   * Parts of the file that this model cannot express, one message each. A requirement among
   * them was replaced by `reject`, so the imported policy never accepts more than the file.
   */
  unsupported: string[];
}

/** Result of {@link exportPolicyJson}. */
export interface PolicyExport {
  json: string;
  /** Requirements that policy.json cannot express; each was written as `reject`. */
  unsupported: string[];
}

const REQUIREMENT_FIELDS: Record<string, string[]> = {
  insecureAcceptAnything: ['type'],
  reject: ['type'],
  signedBy: ['type', 'keyType', 'keyPath', 'keyPaths', 'keyData', 'signedIdentity'],
  sigstoreSigned: [
    'type',
    'keyPath',
    'keyPaths',
    'keyData',
    'keyDatas',
    'fulcio',
    'rekorPublicKeyPath',
    'rekorPublicKeyPaths',
    'rekorPublicKeyData',
    'rekorPublicKeyDatas',
    'signedIdentity',
  ],
};

/**
 * Imports a containers policy.json (podman, skopeo, CRI-O): `default` and the `docker` transport
 * map onto the trust policy, and the docker transport's `""` scope becomes the default. Key
 * files named by path are read through `readFile`. Duplicate keys and invalid values reject the
 * file. Parts with no equivalent are listed in `unsupported`: other transports, `pki`,
 * `signedBaseLayer`, Rekor keys next to plain keys and unknown fields.
 */
export function parsePolicyJson(text: string, readFile: PolicyFileReader): PolicyImport {
  let document: JsonValue;
  try {
    document = parseStrictJson(text);
  } catch (error) {
    throw new PolicyError(`policy.json is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (!isJsonObject(document)) {
    throw new PolicyError('policy.json must be a JSON object');
  }
  const unsupported: string[] = [];
  for (const key of Object.keys(document)) {
    if (key !== 'default' && key !== 'transports') {
      unsupported.push(`top-level field ${JSON.stringify(key)}`);
    }
  }
  const reader = new RequirementReader(readFile, unsupported);
  const defaultValue = document['default'];
  if (!Array.isArray(defaultValue)) {
    throw new PolicyError('policy.json needs "default", an array of requirements');
  }
  const policy: TrustPolicy = { default: reader.readList(defaultValue, 'default'), scopes: {} };

  const transports = document['transports'];
  if (transports !== undefined) {
    if (!isJsonObject(transports)) {
      throw new PolicyError('policy.json "transports" must be an object');
    }
    for (const [transport, scopes] of Object.entries(transports)) {
      if (transport !== 'docker') {
        unsupported.push(
          `transport ${JSON.stringify(transport)} (only "docker" applies to registry images)`,
        );
        continue;
      }
      if (!isJsonObject(scopes)) {
        throw new PolicyError('policy.json transports.docker must be an object of scopes');
      }
      for (const [scope, requirements] of Object.entries(scopes)) {
        if (!Array.isArray(requirements)) {
          throw new PolicyError(
            `policy.json transports.docker[${JSON.stringify(scope)}] must be an array`,
          );
        }
        const list = reader.readList(requirements, `transports.docker[${JSON.stringify(scope)}]`);
        if (scope === '') {
          policy.default = list;
        } else {
          policy.scopes[scope] = list;
        }
      }
    }
  }
  validateTrustPolicy(policy);
  return { policy, unsupported };
}

class RequirementReader {
  constructor(
    private readonly readFile: PolicyFileReader,
    private readonly unsupported: string[],
  ) {}

  readList(values: JsonValue[], where: string): PolicyRequirement[] {
    if (values.length === 0) {
      throw new PolicyError(`policy.json ${where} has no requirements`);
    }
    return values.map((value, index) => this.read(value, `${where}[${index}]`));
  }

  private read(value: JsonValue, where: string): PolicyRequirement {
    if (!isJsonObject(value) || typeof value['type'] !== 'string') {
      throw new PolicyError(`policy.json ${where} must be an object with a string "type"`);
    }

    const type = value['type'];
    const known = REQUIREMENT_FIELDS[type];
    if (known === undefined) {
      return this.reject(`${where}: requirement type ${JSON.stringify(type)}`);
    }

    const extra = Object.keys(value).filter((key) => !known.includes(key));
    if (extra.length > 0) {
      return this.reject(`${where}: fields ${extra.join(', ')} of ${type}`);
    }

    if (type === 'insecureAcceptAnything') {
      return { type: 'accept' };
    }

    if (type === 'reject') {
      return { type: 'reject' };
    }

    const signedIdentity = readIdentity(value['signedIdentity'], where);
    if (signedIdentity === null) {
      return this.reject(
        `${where}: signedIdentity type ${JSON.stringify(value['signedIdentity'])}`,
      );
    }

    const anchors =
      type === 'signedBy'
        ? this.readGpgAnchors(value, where)
        : this.readSigstoreAnchors(value, where);
    if (anchors === undefined) {
      return { type: 'reject' };
    }

    return { type: 'signedBy', anchors, ...(signedIdentity !== undefined && { signedIdentity }) };
  }

  private readGpgAnchors(value: JsonObject, where: string): TrustAnchor[] | undefined {
    if (value['keyType'] !== 'GPGKeys') {
      this.unsupported.push(
        `${where}: signedBy keyType ${JSON.stringify(value['keyType'])} (only GPGKeys is implemented)`,
      );
      return undefined;
    }
    const sources = this.readKeySources(value, where, ['keyPath', 'keyPaths', 'keyData'], 'binary');
    return sources.map((keyring, index) => ({
      kind: 'gpgKeys',
      name: `${where} key ${index}`,
      keyring,
    }));
  }

  private readSigstoreAnchors(value: JsonObject, where: string): TrustAnchor[] | undefined {
    const rekorFields = [
      'rekorPublicKeyPath',
      'rekorPublicKeyPaths',
      'rekorPublicKeyData',
      'rekorPublicKeyDatas',
    ];
    const hasRekor = rekorFields.some((field) => field in value);
    const fulcio = value['fulcio'];
    if (fulcio !== undefined) {
      if (!isJsonObject(fulcio)) {
        throw new PolicyError(`policy.json ${where}.fulcio must be an object`);
      }
      const extra = Object.keys(fulcio).filter(
        (key) => !['caPath', 'caData', 'oidcIssuer', 'subjectEmail'].includes(key),
      );
      if (extra.length > 0) {
        this.unsupported.push(`${where}: fulcio fields ${extra.join(', ')}`);
        return undefined;
      }
      const [caPem] = this.readKeySources(fulcio, `${where}.fulcio`, ['caPath', 'caData'], 'text');
      const oidcIssuer = fulcio['oidcIssuer'];
      const subjectEmail = fulcio['subjectEmail'];
      if (typeof oidcIssuer !== 'string' || typeof subjectEmail !== 'string' || !hasRekor) {
        throw new PolicyError(
          `policy.json ${where}.fulcio needs oidcIssuer, subjectEmail and a Rekor public key`,
        );
      }
      const rekorPublicKeysPem = this.readKeySources(value, where, rekorFields, 'text');
      return [
        {
          kind: 'sigstore',
          name: `${where} fulcio`,
          fulcioCaPem: caPem as string,
          rekorPublicKeysPem,
          identities: [{ issuer: oidcIssuer, subject: subjectEmail }],
        },
      ];
    }
    if (hasRekor) {
      // NOTE: key-based cosign signatures are verified without their Rekor SET, so a policy that
      // demands one cannot be honoured and fails closed.
      this.unsupported.push(
        `${where}: Rekor public keys with a plain public key (the Rekor SET of key-based signatures is not verified)`,
      );
      return undefined;
    }
    const keys = this.readKeySources(
      value,
      where,
      ['keyPath', 'keyPaths', 'keyData', 'keyDatas'],
      'text',
    );
    return keys.map((publicKeyPem, index) => ({
      kind: 'publicKey',
      name: `${where} key ${index}`,
      publicKeyPem,
    }));
  }

  /**
   * Reads exactly one of the given fields: `*Path` names one file, `*Paths` several, `*Data` one
   * base64 value, `*Datas` several. Returns text (PEM) or, for `binary`, armored text or base64.
   */
  private readKeySources(
    object: JsonObject,
    where: string,
    fields: string[],
    encoding: 'text' | 'binary',
  ): string[] {
    const present = fields.filter((field) => field in object);
    if (present.length !== 1) {
      throw new PolicyError(
        `policy.json ${where} needs exactly one of ${fields.join(', ')}, found ${present.length}`,
      );
    }
    const field = present[0] as string;
    const value = object[field];
    const values = Array.isArray(value) ? value : [value];
    if (
      field.endsWith('s') !== Array.isArray(value) ||
      values.length === 0 ||
      values.some((entry) => typeof entry !== 'string')
    ) {
      throw new PolicyError(`policy.json ${where}.${field} has the wrong type`);
    }
    return (values as string[]).map((entry) => {
      let bytes: Buffer;
      if (field.includes('Path')) {
        try {
          bytes = this.readFile(entry);
        } catch (error) {
          throw new PolicyError(
            `policy.json ${where}.${field} file ${entry} could not be read: ${(error as Error).message}`,
            { cause: error },
          );
        }
      } else {
        bytes = Buffer.from(entry, 'base64');
      }
      const text = bytes.toString('utf8');
      if (encoding === 'text' || text.trimStart().startsWith('-----BEGIN PGP')) {
        return text;
      }
      return bytes.toString('base64');
    });
  }

  private reject(message: string): PolicyRequirement {
    this.unsupported.push(message);
    return { type: 'reject' };
  }
}

function readIdentity(
  value: JsonValue | undefined,
  where: string,
): IdentityRule | undefined | null {
  if (value === undefined) {
    return undefined;
  }
  if (!isJsonObject(value)) {
    throw new PolicyError(`policy.json ${where}.signedIdentity must be an object`);
  }
  const string = (key: string): string => {
    const field = value[key];
    if (typeof field !== 'string') {
      throw new PolicyError(`policy.json ${where}.signedIdentity needs string ${key}`);
    }
    return field;
  };
  let rule: IdentityRule;
  switch (value['type']) {
    case 'matchExact':
    case 'matchRepoDigestOrExact':
    case 'matchRepository':
      rule = { type: value['type'] };
      break;
    case 'exactReference':
      rule = { type: 'exactReference', dockerReference: string('dockerReference') };
      break;
    case 'exactRepository':
      rule = { type: 'exactRepository', dockerRepository: string('dockerRepository') };
      break;
    case 'remapIdentity':
      rule = {
        type: 'remapIdentity',
        prefix: string('prefix'),
        signedPrefix: string('signedPrefix'),
      };
      break;
    default:
      return null;
  }
  try {
    assertIdentityRuleValid(rule);
  } catch (error) {
    throw new PolicyError(`policy.json ${where}: ${(error as SignatureError).message}`, {
      cause: error,
    });
  }
  return rule;
}

/**
 * Exports the trust policy as containers policy.json, with key material inline (`keyData`,
 * `keyDatas`, `caData`). Requirements policy.json cannot express (X.509 roots, trusted_root.json,
 * subject patterns, several identities, mixed anchor kinds, RSA-PSS keys) are written as `reject`
 * and listed in `unsupported`.
 */
export function exportPolicyJson(policy: TrustPolicy): PolicyExport {
  const unsupported: string[] = [];
  const convert = (requirements: PolicyRequirement[], where: string) =>
    requirements.map((requirement, index) =>
      exportRequirement(requirement, `${where}[${index}]`, unsupported),
    );
  const docker: Record<string, unknown[]> = {};
  for (const [scope, requirements] of Object.entries(policy.scopes)) {
    docker[scope] = convert(requirements, `scope ${scope}`);
  }
  const document = {
    default: convert(policy.default, 'default'),
    ...(Object.keys(docker).length > 0 && { transports: { docker } }),
  };
  return { json: `${JSON.stringify(document, null, 2)}\n`, unsupported };
}

function exportRequirement(
  requirement: PolicyRequirement,
  where: string,
  unsupported: string[],
): Record<string, unknown> {
  if (requirement.type === 'accept') {
    return { type: 'insecureAcceptAnything' };
  }
  if (requirement.type === 'reject') {
    return { type: 'reject' };
  }
  const identity =
    requirement.signedIdentity === undefined ? {} : { signedIdentity: requirement.signedIdentity };
  const kinds = new Set(requirement.anchors.map((anchor) => anchor.kind));
  const rejectWith = (reason: string) => {
    unsupported.push(`${where}: ${reason}`);
    return { type: 'reject' };
  };
  if (kinds.size !== 1) {
    return rejectWith('anchors of several kinds in one requirement');
  }
  const anchors = requirement.anchors;
  const [kind] = [...kinds];
  if (kind === 'gpgKeys') {
    const keyrings = anchors.map((anchor) =>
      anchor.kind === 'gpgKeys' ? binaryKeyring(anchor.keyring) : Buffer.alloc(0),
    );
    return {
      type: 'signedBy',
      keyType: 'GPGKeys',
      keyData: Buffer.concat(keyrings).toString('base64'),
      ...identity,
    };
  }
  if (kind === 'publicKey') {
    const pems: string[] = [];
    for (const anchor of anchors) {
      if (anchor.kind === 'publicKey') {
        if (anchor.rsaPadding === 'pss') {
          return rejectWith('an RSA-PSS public key');
        }
        pems.push(Buffer.from(anchor.publicKeyPem).toString('base64'));
      }
    }
    return {
      type: 'sigstoreSigned',
      ...(pems.length === 1 ? { keyData: pems[0] } : { keyDatas: pems }),
      ...identity,
    };
  }
  const anchor = anchors[0];
  if (
    kind === 'sigstore' &&
    anchors.length === 1 &&
    anchor?.kind === 'sigstore' &&
    anchor.fulcioCaPem !== undefined
  ) {
    const [only] = anchor.identities;
    if (anchor.identities.length !== 1 || only?.subject === undefined) {
      return rejectWith('a Fulcio anchor with a subject pattern or several identities');
    }
    return {
      type: 'sigstoreSigned',
      fulcio: {
        caData: Buffer.from(anchor.fulcioCaPem).toString('base64'),
        oidcIssuer: only.issuer,
        subjectEmail: only.subject,
      },
      rekorPublicKeyDatas: (anchor.rekorPublicKeysPem ?? []).map((pem) =>
        Buffer.from(pem).toString('base64'),
      ),
      ...identity,
    };
  }
  return rejectWith(`${kind ?? 'unknown'} anchors`);
}

/** Converts an anchor keyring (armored text or base64 binary) to binary OpenPGP packets. */
function binaryKeyring(keyring: string): Buffer {
  if (!keyring.trimStart().startsWith('-----BEGIN PGP')) {
    return Buffer.from(keyring, 'base64');
  }
  const blocks = [
    ...keyring.matchAll(
      /-----BEGIN PGP PUBLIC KEY BLOCK-----\r?\n([\s\S]*?)-----END PGP PUBLIC KEY BLOCK-----/g,
    ),
  ];
  return Buffer.concat(
    blocks.map((block) => {
      // Armor: header lines, a blank line, base64 lines, then an optional "=XXXX" CRC-24 line.
      const all = (block[1] ?? '').split(/\r?\n/);
      const lines = all
        .slice(all.indexOf('') + 1)
        .filter((line) => line !== '' && !line.startsWith('='));
      return Buffer.from(lines.join(''), 'base64');
    }),
  );
}
