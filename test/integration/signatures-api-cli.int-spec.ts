import { spawn } from 'node:child_process';
import { createHash, generateKeyPairSync, KeyObject, sign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataSource } from 'typeorm';

import { openDataSource } from '@app/persistence';

import { createTestApiKey, RunningApi, startApi } from '../support/api-client';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';

/** The CLI as `npm run build` leaves it; the tests run it as CI pipelines do. */
const CLI = join(__dirname, '../../dist/apps/cli/src/main.js');
const REFERENCE = 'registry.example.com/team/app:v1';

const config = buildTestConfig('signatures_cli', [
  // Port 9 (discard) on loopback: these tests never contact a registry.
  {
    name: 'local',
    url: 'http://127.0.0.1:9',
    hosts: ['127.0.0.1:5000'],
    webhookToken: randomToken(),
  },
]);

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI without blocking the event loop, so an API in this process keeps serving. */
function runCli(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function cosignPayload(digest: string, dockerReference: string): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

function publicPem(key: KeyObject): string {
  return key.export({ format: 'pem', type: 'spki' }).toString();
}

describe('provenance verify', () => {
  const directory = mkdtempSync(join(tmpdir(), 'provenance-verify-'));
  const path = (name: string) => join(directory, name);
  const manifest = Buffer.from(
    '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}',
  );
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;

  beforeAll(() => {
    if (!existsSync(CLI)) {
      throw new Error(`${CLI} is missing; run "npm run build" before these tests`);
    }
    const signer = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(path('manifest.json'), manifest);
    writeFileSync(path('cosign.pub'), publicPem(signer.publicKey));
    writeFileSync(path('other.pub'), publicPem(other.publicKey));

    const payload = cosignPayload(digest, REFERENCE);
    writeFileSync(path('payload.json'), payload);
    writeFileSync(
      path('cosign.sig'),
      sign('sha256', payload, signer.privateKey).toString('base64'),
    );

    const foreign = cosignPayload(`sha256:${'0'.repeat(64)}`, REFERENCE);
    writeFileSync(path('foreign.json'), foreign);
    writeFileSync(
      path('foreign.sig'),
      sign('sha256', foreign, signer.privateKey).toString('base64'),
    );

    writeFileSync(
      path('policy.json'),
      JSON.stringify({
        default: [{ type: 'reject' }],
        transports: {
          docker: {
            'registry.example.com/team': [
              {
                type: 'sigstoreSigned',
                keyData: Buffer.from(publicPem(signer.publicKey)).toString('base64'),
              },
            ],
          },
        },
      }),
    );
  });

  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  /** Arguments of a cosign verification; each file name is relative to the test directory. */
  function cosignArgs(
    files: { manifest?: string; signature?: string; payload?: string; reference?: string } = {},
  ): string[] {
    return [
      'verify',
      '--manifest',
      files.manifest ?? path('manifest.json'),
      '--signature',
      path(files.signature ?? 'cosign.sig'),
      '--payload',
      path(files.payload ?? 'payload.json'),
      '--reference',
      files.reference ?? REFERENCE,
    ];
  }

  it('exits 0 for a cosign signature by the given key', async () => {
    const result = await runCli([...cosignArgs(), '--key', path('cosign.pub')]);

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^verified: /);
    expect(result.stdout).toContain(`digest: ${digest}`);
  });

  it('exits 0 when one of several keys signed', async () => {
    const result = await runCli([
      ...cosignArgs(),
      '--key',
      path('other.pub'),
      '--key',
      path('cosign.pub'),
      '--format',
      'cosign',
    ]);

    expect(result.code).toBe(0);
  });

  it('exits 0 under a policy.json that trusts the key', async () => {
    const result = await runCli([...cosignArgs(), '--policy', path('policy.json')]);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('policy scope: registry.example.com/team');
  });

  it('exits 1 for a key that did not sign', async () => {
    const result = await runCli([...cosignArgs(), '--key', path('other.pub')]);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^untrusted: /);
  });

  it('exits 1 for a signature over another digest', async () => {
    const result = await runCli([
      ...cosignArgs({ signature: 'foreign.sig', payload: 'foreign.json' }),
      '--key',
      path('cosign.pub'),
    ]);

    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/^verified/);
    expect(result.stdout).toContain(digest);
  });

  it('exits 1 when the policy.json rejects the reference', async () => {
    const args = cosignArgs({ reference: 'registry.example.com/other/app:v1' });

    const result = await runCli([...args, '--policy', path('policy.json')]);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^rejected: /);
  });

  it('exits 3 for an unreadable manifest', async () => {
    const args = cosignArgs({ manifest: join(directory, 'missing', 'manifest.json') });

    const result = await runCli([...args, '--key', path('cosign.pub')]);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain('could not be read');
  });

  it('exits 3 without trust material', async () => {
    const result = await runCli(cosignArgs());

    expect(result.code).toBe(3);
    expect(result.stderr).toContain('no trust material');
  });

  it('exits 3 for a reference by digest', async () => {
    const args = cosignArgs({ reference: `registry.example.com/team/app@${digest}` });

    const result = await runCli([...args, '--key', path('cosign.pub')]);

    expect(result.code).toBe(3);
    expect(result.stderr).toContain('not a digest');
  });

  it.each([
    ['a missing required option', ['verify', '--signature', 's', '--reference', REFERENCE]],
    ['an unknown option', ['verify', '--manifest', 'm', '--signature', 's', '--unknown']],
    [
      'an invalid format',
      ['verify', '--manifest', 'm', '--signature', 's', '--reference', 'r', '--format', 'pgp'],
    ],
  ])('exits 3 for %s', async (_case, args) => {
    const result = await runCli(args);

    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: /);
  });
});

