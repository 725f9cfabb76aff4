import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Inject } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Logger } from 'pino';
import { QueryFailedError } from 'typeorm';

import { DomainError, DomainErrorCode, ROOT_LOGGER } from '@app/common';

import { buildProblem, newErrorId, ProblemDetails, sendProblem } from './problem';

const STATUS_BY_CODE: Record<DomainErrorCode, number> = {
  [DomainErrorCode.BadRequest]: 400,
  [DomainErrorCode.Unauthorized]: 401,
  [DomainErrorCode.Forbidden]: 403,
  [DomainErrorCode.NotFound]: 404,
  [DomainErrorCode.Conflict]: 409,
  [DomainErrorCode.PayloadTooLarge]: 413,
  [DomainErrorCode.UnsupportedMediaType]: 415,
  [DomainErrorCode.ServiceUnavailable]: 503,
};

const CODE_BY_STATUS: Record<number, string> = {
  400: 'bad-request',
  404: 'not-found',
  405: 'method-not-allowed',
  503: 'service-unavailable',
};

/** PostgreSQL and driver errors that mean the database cannot be reached right now. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EPIPE',
]);
const UNAVAILABLE_SQLSTATES = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** Maps every error to one problem-details body; unknown errors get an id that is also logged. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  constructor(@Inject(ROOT_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const response = context.getResponse<Response>();
    const request = context.getRequest<Request>();
    const problem = this.toProblem(exception, request);
    if (response.headersSent) return;
    if (problem.status === 401) response.setHeader('WWW-Authenticate', 'Bearer');
    sendProblem(response, { ...problem, instance: request.originalUrl });
  }

  private toProblem(exception: unknown, request: Request): ProblemDetails {
    if (exception instanceof DomainError) {
      return buildProblem(STATUS_BY_CODE[exception.code], exception.code, exception.message, {
        ...exception.details,
      });
    }
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = CODE_BY_STATUS[status] ?? 'http-error';
      const detail =
        status === 404 ? `No route for ${request.method} ${request.path}.` : exception.message;
      const body = exception.getResponse();
      const checks =
        typeof body === 'object' && body !== null && 'details' in body ? body.details : undefined;
      return buildProblem(status, code, detail, checks ? { checks } : {});
    }
    if (isDatabaseUnavailable(exception)) {
      this.logger.warn({ err: exception, path: request.path }, 'database unavailable');
      return buildProblem(503, 'service-unavailable', 'The database is unavailable; retry later.');
    }
    const errorId = newErrorId();
    this.logger.error({ err: exception, errorId, path: request.path }, 'unhandled error');
    return buildProblem(500, 'internal-error', 'An unexpected error occurred.', { errorId });
  }
}

export function isDatabaseUnavailable(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 5; depth += 1) {
    if (typeof current !== 'object') return false;
    const candidate = current as {
      code?: unknown;
      message?: unknown;
      driverError?: unknown;
      cause?: unknown;
    };
    if (typeof candidate.code === 'string') {
      if (UNAVAILABLE_ERRNOS.has(candidate.code) || UNAVAILABLE_SQLSTATES.has(candidate.code)) {
        return true;
      }
    }
    if (
      typeof candidate.message === 'string' &&
      /Connection terminated|connect ECONNREFUSED|timeout exceeded when trying to connect/.test(
        candidate.message,
      )
    ) {
      return true;
    }
    current = current instanceof QueryFailedError ? candidate.driverError : candidate.cause;
  }
  return false;
}
