import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import {
  BuiltImage,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  RunningRegistry,
  WebhookRecorder,
  buildImage,
  pushImage,
  pushIndex,
  readLayoutImage,
  startRegistry,
  startWebhookRecorder,
  waitFor,
} from '../support';

const TOKEN = 'harness-test-token';
const EVENTS_CONTENT_TYPE = 'application/vnd.docker.distribution.events.v1+json';

interface RegistryEvent {
  id: string;
  action: string;
  target: {
    mediaType?: string;
    digest?: string;
    repository: string;
    tag?: string;
    references?: Array<{ mediaType: string; digest: string }>;
  };
}

/** Returns all events from the recorded deliveries, in delivery order. */
function recordedEvents(recorder: WebhookRecorder): RegistryEvent[] {
  return recorder.requests.flatMap((request) => {
    const body = request.body as { events?: RegistryEvent[] } | null;
    return Array.isArray(body?.events) ? body.events : [];
  });
}

/** Waits for the push event of the manifest `digest` in `repository`. */
function waitForManifestPush(
  recorder: WebhookRecorder,
  repository: string,
  digest: string,
): Promise<RegistryEvent> {
  return waitFor(
    () =>
      recordedEvents(recorder).find(
        (event) =>
          event.action === 'push' &&
          event.target.repository === repository &&
          event.target.digest === digest &&
          event.target.mediaType !== 'application/octet-stream',
      ),
    { description: `a push event for ${repository}@${digest}`, timeoutMs: 15_000 },
  );
}

async function fetchManifest(
  registry: RunningRegistry,
  repository: string,
  reference: string,
): Promise<{ contentType: string | null; bytes: Buffer }> {
  const response = await fetch(`${registry.url}/v2/${repository}/manifests/${reference}`, {
    headers: { Accept: [OCI_MANIFEST_MEDIA_TYPE, OCI_INDEX_MEDIA_TYPE].join(', ') },
  });
  expect(response.status).toBe(200);
  return {
    contentType: response.headers.get('content-type'),
    bytes: Buffer.from(await response.arrayBuffer()),
  };
}

