import { DomainError, DomainErrorCode } from '@app/common';

/** Opaque keyset cursors: base64url JSON of the last row's sort key. */
export function encodeCursor(key: unknown[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): unknown[] | undefined {
  if (!cursor) return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {
    // Fall through to the error below.
  }
  throw new DomainError(
    DomainErrorCode.BadRequest,
    'The cursor is invalid; use the nextCursor of a previous page.',
  );
}

export function parseLimit(value: string | undefined, fallback = 50, max = 500): number {
  if (value === undefined || value === '') return fallback;
  const limit = Number(value);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new DomainError(
      DomainErrorCode.BadRequest,
      `limit must be an integer from 1 to ${max}; got "${value}".`,
    );
  }
  return limit;
}
