import {
  createServer,
  IncomingHttpHeaders,
  IncomingMessage,
  Server,
  ServerResponse,
} from 'node:http';
import { AddressInfo } from 'node:net';

/** A request as the test server received it. */
export interface RecordedRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
}

export type TestHandler = (
  request: IncomingMessage,
  response: ServerResponse,
  recorded: RecordedRequest,
) => void | Promise<void>;

/**
 * An HTTP server on 127.0.0.1 with a free port, for specs. It records every request and
 * passes it to the current handler. Without a handler it responds with 500.
 */
export class HttpTestServer {
  readonly requests: RecordedRequest[] = [];
  private handler: TestHandler | undefined;
  private readonly openResponses = new Set<ServerResponse>();

  private constructor(
    private readonly server: Server,
    readonly origin: string,
  ) {}

  static async start(): Promise<HttpTestServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const instance = new HttpTestServer(server, `http://127.0.0.1:${port}`);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => {
      void instance.dispatch(request, response);
    });
    return instance;
  }

  /** Replaces the handler and clears the requests recorded so far. */
  handle(handler: TestHandler): void {
    this.handler = handler;
    this.requests.length = 0;
  }

  /** Returns the recorded requests whose path equals `path`. */
  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((request) => request.path === path);
  }

  async close(): Promise<void> {
    for (const response of this.openResponses) {
      response.destroy();
    }
    this.server.closeAllConnections();
    await new Promise<void>((resolve, reject) =>
      this.server.close((error) => (error ? reject(error) : resolve())),
    );
  }

  private async dispatch(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', this.origin);
    const recorded: RecordedRequest = {
      method: request.method ?? '',
      url: request.url ?? '',
      path: url.pathname,
      query: url.searchParams,
      headers: request.headers,
    };
    this.requests.push(recorded);
    this.openResponses.add(response);
    response.on('close', () => this.openResponses.delete(response));

    try {
      if (this.handler === undefined) {
        response.writeHead(500).end('no handler');
        return;
      }
      await this.handler(request, response, recorded);
    } catch (error) {
      if (!response.headersSent) {
        response.writeHead(500).end(String(error));
      } else {
        response.destroy();
      }
    }
  }
}

/** Sends a JSON body with the given status and headers. */
export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(bytes.length),
    ...headers,
  });
  response.end(bytes);
}

/** Sends the distribution spec error body `{"errors":[{"code":...}]}`. */
export function sendRegistryError(
  response: ServerResponse,
  status: number,
  code: string,
  headers: Record<string, string> = {},
): void {
  sendJson(
    response,
    status,
    { errors: [{ code, message: code.toLowerCase(), detail: null }] },
    headers,
  );
}
