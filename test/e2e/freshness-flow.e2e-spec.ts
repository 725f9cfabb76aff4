import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, IncomingMessage } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pino from 'pino';

import { RunningWorker, startWorker } from '../../apps/worker/src/bootstrap';
import { createTestApiKey, getJson, RunningApi, startApi } from '../support/api-client';
import { envelope, manifestPushEvent, V1_EVENTS } from '../support/distribution-events';
import { buildImage, BuiltImage, pushImage, pushIndex } from '../support/images';
import { freePort } from '../support/processes';
import { RunningRegistry, startRegistry } from '../support/registry';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
} from '../support/test-config';
import { eventually } from '../support/wait';

/** A server standing in for a host that a webhook names: it records every request of any method. */
async function startTrap(): Promise<{
  host: string;
  requests: IncomingMessage[];
  close(): Promise<void>;
}> {
  const requests: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    requests.push(request);
    response.writeHead(500).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const CLI = join(__dirname, '../../dist/apps/cli/src/main.js');

describe('registry push to stale verdict', () => {
  const token = randomToken();
  let registry: RunningRegistry;
  let api: RunningApi;
  let worker: RunningWorker;
  let apiKey: string;
  let workDir: string;
  let config: ReturnType<typeof buildTestConfig>;
  const digests: Record<string, string> = {};
  const images: Record<string, BuiltImage> = {};

  async function freshness(reference: string) {
    return getJson(
      `${api.url}/v1/freshness?image=${encodeURIComponent(`${registry.host}/${reference}`)}`,
      apiKey,
    );
  }

  /** Waits until the tag resolves to `digest` and its verdict has the expected status. */
  async function waitForVerdict(reference: string, digest: string, status: string) {
    return eventually(
      async () => {
        const response = await freshness(reference);
        return response.status === 200 &&
          response.body.digest === digest &&
          response.body.status === status
          ? response.body
          : undefined;
      },
      `${reference} to be ${status} at ${digest}`,
      90_000,
      200,
    );
  }

  async function push(
    name: string,
    repository: string,
    tag: string,
    image: BuiltImage,
  ): Promise<string> {
    images[name] = image;
    digests[name] = await pushImage(image, registry.host, repository, tag);
    return digests[name];
  }

  /** Runs the CLI as a child process; the API serves it from this process, so this must not block. */
  function cli(...args: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile('node', [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
        let exitCode = 0;
        if (error) exitCode = typeof error.code === 'number' ? error.code : -1;
        resolve({ exitCode, stdout, stderr });
      });
    });
  }

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'provenance-e2e-'));
    const apiPort = await freePort();
    registry = await startRegistry({
      notifyUrl: `http://127.0.0.1:${apiPort}/v1/webhooks/distribution/local`,
      token,
    });
    config = buildTestConfig('e2e', [
      { name: 'local', url: registry.url, hosts: [registry.host], webhookToken: token },
    ]);
    await migrateTestSchema(config);
    api = await startApi(config, apiPort);
    worker = await startWorker(config, pino({ level: 'silent' }), { schedule: false });
    apiKey = await createTestApiKey(config, 'ci');
  }, 120_000);

  afterAll(async () => {
    await worker?.close();
    await api?.close();
    await registry?.stop();
    if (config) await dropTestSchema(config);
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  it('marks descendants stale after a base move', async () => {
    const base = await buildImage({
      workDir,
      name: 'base-v1',
      files: { '/etc/os-release': 'ID=demo\nVERSION=1\n' },
    });
    const runtime = await buildImage({
      workDir,
      name: 'runtime-v1',
      base,
      files: { '/usr/bin/runtime': 'runtime 1\n' },
    });
    const app = await buildImage({
      workDir,
      name: 'app-v1',
      base: runtime,
      files: { '/app/main': 'app 1\n' },
    });
    await push('base1', 'demo/base', '1', base);
    await push('runtime1', 'demo/runtime', '1', runtime);
    await push('app1', 'demo/app', '1', app);

    const fresh = await waitForVerdict('demo/app:1', digests.app1, 'fresh');
    expect(fresh.baseChain.map((entry: { digest: string }) => entry.digest)).toEqual([
      digests.runtime1,
      digests.base1,
    ]);
    const baseVerdict = await waitForVerdict('demo/base:1', digests.base1, 'fresh');
    expect(baseVerdict.reasons[0].code).toBe('no-base');

    const base2 = await buildImage({
      workDir,
      name: 'base-v2',
      files: { '/etc/os-release': 'ID=demo\nVERSION=2\n' },
    });
    await push('base2', 'demo/base', '1', base2);

    const staleRuntime = await waitForVerdict('demo/runtime:1', digests.runtime1, 'stale');
    expect(staleRuntime.reasons).toContainEqual(
      expect.objectContaining({
        code: 'base-tag-moved',
        tag: 'local/demo/base:1',
        builtOn: digests.base1,
        current: digests.base2,
      }),
    );
    const staleApp = await waitForVerdict('demo/app:1', digests.app1, 'stale');
    expect(staleApp.reasons).toContainEqual(
      expect.objectContaining({
        code: 'ancestor-stale',
        path: [digests.runtime1],
        tag: 'local/demo/base:1',
      }),
    );

    const runtime2 = await buildImage({
      workDir,
      name: 'runtime-v2',
      base: base2,
      files: { '/usr/bin/runtime': 'runtime 1\n' },
    });
    await push('runtime2', 'demo/runtime', '1', runtime2);

    await waitForVerdict('demo/runtime:1', digests.runtime2, 'fresh');
    const stillStale = await eventually(
      async () => {
        const body = (await freshness('demo/app:1')).body;
        return body.reasons.some((reason: { code: string }) => reason.code === 'base-tag-moved')
          ? body
          : undefined;
      },
      'app:1 to see runtime:1 move',
      60_000,
    );
    expect(stillStale.status).toBe('stale');
    expect(stillStale.reasons).toContainEqual(
      expect.objectContaining({
        code: 'base-tag-moved',
        tag: 'local/demo/runtime:1',
        builtOn: digests.runtime1,
        current: digests.runtime2,
      }),
    );

    const lineage = await getJson(`${api.url}/v1/images/${digests.base1}/lineage`, apiKey);
    expect(lineage.body.descendants.items.map((item: { digest: string }) => item.digest)).toEqual([
      digests.runtime1,
      digests.app1,
    ]);
    const detail = await getJson(`${api.url}/v1/images/${digests.app1}`, apiKey);
    expect(detail.body).toMatchObject({ kind: 'image', layers: 3, platform: 'linux/amd64' });
    expect(detail.body.baseEdges[0]).toMatchObject({
      baseDigest: digests.runtime1,
      primary: true,
      trackedTags: [{ registry: 'local', repository: 'demo/runtime', tag: '1' }],
    });
    const staleList = await getJson(
      `${api.url}/v1/images?status=stale&repository=demo/app`,
      apiKey,
    );
    expect(staleList.body.items.map((item: { digest: string }) => item.digest)).toEqual([
      digests.app1,
    ]);
  }, 300_000);

  it('judges a multi-arch index by its platforms', async () => {
    const baseAmd = await buildImage({
      workDir,
      name: 'mbase-amd64',
      files: { '/etc/arch': 'amd64 v1\n' },
      architecture: 'amd64',
    });
    const baseArm = await buildImage({
      workDir,
      name: 'mbase-arm64',
      files: { '/etc/arch': 'arm64 v1\n' },
      architecture: 'arm64',
    });
    const appAmd = await buildImage({
      workDir,
      name: 'mapp-amd64',
      base: baseAmd,
      files: { '/app': 'app\n' },
    });
    const appArm = await buildImage({
      workDir,
      name: 'mapp-arm64',
      base: baseArm,
      files: { '/app': 'app\n' },
    });
    const baseIndex = await pushIndex(
      [baseAmd, baseArm],
      workDir,
      registry.host,
      'multi/base',
      '1',
    );
    const appIndex = await pushIndex([appAmd, appArm], workDir, registry.host, 'multi/app', '1');

    const fresh = await waitForVerdict('multi/app:1', appIndex, 'fresh');
    expect(fresh.kind).toBe('index');
    const detail = await getJson(`${api.url}/v1/images/${appIndex}`, apiKey);
    expect(detail.body.platforms.map((entry: { platform: string }) => entry.platform)).toEqual([
      'linux/amd64',
      'linux/arm64',
    ]);

    const baseArm2 = await buildImage({
      workDir,
      name: 'mbase-arm64-v2',
      files: { '/etc/arch': 'arm64 v2\n' },
      architecture: 'arm64',
    });
    const baseIndex2 = await pushIndex(
      [baseAmd, baseArm2],
      workDir,
      registry.host,
      'multi/base',
      '1',
    );
    expect(baseIndex2).not.toBe(baseIndex);

    const stale = await waitForVerdict('multi/app:1', appIndex, 'stale');
    expect(stale.reasons).toEqual([
      expect.objectContaining({ code: 'platform-stale', platform: 'linux/arm64' }),
    ]);
  }, 300_000);

  it('reports a newer base release as advisory', async () => {
    const base = await buildImage({
      workDir,
      name: 'ubi-8.4',
      files: { '/etc/redhat-release': '8.4\n' },
      labels: { name: 'ubi8', version: '8.4', release: '205' },
    });
    const app = await buildImage({ workDir, name: 'on-ubi', base, files: { '/app': 'app\n' } });
    await push('ubi84', 'rel/ubi', '8.4', base);
    const appDigest = await push('onUbi', 'rel/app', '1', app);
    const fresh = await waitForVerdict('rel/app:1', appDigest, 'fresh');
    expect(fresh.reasons).toEqual([]);

    const newer = await buildImage({
      workDir,
      name: 'ubi-8.5',
      files: { '/etc/redhat-release': '8.5\n' },
      labels: { name: 'ubi8', version: '8.5', release: '1' },
    });
    const newerDigest = await push('ubi85', 'rel/ubi', '8.5', newer);

    const advised = await eventually(
      async () => {
        const body = (await freshness('rel/app:1')).body;
        return body.reasons.length > 0 ? body : undefined;
      },
      'rel/app:1 to get the newer-base-release advisory',
      60_000,
    );
    expect(advised.status).toBe('fresh');
    expect(advised.reasons).toEqual([
      expect.objectContaining({
        code: 'newer-base-release',
        effect: 'advisory',
        tag: 'local/rel/ubi:8.5',
        current: newerDigest,
      }),
    ]);
  }, 120_000);

  it('maps verdicts to CLI exit codes', async () => {
    const orphanBase = await buildImage({ workDir, name: 'orphan-base', files: { '/a': 'a\n' } });
    const orphanMid = await buildImage({
      workDir,
      name: 'orphan-mid',
      base: orphanBase,
      files: { '/b': 'b\n' },
    });
    const orphan = await buildImage({
      workDir,
      name: 'orphan',
      base: orphanMid,
      files: { '/c': 'c\n' },
    });
    const orphanDigest = await push('orphan', 'demo/orphan', '1', orphan);
    await waitForVerdict('demo/orphan:1', orphanDigest, 'unknown');

    const server = ['--server', api.url, '--api-key', apiKey];
    const fresh = await cli('check', `${registry.host}/demo/runtime:1`, ...server);
    const stale = await cli('check', `${registry.host}/demo/app:1`, ...server);
    const unknown = await cli('check', `${registry.host}/demo/orphan:1`, ...server);
    const missing = await cli('check', `${registry.host}/demo/nothing:1`, ...server);
    const badKey = await cli(
      'check',
      `${registry.host}/demo/app:1`,
      '--server',
      api.url,
      '--api-key',
      'nope',
    );
    const json = await cli('check', `${registry.host}/demo/app:1`, '--json', ...server);

    expect(fresh.exitCode).toBe(0);
    expect(stale.exitCode).toBe(1);
    expect(stale.stdout).toContain('base-tag-moved');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stdout).toContain('no-base-found');
    expect(missing.exitCode).toBe(3);
    expect(badKey.exitCode).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'stale', digest: digests.app1 });
  }, 120_000);

  it('never fetches from a host a webhook names', async () => {
    const trap = await startTrap();
    try {
      const otherHost = trap.host;
      const digest = `sha256:${'b'.repeat(64)}`;
      const event = manifestPushEvent({
        repository: 'demo/app',
        digest,
        tag: 'evil',
        host: otherHost,
      });
      const response = await fetch(`${api.url}/v1/webhooks/distribution/local`, {
        method: 'POST',
        headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}` },
        body: envelope(event),
      });
      const receipt = (await response.json()) as { accepted: number; deliveries: string[] };
      expect(receipt.accepted).toBe(1);

      const securityKey = await createTestApiKey(config, 'security');
      const delivery = await eventually(
        async () => {
          const body = (
            await getJson(`${api.url}/v1/deliveries/${receipt.deliveries[0]}`, securityKey)
          ).body;
          return body.status === 'failed' ? body : undefined;
        },
        'the delivery to fail',
        60_000,
      );
      expect(delivery.error.code).toBe('not-found');
      expect(trap.requests).toHaveLength(0);
    } finally {
      await trap.close();
    }
  }, 120_000);
});
