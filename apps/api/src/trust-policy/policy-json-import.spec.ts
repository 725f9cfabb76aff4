import { generateKeyPairSync } from 'node:crypto';

import { DomainError } from '@app/common';

import { importPolicyJson, readPolicyJsonImport } from './policy-json-import';

const publicKeyPem = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  .publicKey.export({ format: 'pem', type: 'spki' })
  .toString();

function body(value: unknown): Buffer {
  return Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
}

function rejection(action: () => unknown): DomainError {
  try {
    action();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('the import was accepted');
}

const SIGSTORE_WITH_PATH = {
  default: [{ type: 'reject' }],
  transports: {
    docker: {
      'registry.example.com/team': [
        {
          type: 'sigstoreSigned',
          keyPath: '/etc/pki/containers/team.pub',
          signedIdentity: { type: 'matchRepository' },
        },
      ],
    },
  },
};

describe('readPolicyJsonImport', () => {
  it('reads a bare policy.json with the comment parameter', () => {
    const request = readPolicyJsonImport(body({ default: [{ type: 'reject' }] }), 'from podman');

    expect(request.comment).toBe('from podman');
    expect(request.files.size).toBe(0);
    expect(JSON.parse(request.policyJson)).toEqual({ default: [{ type: 'reject' }] });
  });

  it('reads the wrapper with files', () => {
    const request = readPolicyJsonImport(
      body({
        policy: SIGSTORE_WITH_PATH,
        files: { '/etc/pki/containers/team.pub': Buffer.from(publicKeyPem).toString('base64') },
        comment: 'team key',
      }),
      undefined,
    );

    expect(request.comment).toBe('team key');
    expect(request.files.get('/etc/pki/containers/team.pub')?.toString()).toBe(publicKeyPem);
  });

  it('rejects a duplicate key', () => {
    const error = rejection(() =>
      readPolicyJsonImport(body('{"default":[{"type":"reject"}],"default":[]}'), undefined),
    );

    expect(error.code).toBe('bad-request');
    expect(error.message).toContain('not valid JSON');
  });

  it('rejects a body without default or policy', () => {
    const error = rejection(() => readPolicyJsonImport(body({ transports: {} }), undefined));

    expect(error.message).toContain('"default"');
  });

  it('rejects an unknown wrapper field', () => {
    const error = rejection(() =>
      readPolicyJsonImport(body({ policy: { default: [] }, file: {} }), undefined),
    );

    expect(error.details?.field).toBe('file');
  });

  it('rejects file content that is not base64', () => {
    const error = rejection(() =>
      readPolicyJsonImport(body({ policy: SIGSTORE_WITH_PATH, files: { '/a': '%%' } }), undefined),
    );

    expect(error.details?.field).toBe('files["/a"]');
  });

  it('rejects an empty body', () => {
    const error = rejection(() => readPolicyJsonImport(Buffer.alloc(0), undefined));

    expect(error.details?.field).toBe('body');
  });
});

describe('importPolicyJson', () => {
  it('uses a file sent with the request for keyPath', () => {
    const imported = importPolicyJson({
      policyJson: JSON.stringify(SIGSTORE_WITH_PATH),
      files: new Map([['/etc/pki/containers/team.pub', Buffer.from(publicKeyPem)]]),
      comment: null,
    });

    const [requirement] = imported.policy.scopes['registry.example.com/team'] ?? [];
    expect(requirement).toMatchObject({
      type: 'signedBy',
      anchors: [{ kind: 'publicKey', publicKeyPem }],
    });
    expect(imported.unsupported).toEqual([]);
  });

  it('rejects a keyPath without its file and names the path', () => {
    const error = rejection(() =>
      importPolicyJson({
        policyJson: JSON.stringify(SIGSTORE_WITH_PATH),
        files: new Map(),
        comment: null,
      }),
    );

    expect(error.code).toBe('bad-request');
    expect(error.message).toContain('/etc/pki/containers/team.pub');
    expect(error.message).toContain('keyData');
  });

  it('lists the parts it cannot map', () => {
    const imported = importPolicyJson({
      policyJson: JSON.stringify({
        default: [{ type: 'insecureAcceptAnything' }],
        transports: { oci: { '': [{ type: 'reject' }] } },
      }),
      files: new Map(),
      comment: null,
    });

    expect(imported.unsupported).toEqual([expect.stringContaining('transport "oci"')]);
  });
});
