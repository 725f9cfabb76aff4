import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { SignatureJobError } from './errors';
import { readLookasideSignatures } from './lookaside-reader';

const HEX = 'c'.repeat(64);
const DIGEST = `sha256:${HEX}`;
const LIMITS = { maxSignatures: 5, maxSignatureBytes: 64, timeoutMs: 5000 };

describe('readLookasideSignatures from a file: store', () => {
  let root: string;
  let base: string;
  let directory: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'lookaside-spec-'));
    base = pathToFileURL(join(root, 'store')).href;
    directory = join(root, 'store', 'team', 'app@sha256=' + HEX);
    mkdirSync(directory, { recursive: true });
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('reads signatures up to the first gap', async () => {
    writeFileSync(join(directory, 'signature-1'), 'one');
    writeFileSync(join(directory, 'signature-2'), 'two');
    writeFileSync(join(directory, 'signature-4'), 'after the gap');

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures.map((entry) => [entry.index, entry.bytes.toString()])).toEqual([
      [1, 'one'],
      [2, 'two'],
    ]);
    expect(result.problems).toEqual([]);
  });

  it('returns nothing for a missing directory', async () => {
    const result = await readLookasideSignatures(base, 'team/other', DIGEST, LIMITS);
    expect(result).toEqual({ signatures: [], problems: [] });
  });

  it('skips a signature over the size limit', async () => {
    writeFileSync(join(directory, 'signature-1'), 'x'.repeat(65));
    writeFileSync(join(directory, 'signature-2'), 'small');

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures.map((entry) => entry.index)).toEqual([2]);
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'signature-too-large', source: 'lookaside:signature-1' }),
    ]);
  });

  it('stops at the signature count limit', async () => {
    for (let index = 1; index <= 6; index += 1) {
      writeFileSync(join(directory, `signature-${index}`), `sig ${index}`);
    }

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures).toHaveLength(5);
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'too-many-signatures', source: 'lookaside' }),
    ]);
  });

  it('reports an unreadable entry and stops', async () => {
    mkdirSync(join(directory, 'signature-1'));

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures).toEqual([]);
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'lookaside-unreadable', source: 'lookaside:signature-1' }),
    ]);
  });
});

describe('readLookasideSignatures from an http: store', () => {
  type Handler = (request: IncomingMessage, response: ServerResponse) => void;
  let server: Server;
  let base: string;
  let handler: Handler;
  const requested: string[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      requested.push(request.url ?? '');
      handler(request, response);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/sigs`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    requested.length = 0;
  });

  it('reads signatures until a 404', async () => {
    handler = (request, response) => {
      if (request.url?.endsWith('/signature-1')) response.writeHead(200).end('first');
      else response.writeHead(404).end();
    };

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures.map((entry) => entry.bytes.toString())).toEqual(['first']);
    expect(requested).toEqual([
      `/sigs/team/app@sha256=${HEX}/signature-1`,
      `/sigs/team/app@sha256=${HEX}/signature-2`,
    ]);
  });

  it('throws a retryable error on 503', async () => {
    handler = (_request, response) => response.writeHead(503).end();

    const failure = readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    await expect(failure).rejects.toBeInstanceOf(SignatureJobError);
    await expect(failure).rejects.toMatchObject({
      code: 'lookaside-unavailable',
      retryable: true,
    });
  });

  it('does not follow a redirect', async () => {
    handler = (_request, response) =>
      response.writeHead(302, { Location: 'http://127.0.0.2:1/elsewhere' }).end();

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures).toEqual([]);
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'lookaside-redirect-rejected' }),
    ]);
    expect(requested).toHaveLength(1);
  });

  it('skips a body over the limit without Content-Length', async () => {
    handler = (request, response) => {
      if (!request.url?.endsWith('/signature-1')) {
        response.writeHead(404).end();
        return;
      }
      // Chunked transfer encoding: the size is known only while reading.
      response.writeHead(200);
      response.write('x'.repeat(40));
      response.end('y'.repeat(40));
    };

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.signatures).toEqual([]);
    expect(result.problems).toEqual([
      expect.objectContaining({ code: 'signature-too-large', source: 'lookaside:signature-1' }),
    ]);
  });

  it('skips a body whose Content-Length is over the limit', async () => {
    handler = (request, response) => {
      if (request.url?.endsWith('/signature-1')) {
        response.writeHead(200, { 'Content-Length': '100' }).end('z'.repeat(100));
      } else {
        response.writeHead(200).end('fits');
      }
    };

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, {
      ...LIMITS,
      maxSignatures: 2,
    });

    expect(result.signatures.map((entry) => entry.index)).toEqual([2]);
    expect(result.problems.map((problem) => problem.code)).toEqual([
      'signature-too-large',
      'too-many-signatures',
    ]);
  });

  it('reports a 403 and stops', async () => {
    handler = (_request, response) => response.writeHead(403).end();

    const result = await readLookasideSignatures(base, 'team/app', DIGEST, LIMITS);

    expect(result.problems).toEqual([
      expect.objectContaining({
        code: 'lookaside-request-failed',
        source: 'lookaside:signature-1',
      }),
    ]);
    expect(requested).toHaveLength(1);
  });
});
