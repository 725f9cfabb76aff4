import { IncomingHttpHeaders, IncomingMessage, ServerResponse, createServer } from 'node:http';
import { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query string of the request. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body, or the raw text when the body is not valid JSON. */
  body: unknown;
  receivedAt: Date;
}

export interface WebhookRecorder {
  /** http://127.0.0.1:PORT/webhook; any path on the server is recorded. */
  url: string;
  /** POST requests in arrival order. */
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 that records every POST and responds 200.
 * Other methods get 405 and are not recorded.
 */
export function startWebhookRecorder(): Promise<WebhookRecorder> {
  const requests: RecordedRequest[] = [];

  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    if (request.method !== 'POST') {
      response.writeHead(405, { Allow: 'POST' }).end();
      return;
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      requests.push({
        method: request.method ?? 'POST',
        path: request.url ?? '/',
        headers: request.headers,
        body: parseJson(text),
        receivedAt: new Date(),
      });
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    });
  });

  return new Promise<WebhookRecorder>((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}/webhook`,
        requests,
        close: () =>
          new Promise<void>((resolveClose, rejectClose) => {
            // The registry keeps its connection alive, which would hold close() open.
            server.closeAllConnections();
            server.close((error) => (error === undefined ? resolveClose() : rejectClose(error)));
          }),
      });
    });
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
