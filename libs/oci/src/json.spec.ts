import { JsonDocument, parseJsonObject, readOptionalStringArray, readStringMap } from './json';

const DOCUMENT: JsonDocument = { code: 'invalid-config', name: 'image config' };
const bytes = (text: string) => new TextEncoder().encode(text);

describe('parseJsonObject', () => {
  it('parses an object', () => {
    expect(parseJsonObject(bytes('{"a":[1]}'), DOCUMENT)).toEqual({ a: [1] });
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(parseJsonObject(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]), DOCUMENT)).toEqual({});
  });

  it('throws invalid-json for a syntax error', () => {
    expect(() => parseJsonObject(bytes('{'), DOCUMENT)).toThrow(
      expect.objectContaining({ code: 'invalid-json' }),
    );
  });

  it('throws the document code for a non-object', () => {
    expect(() => parseJsonObject(bytes('[1]'), DOCUMENT)).toThrow(
      'Invalid image config: expected a JSON object, got an array.',
    );
    expect(() => parseJsonObject(bytes('7'), DOCUMENT)).toThrow(
      expect.objectContaining({ code: 'invalid-config' }),
    );
  });
});

describe('readers', () => {
  it('treat null as absent', () => {
    expect(readOptionalStringArray(DOCUMENT, null, 'config.Cmd')).toBeUndefined();
    expect(readStringMap(DOCUMENT, null, 'config.Labels')).toBeUndefined();
  });

  it('name the element path', () => {
    expect(() => readOptionalStringArray(DOCUMENT, ['a', 2], 'config.Env')).toThrow(
      'Invalid image config: config.Env[1] must be a string, got 2.',
    );
  });
});
