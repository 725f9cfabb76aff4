import { DomainError, DomainErrorCode } from '@app/common';
import {
  JsonObject,
  JsonValue,
  parsePolicyJson,
  parseStrictJson,
  PolicyImport,
  SignatureError,
} from '@app/signatures';

import { MAX_COMMENT_LENGTH } from './trust-policy.schema';

/** A `POST /v1/trust-policy/import` request after its body was read. */
export interface PolicyJsonImportRequest {
  /** The policy.json text, parsed by {@link parsePolicyJson}. */
  policyJson: string;
  /** Files the policy.json names by `keyPath`, `caPath` and the like, by path. */
  files: Map<string, Buffer>;
  comment: string | null;
}

const WRAPPER_FIELDS = ['policy', 'files', 'comment'];
const BASE64 = /^[A-Za-z0-9+/\r\n]*={0,2}\s*$/;

/**
 * Reads an import body. Two forms are accepted: the policy.json document itself (an object with
 * `default`), with the comment in the `comment` query parameter; or a wrapper
 * `{"policy": <policy.json object or its text>, "files": {"<path>": "<base64>"}, "comment": "..."}`
 * that also carries the files a policy.json names by path. The body is parsed strictly, so a
 * duplicate key anywhere rejects it, as containers/image does for policy.json.
 */
export function readPolicyJsonImport(
  rawBody: Buffer | undefined,
  commentParameter: string | undefined,
): PolicyJsonImportRequest {
  if (rawBody === undefined || rawBody.length === 0) {
    throw badRequest(
      'body',
      'The body must be a containers policy.json document sent as application/json.',
    );
  }
  const text = rawBody.toString('utf8');
  let document: JsonValue;
  try {
    document = parseStrictJson(text);
  } catch (error) {
    throw badRequest('body', `The body is not valid JSON: ${(error as Error).message}.`, error);
  }
  if (!isObject(document)) {
    throw badRequest('body', 'The body must be a JSON object: a policy.json document.');
  }
  if (Object.hasOwn(document, 'default')) {
    return {
      policyJson: text,
      files: new Map(),
      comment: readComment(commentParameter, 'comment'),
    };
  }
  if (!Object.hasOwn(document, 'policy')) {
    throw badRequest(
      'body',
      'The body must be a policy.json document (an object with "default") or ' +
        '{"policy": <policy.json>, "files": {"<path>": "<base64>"}}.',
    );
  }
  return readWrapper(document, commentParameter);
}

function readWrapper(
  document: JsonObject,
  commentParameter: string | undefined,
): PolicyJsonImportRequest {
  const unknown = Object.keys(document).filter((key) => !WRAPPER_FIELDS.includes(key));
  if (unknown.length > 0) {
    throw badRequest(
      unknown[0] ?? 'body',
      `Unknown field(s) ${unknown.map((key) => JSON.stringify(key)).join(', ')} in the import body; expected policy, files and comment.`,
    );
  }
  const policy = document['policy'];
  let policyJson: string;
  if (typeof policy === 'string') {
    policyJson = policy;
  } else if (isObject(policy)) {
    policyJson = JSON.stringify(policy);
  } else {
    throw badRequest('policy', 'policy must be the policy.json document, as an object or text.');
  }

  const comment = document['comment'] ?? commentParameter;
  if (comment !== undefined && typeof comment !== 'string') {
    throw badRequest('comment', 'comment must be a string.');
  }
  return {
    policyJson,
    files: readFiles(document['files']),
    comment: readComment(comment, 'comment'),
  };
}

function readFiles(value: JsonValue | undefined): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  if (value === undefined) return files;
  if (!isObject(value)) {
    throw badRequest('files', 'files must be an object of file path to base64 content.');
  }
  for (const [path, content] of Object.entries(value)) {
    const field = `files[${JSON.stringify(path)}]`;
    if (typeof content !== 'string' || !BASE64.test(content)) {
      throw badRequest(field, `${field} must be the file content in base64.`);
    }
    files.set(path, Buffer.from(content, 'base64'));
  }
  return files;
}

function readComment(value: string | undefined, field: string): string | null {
  if (value === undefined || value === '') return null;
  if (value.length > MAX_COMMENT_LENGTH) {
    throw badRequest(field, `${field} must be at most ${MAX_COMMENT_LENGTH} characters.`);
  }
  return value;
}

/**
 * Converts the policy.json to a trust policy. A file named by path is taken from the request's
 * `files`, never from the server's disk; a missing one gives a 400 that names the path.
 */
export function importPolicyJson(request: PolicyJsonImportRequest): PolicyImport {
  const readFile = (path: string): Buffer => {
    const content = request.files.get(path);
    if (content === undefined) {
      throw new Error(
        `the server does not read key files from its disk; put the key inline as keyData, ` +
          `or send the file content as files[${JSON.stringify(path)}] (base64) in the body ` +
          `{"policy": ..., "files": {...}}`,
      );
    }
    return content;
  };
  try {
    return parsePolicyJson(request.policyJson, readFile);
  } catch (error) {
    if (error instanceof SignatureError) {
      // The library's messages start with "policy.json" and name the part that is wrong.
      throw badRequest('policy', `Invalid ${error.message}.`, error);
    }
    throw error;
  }
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function badRequest(field: string, message: string, cause?: unknown): DomainError {
  return new DomainError(
    DomainErrorCode.BadRequest,
    message,
    { field, errors: [{ field, message }] },
    cause === undefined ? undefined : { cause },
  );
}
