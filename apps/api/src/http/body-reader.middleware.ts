import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { buildProblem, sendProblem } from './problem';

/** Request bodies larger than this are rejected with 413 before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface RequestWithRawBody extends Request {
  rawBody?: Buffer;
}

/**
 * Reads the request body into `rawBody`, bounded by MAX_BODY_BYTES, and parses JSON bodies for
 * the routes that take them. Webhooks parse their own body so that they can check media types.
 */
@Injectable()
export class BodyReaderMiddleware implements NestMiddleware {
  async use(request: RequestWithRawBody, response: Response, next: NextFunction): Promise<void> {
    if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'DELETE') {
      next();
      return;
    }
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > MAX_BODY_BYTES) {
      request.resume();
      sendProblem(response, { ...tooLarge(), instance: request.originalUrl });
      return;
    }
    let body: Buffer;
    try {
      body = await readBounded(request, MAX_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendProblem(response, { ...tooLarge(), instance: request.originalUrl });
        return;
      }
      next(error);
      return;
    }
    request.rawBody = body;
    if (!request.originalUrl.startsWith('/v1/webhooks/') && isJson(request) && body.length > 0) {
      try {
        request.body = JSON.parse(body.toString('utf8'));
      } catch {
        sendProblem(response, {
          ...buildProblem(400, 'invalid-json', 'The request body is not valid JSON.'),
          instance: request.originalUrl,
        });
        return;
      }
    }
    next();
  }
}

class BodyTooLargeError extends Error {}

function tooLarge() {
  return buildProblem(
    413,
    'payload-too-large',
    `The request body exceeds ${MAX_BODY_BYTES} bytes.`,
  );
}

function isJson(request: Request): boolean {
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || type.endsWith('+json');
}

function readBounded(request: Request, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let failed = false;
    request.on('data', (chunk: Buffer) => {
      if (failed) return;
      total += chunk.length;
      if (total > limit) {
        failed = true;
        chunks.length = 0;
        reject(new BodyTooLargeError());
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    request.on('error', (error) => {
      if (!failed) reject(error);
    });
  });
}
