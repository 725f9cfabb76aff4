import { createServer, Server, Socket } from 'node:net';

import { createTestApiKey, RunningApi, startApi } from '../support/api-client';
import { envelope, manifestPushEvent, V1_EVENTS } from '../support/distribution-events';
import {
  buildTestConfig,
  dropTestSchema,
  migrateTestSchema,
  randomToken,
  TEST_DATABASE_URL,
} from '../support/test-config';

/** A TCP relay to PostgreSQL that the test can cut, to make the database unreachable. */
class DatabaseRelay {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  static async start(target: { host: string; port: number }): Promise<DatabaseRelay> {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
    const relay = new DatabaseRelay(port, target);
    await relay.open();
    return relay;
  }

  async open(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
  }

  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server?.close(resolve));
  }
}

describe('API with PostgreSQL down', () => {
  const target = new URL(TEST_DATABASE_URL);
  const token = randomToken();
  let relay: DatabaseRelay;
  let config: ReturnType<typeof buildTestConfig>;
  let api: RunningApi;
  let apiKey: string;

  beforeAll(async () => {
    relay = await DatabaseRelay.start({ host: target.hostname, port: Number(target.port || 5432) });
    const relayed = new URL(TEST_DATABASE_URL);
    relayed.port = String(relay.port);
    config = buildTestConfig(
      'dbdown',
      [
        {
          name: 'local',
          url: 'http://127.0.0.1:9',
          hosts: ['127.0.0.1:5000'],
          webhookToken: token,
        },
      ],
      { DATABASE_URL: relayed.toString() },
    );
    await migrateTestSchema(config);
    apiKey = await createTestApiKey(config, 'ci');
    api = await startApi(config);
  });

  afterAll(async () => {
    await api.close();
    await relay.cut();
    await dropTestSchema({ ...config, databaseUrl: TEST_DATABASE_URL });
  });

  it('answers 503, then recovers', async () => {
    const before = await fetch(`${api.url}/v1/images`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    expect(before.status).toBe(200);

    await relay.cut();

    const query = await fetch(`${api.url}/v1/images`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    expect(query.status).toBe(503);
    expect(((await query.json()) as { code: string }).code).toBe('service-unavailable');
    const webhook = await fetch(`${api.url}/v1/webhooks/distribution/local`, {
      method: 'POST',
      headers: { 'Content-Type': V1_EVENTS, Authorization: `Bearer ${token}` },
      body: envelope(
        manifestPushEvent({ repository: 'team/app', digest: `sha256:${'d'.repeat(64)}` }),
      ),
    });
    // 503 makes the registry deliver the event again later, so nothing is lost.
    expect(webhook.status).toBe(503);
    const ready = await fetch(`${api.url}/readyz`);
    expect(ready.status).toBe(503);
    const live = await fetch(`${api.url}/healthz`);
    expect(live.status).toBe(200);

    await relay.open();

    const after = await fetch(`${api.url}/v1/images`, {
      headers: { Authorization: `Bearer ${apiKey}` },
    });
    expect(after.status).toBe(200);
  });
});