describe('provenance check --require-signed', () => {
  let api: RunningApi;
  let dataSource: DataSource;
  let ciKey: string;

  const digestOf = (character: string) => `sha256:${character.repeat(64)}`;

  async function insertImage(
    digest: string,
    tag: string,
    freshness: 'fresh' | 'stale',
    signature: string | null,
  ): Promise<void> {
    await dataSource.query(
      `INSERT INTO images (digest, media_type, kind, size, layer_count)
       VALUES ($1, 'application/vnd.oci.image.manifest.v1+json', 'image', 100, 1)`,
      [digest],
    );
    await dataSource.query(
      `INSERT INTO repository_images (registry, repository, digest) VALUES ('local', 'team/app', $1)`,
      [digest],
    );
    await dataSource.query(
      `INSERT INTO tags (registry, repository, name, digest) VALUES ('local', 'team/app', $1, $2)`,
      [tag, digest],
    );
    await dataSource.query(
      `INSERT INTO freshness (digest, status, reasons) VALUES ($1, $2, '[]')`,
      [digest, freshness],
    );
    if (signature === null) return;
    await dataSource.query(
      `INSERT INTO signature_verdicts
         (digest, registry, repository, status, signers, reasons, policy_scope, policy_version)
       VALUES ($1, 'local', 'team/app', $2, $3, $4, 'default', 4)`,
      [
        digest,
        signature,
        JSON.stringify(signature === 'verified' ? [{ identity: 'ci key' }] : []),
        JSON.stringify(
          signature === 'verified' ? [] : [{ code: 'no-trusted-key', message: 'no trusted key' }],
        ),
      ],
    );
  }

  function check(tag: string, ...flags: string[]): Promise<CliResult> {
    return runCli([
      'check',
      `127.0.0.1:5000/team/app:${tag}`,
      '--server',
      api.url,
      '--api-key',
      ciKey,
      ...flags,
    ]);
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) {
      throw new Error(`${CLI} is missing; run "npm run build" before these tests`);
    }
    await migrateTestSchema(config);
    api = await startApi(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 1,
    });
    ciKey = await createTestApiKey(config, 'ci');
    await insertImage(digestOf('a'), 'signed', 'fresh', 'verified');
    await insertImage(digestOf('b'), 'untrusted', 'fresh', 'untrusted');
    await insertImage(digestOf('c'), 'unchecked', 'fresh', null);
    await insertImage(digestOf('d'), 'stale-signed', 'stale', 'verified');
    await insertImage(digestOf('e'), 'not-required', 'fresh', 'not-required');
  });

  afterAll(async () => {
    await api.close();
    await dataSource.destroy();
    await dropTestSchema(config);
  });

  it('exits 0 for a fresh verified image', async () => {
    const result = await check('signed', '--require-signed');

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('signature: verified (policy version 4, scope default');
    expect(result.stdout).toContain('signer: ci key');
  });

  it('exits 1 for an untrusted signature and prints why', async () => {
    const result = await check('untrusted', '--require-signed');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('--require-signed');
    expect(result.stderr).toContain('is untrusted, not verified');
    expect(result.stderr).toContain('no trusted key');
  });

  it('exits 1 for an image not checked yet', async () => {
    const result = await check('unchecked', '--require-signed');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('have not been checked yet');
  });

  it('exits 1 when the policy requires no signature', async () => {
    const result = await check('not-required', '--require-signed');

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('is not-required, not verified');
  });

  it('keeps exit 1 for a stale verified image', async () => {
    const result = await check('stale-signed', '--require-signed');

    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
  });

  it('ignores the signature without the flag', async () => {
    const result = await check('untrusted');

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('signature: untrusted');
  });

  it('prints the body and still exits 1 with --json', async () => {
    const result = await check('untrusted', '--require-signed', '--json');

    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout).signature.status).toBe('untrusted');
  });
});