function sha256Digest(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

describe('registry test harness', () => {
  let workDir: string;
  let recorder: WebhookRecorder;
  let registry: RunningRegistry;
  let base: BuiltImage;
  let app: BuiltImage;
  let baseDigest: string;
  let appDigest: string;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), 'harness-e2e-'));
    recorder = await startWebhookRecorder();
    registry = await startRegistry({ notifyUrl: recorder.url, token: TOKEN });

    base = await buildImage({
      workDir,
      name: 'base',
      files: { '/etc/os-release': 'ID=harness\n', '/usr/share/base.txt': 'base layer\n' },
      labels: { 'org.opencontainers.image.title': 'harness base' },
      architecture: 'amd64',
      os: 'linux',
    });
    baseDigest = await pushImage(base, registry.host, 'library/base', '1');

    app = await buildImage({
      workDir,
      name: 'app',
      base,
      files: { '/app/main.txt': 'application\n' },
      annotations: {
        'org.opencontainers.image.base.name': `${registry.host}/library/base:1`,
        'org.opencontainers.image.base.digest': baseDigest,
      },
      user: '1000',
    });
    appDigest = await pushImage(app, registry.host, 'team/app', '1');
  });

  afterAll(async () => {
    await registry?.stop();
    await recorder?.close();
    if (workDir !== undefined) {
      await rm(workDir, { recursive: true, force: true });
    }
  });

  it('reports the layout manifest digest after push', async () => {
    expect(baseDigest).toBe((await readLayoutImage(base)).descriptor.digest);
    expect(appDigest).toBe((await readLayoutImage(app)).descriptor.digest);
  });

  it('delivers manifest push events with tag and digest', async () => {
    const baseEvent = await waitForManifestPush(recorder, 'library/base', baseDigest);
    const appEvent = await waitForManifestPush(recorder, 'team/app', appDigest);

    expect(baseEvent.target.tag).toBe('1');
    expect(baseEvent.target.mediaType).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(appEvent.target.tag).toBe('1');
    expect(appEvent.target.mediaType).toBe(OCI_MANIFEST_MEDIA_TYPE);
  });

  it('lists config and layers as event references', async () => {
    const appEvent = await waitForManifestPush(recorder, 'team/app', appDigest);
    const { manifest } = await readLayoutImage(app);

    const referenced = (appEvent.target.references ?? []).map((reference) => reference.digest);
    expect(referenced).toEqual([
      manifest.config.digest,
      ...manifest.layers.map((layer) => layer.digest),
    ]);
  });

  it('sends the bearer token and event content type', async () => {
    await waitForManifestPush(recorder, 'team/app', appDigest);

    expect(recorder.requests.length).toBeGreaterThan(0);
    for (const request of recorder.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${TOKEN}`);
      expect(request.headers['content-type']).toBe(EVENTS_CONTENT_TYPE);
    }
  });

  it('child diff_ids start with the base diff_ids', async () => {
    const baseConfig = (await readLayoutImage(base)).config;
    const appConfig = (await readLayoutImage(app)).config;

    expect(baseConfig.rootfs.diff_ids).toHaveLength(1);
    expect(appConfig.rootfs.diff_ids).toHaveLength(2);
    expect(appConfig.rootfs.diff_ids.slice(0, 1)).toEqual(baseConfig.rootfs.diff_ids);
  });

  it('child config and manifest carry the build options', async () => {
    const { config } = await readLayoutImage(app);
    const pushed = await fetchManifest(registry, 'team/app', appDigest);
    const manifest = JSON.parse(pushed.bytes.toString('utf8')) as {
      annotations?: Record<string, string>;
    };

    expect(sha256Digest(pushed.bytes)).toBe(appDigest);
    expect(pushed.contentType).toBe(OCI_MANIFEST_MEDIA_TYPE);
    expect(manifest.annotations?.['org.opencontainers.image.base.digest']).toBe(baseDigest);
    expect(manifest.annotations?.['org.opencontainers.image.base.name']).toBe(
      `${registry.host}/library/base:1`,
    );
    expect(config.config?.User).toBe('1000');
    expect(config.config?.Labels?.['org.opencontainers.image.title']).toBe('harness base');
    expect(config.architecture).toBe('amd64');
    expect(config.os).toBe('linux');
  });

  it('derived image drops base annotations', async () => {
    const derived = await buildImage({
      workDir,
      name: 'derived-from-app',
      base: app,
      files: { '/app/extra.txt': 'extra\n' },
    });

    const { manifest } = await readLayoutImage(derived);
    expect(manifest.annotations ?? {}).toEqual({});
  });

  it('push by digest sends an event without tag', async () => {
    const untagged = await buildImage({
      workDir,
      name: 'untagged',
      files: { '/untagged.txt': 'no tag\n' },
    });

    const digest = await pushImage(untagged, registry.host, 'team/untagged', 'unused', {
      pushByDigest: true,
    });
    const event = await waitForManifestPush(recorder, 'team/untagged', digest);

    expect(event.target.tag).toBeUndefined();
    const tags = await fetch(`${registry.url}/v2/team/untagged/tags/list`);
    expect(tags.status).toBe(404);
  });

  it('index push sends an OCI index event', async () => {
    const amd64 = await buildImage({
      workDir,
      name: 'multi-amd64',
      files: { '/arch.txt': 'amd64\n' },
      architecture: 'amd64',
      os: 'linux',
    });
    const arm64 = await buildImage({
      workDir,
      name: 'multi-arm64',
      files: { '/arch.txt': 'arm64\n' },
      architecture: 'arm64',
      os: 'linux',
    });

    const indexDigest = await pushIndex([amd64, arm64], workDir, registry.host, 'team/multi', '2');
    const event = await waitForManifestPush(recorder, 'team/multi', indexDigest);

    expect(event.target.mediaType).toBe(OCI_INDEX_MEDIA_TYPE);
    expect(event.target.tag).toBe('2');
    const pushed = await fetchManifest(registry, 'team/multi', '2');
    const index = JSON.parse(pushed.bytes.toString('utf8')) as {
      manifests: Array<{ digest: string; platform?: { architecture: string; os: string } }>;
    };
    expect(sha256Digest(pushed.bytes)).toBe(indexDigest);
    expect(index.manifests.map((entry) => entry.platform)).toEqual([
      { architecture: 'amd64', os: 'linux' },
      { architecture: 'arm64', os: 'linux' },
    ]);
    expect(index.manifests.map((entry) => entry.digest)).toEqual([
      (await readLayoutImage(amd64)).descriptor.digest,
      (await readLayoutImage(arm64)).descriptor.digest,
    ]);
  });
});
