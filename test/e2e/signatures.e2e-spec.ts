import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { getQueueToken } from '@nestjs/bullmq';
import { Queue } from 'bullmq';
import pino from 'pino';
import { DataSource } from 'typeorm';
import { stringify } from 'yaml';

import { AppConfig } from '@app/config';
import { openDataSource } from '@app/persistence';
import { JobName, QueueName } from '@app/queue';
import { TrustPolicy } from '@app/signatures';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { createGpgSigner, GpgSigner } from '../../libs/signatures/test-fixtures/tools';
import { createTestApiKey, getJson, RunningApi, startApi } from '../support/api-client';
import { buildImage, BuiltImage, pushImage } from '../support/images';
import { freePort, runCommand } from '../support/processes';
import { RunningRegistry, startRegistry } from '../support/registry';
import {
  CosignKey,
  cosignPayload,
  cosignSignatureManifest,
  cosignTag,
  generateCosignKey,
  pushArtifact,
  signPayload,
} from '../support/signing';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

interface VerdictRow {
  status: string;
  signers: Array<Record<string, string>>;
  reasons: Array<Record<string, unknown>>;
  policy_version: number | null;
}

const CLI = join(__dirname, '../../dist/apps/cli/src/main.js');

describe('signature verification against a real registry', () => {
  const token = randomToken();
  const firstKey = generateCosignKey();
  const secondKey = generateCosignKey();
  const digests: Record<string, string> = {};
  let registry: RunningRegistry;
  let api: RunningApi;
  let worker: RunningWorker;
  let dataSource: DataSource;
  let config: AppConfig;
  let workDir: string;
  let lookasideDir: string;
  let securityKey: string;
  let gpgSigner: GpgSigner;

  /** Trusts `key` for sig/app and, when given, the GPG key for sig/gpg; accepts the rest. */
  function policy(key: CosignKey, gpg?: GpgSigner): TrustPolicy {
    const scopes: TrustPolicy['scopes'] = {
      [`${registry.host}/sig/app`]: [
        {
          type: 'signedBy',
          anchors: [{ kind: 'publicKey', name: 'release key', publicKeyPem: key.publicKeyPem }],
          // cosign names the repository without a tag in its payload.
          signedIdentity: { type: 'matchRepository' },
        },
      ],
    };
    if (gpg !== undefined) {
      scopes[`${registry.host}/sig/gpg`] = [
        {
          type: 'signedBy',
          anchors: [{ kind: 'gpgKeys', name: 'gpg release', keyring: gpg.armoredPublicKey }],
        },
      ];
    }
    return { default: [{ type: 'accept' }], scopes };
  }

  async function savePolicy(document: TrustPolicy): Promise<number> {
    const [row] = await dataSource.query(
      `INSERT INTO trust_policies (policy, source, created_by, comment)
       VALUES ($1, 'api', 'e2e test', 'signature e2e')
       RETURNING version`,
      [JSON.stringify(document)],
    );
    return row.version;
  }

  /** Saves a policy through the API, which also queues the re-verification walk. */
  async function putPolicy(document: TrustPolicy): Promise<number> {
    const response = await fetch(`${api.url}/v1/trust-policy`, {
      method: 'PUT',
      headers: { Authorization: `Bearer ${securityKey}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ policy: document, comment: 'rotate to the second key' }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { version: number }).version;
  }

  /** Runs the built CLI without blocking the API that serves it from this process. */
  function cli(...args: string[]): Promise<{ exitCode: number; stdout: string }> {
    return new Promise((resolve) => {
      execFile('node', [CLI, ...args], { timeout: 30_000 }, (error, stdout) => {
        let exitCode = 0;
        if (error) exitCode = typeof error.code === 'number' ? error.code : -1;
        resolve({ exitCode, stdout });
      });
    });
  }

  async function reverify(version: number): Promise<void> {
    const queue = worker.app.get<Queue>(getQueueToken(QueueName.Signatures));
    await queue.add(JobName.ReverifyPolicy, { policyVersion: version });
  }

  async function waitForVerdict(
    name: string,
    repository: string,
    status: string,
    version: number,
  ): Promise<VerdictRow> {
    return eventually(
      async () => {
        const [row]: VerdictRow[] = await dataSource.query(
          `SELECT status, signers, reasons, policy_version FROM signature_verdicts
            WHERE digest = $1 AND registry = 'local' AND repository = $2`,
          [digests[name], repository],
        );
        return row?.status === status && row.policy_version === version ? row : undefined;
      },
      `${name} in ${repository} to be ${status} under policy version ${version}`,
      120_000,
      250,
    );
  }

  async function build(name: string, content: string): Promise<BuiltImage> {
    return buildImage({ workDir, name, files: { '/etc/content': `${content}\n` } });
  }

  /** Pushes a cosign `.sig` manifest for `digest` whose payload names `namedDigest`. */
  async function pushCosignSignature(
    repository: string,
    digest: string,
    key: CosignKey,
    namedDigest = digest,
  ): Promise<void> {
    const payload = cosignPayload(namedDigest, `${registry.host}/${repository}`);
    const manifest = cosignSignatureManifest([
      { payload, signatureBase64: signPayload(key, payload) },
    ]);
    await pushArtifact(registry.url, repository, cosignTag(digest), manifest);
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'provenance-sig-e2e-'));
    lookasideDir = await mkdtemp(join(tmpdir(), 'provenance-lookaside-'));
    const apiPort = await freePort();
    registry = await startRegistry({
      notifyUrl: `http://127.0.0.1:${apiPort}/v1/webhooks/distribution/local`,
      token,
    });
    const base = buildTestConfig('e2esig', [
      { name: 'local', url: registry.url, hosts: [registry.host], webhookToken: token },
    ]);
    config = {
      ...base,
      registries: base.registries.map((entry) => ({
        ...entry,
        lookaside: pathToFileURL(lookasideDir).href,
      })),
    };
    await migrateTestSchema(config);
    dataSource = await openDataSource({
      url: config.databaseUrl,
      schema: config.databaseSchema,
      poolSize: 2,
    });
    api = await startApi(config, apiPort);
    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    securityKey = await createTestApiKey(config, 'security');
    gpgSigner = createGpgSigner(workDir, 'e2e-signer');
  }, 120_000);

  afterAll(async () => {
    for (const name of Object.values(QueueName)) {
      await worker?.app.get<Queue>(getQueueToken(name)).obliterate({ force: true });
    }
    await worker?.close();
    await api?.close();
    await dataSource?.destroy();
    await registry?.stop();
    if (config) await dropTestSchema(config);
    if (workDir) await rm(workDir, { recursive: true, force: true });
    if (lookasideDir) await rm(lookasideDir, { recursive: true, force: true });
  });

  it('judges pushed cosign signatures', async () => {
    const version = await savePolicy(policy(firstKey));
    for (const name of ['signed', 'unsigned', 'tampered', 'other-key']) {
      digests[name] = await pushImage(await build(name, name), registry.host, 'sig/app', name);
    }
    await pushCosignSignature('sig/app', digests.signed as string, firstKey);
    await pushCosignSignature(
      'sig/app',
      digests.tampered as string,
      firstKey,
      digests.signed as string,
    );
    await pushCosignSignature('sig/app', digests['other-key'] as string, secondKey);

    const verified = await waitForVerdict('signed', 'sig/app', 'verified', version);
    expect(verified.signers).toEqual([
      { keyFingerprint: firstKey.fingerprint, identity: 'release key' },
    ]);
    await waitForVerdict('unsigned', 'sig/app', 'unsigned', version);
    const invalid = await waitForVerdict('tampered', 'sig/app', 'invalid', version);
    expect(invalid.reasons).toContainEqual(
      expect.objectContaining({ code: 'digest-mismatch', format: 'cosign', result: 'invalid' }),
    );
    const untrusted = await waitForVerdict('other-key', 'sig/app', 'untrusted', version);
    expect(untrusted.reasons).toContainEqual(
      expect.objectContaining({ code: 'no-trusted-key', result: 'untrusted' }),
    );

    const response = await getJson(
      `${api.url}/v1/images/${digests.signed}/signatures`,
      securityKey,
    );
    expect(response.status).toBe(200);
    expect(response.body.verdicts).toEqual([
      expect.objectContaining({
        repository: 'sig/app',
        status: 'verified',
        policyVersion: version,
      }),
    ]);
    expect(response.body.signatures).toEqual([
      expect.objectContaining({
        format: 'cosign',
        source: `tag:${cosignTag(digests.signed as string)} layer 0`,
        result: 'valid',
        signedDigest: digests.signed,
        dockerReference: `${registry.host}/sig/app`,
      }),
    ]);
    const tampered = await getJson(
      `${api.url}/v1/images/${digests.tampered}/signatures`,
      securityKey,
    );
    expect(tampered.body.verdicts[0].status).toBe('invalid');
    expect(tampered.body.signatures[0]).toMatchObject({
      result: 'invalid',
      reasonCode: 'digest-mismatch',
      signedDigest: digests.signed,
    });
  }, 300_000);

  it('gives the four verdicts to the CLI', async () => {
    const ciKey = await createTestApiKey(config, 'ci');
    const check = (name: string) =>
      cli(
        'check',
        `${registry.host}/sig/app:${name}`,
        '--require-signed',
        '--server',
        api.url,
        '--api-key',
        ciKey,
      );

    const signed = await check('signed');
    expect({ exitCode: signed.exitCode, stdout: signed.stdout }).toEqual({
      exitCode: 0,
      stdout: expect.stringContaining('verified'),
    });
    for (const name of ['unsigned', 'tampered', 'other-key']) {
      const result = await check(name);
      expect({ name, exitCode: result.exitCode }).toEqual({ name, exitCode: 1 });
    }

    // Offline, as an auditor would check an exported image.
    const files = join(workDir, 'offline');
    await mkdir(files, { recursive: true });
    const manifest = await fetch(`${registry.url}/v2/sig/app/manifests/${digests.signed}`, {
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    await writeFile(join(files, 'manifest.json'), Buffer.from(await manifest.arrayBuffer()));
    const payload = cosignPayload(digests.signed as string, `${registry.host}/sig/app`);
    await writeFile(join(files, 'payload.json'), payload);
    await writeFile(join(files, 'signature.b64'), signPayload(firstKey, payload));
    await writeFile(join(files, 'first.pem'), firstKey.publicKeyPem);
    await writeFile(join(files, 'second.pem'), secondKey.publicKeyPem);
    const verify = (key: string) =>
      cli(
        'verify',
        '--manifest',
        join(files, 'manifest.json'),
        '--signature',
        join(files, 'signature.b64'),
        '--payload',
        join(files, 'payload.json'),
        '--reference',
        // cosign signs the repository without a tag, so the reference names only the repository.
        `${registry.host}/sig/app`,
        '--key',
        join(files, key),
      );

    const trusted = await verify('first.pem');
    expect({ exitCode: trusted.exitCode, stdout: trusted.stdout }).toEqual({
      exitCode: 0,
      stdout: expect.stringContaining('verified'),
    });
    expect((await verify('second.pem')).exitCode).toBe(1);
  }, 120_000);

  it('follows a new policy version', async () => {
    const version = await putPolicy(policy(secondKey));

    await waitForVerdict('other-key', 'sig/app', 'verified', version);
    await waitForVerdict('signed', 'sig/app', 'untrusted', version);
    await waitForVerdict('unsigned', 'sig/app', 'unsigned', version);
    // Under the second key the tampered signature is by an unknown key: untrusted, not invalid.
    await waitForVerdict('tampered', 'sig/app', 'untrusted', version);

    const history = await getJson(`${api.url}/v1/trust-policy/history`, securityKey);
    expect(history.body.items[0]).toMatchObject({
      version,
      source: 'api',
      comment: 'rotate to the second key',
      createdBy: { keyName: 'test security' },
    });
  }, 300_000);

  it('verifies a skopeo GPG signature from the lookaside store', async () => {
    const registriesDir = join(workDir, 'registries.d');
    await mkdir(registriesDir, { recursive: true });
    const store = pathToFileURL(lookasideDir).href;
    await writeFile(
      join(registriesDir, 'default.yaml'),
      stringify({
        docker: { [registry.host]: { lookaside: store, 'lookaside-staging': store } },
      }),
    );
    const image = await build('gpg-signed', 'gpg');
    const layout = `oci:${image.layoutDir}:${image.tag}`;
    await runCommand(
      'skopeo',
      [
        'copy',
        '--insecure-policy',
        '--registries.d',
        registriesDir,
        '--dest-tls-verify=false',
        '--sign-by',
        gpgSigner.fingerprint,
        layout,
        `docker://${registry.host}/sig/gpg:1`,
      ],
      { env: { ...process.env, GNUPGHOME: gpgSigner.home } },
    );
    const head = await fetch(`${registry.url}/v2/sig/gpg/manifests/1`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' },
    });
    digests.gpg = head.headers.get('docker-content-digest') as string;
    expect(digests.gpg).toMatch(/^sha256:[a-f0-9]{64}$/);

    // skopeo writes the lookaside signature after the manifest push that triggers ingest, so
    // the verdict is taken from the re-verification that the new policy version starts.
    const version = await savePolicy(policy(secondKey, gpgSigner));
    await reverify(version);

    const verdict = await waitForVerdict('gpg', 'sig/gpg', 'verified', version);
    expect(verdict.signers).toEqual([
      { keyFingerprint: gpgSigner.fingerprint, identity: 'gpg release' },
    ]);
    const [row] = await dataSource.query(
      `SELECT format, source, result, docker_reference FROM image_signatures WHERE digest = $1`,
      [digests.gpg],
    );
    expect(row).toEqual({
      format: 'gpg',
      source: 'lookaside:signature-1',
      result: 'valid',
      docker_reference: `${registry.host}/sig/gpg:1`,
    });
  }, 300_000);
});
