import { StrictJsonError } from './errors';
import { parseStrictJson } from './strict-json';

describe('parseStrictJson', () => {
  it('parses nested values like JSON.parse', () => {
    const text = '{"a":[1,2.5,-3e2,true,false,null,"x\\u0041"],"b":{"c":{}}}';
    expect(parseStrictJson(text)).toEqual(JSON.parse(text));
  });

  it.each([
    ['duplicate key', '{"a":1,"a":2}', /duplicate key "a"/],
    [
      'case-variant key',
      '{"docker-manifest-digest":"x","Docker-manifest-digest":"y"}',
      /differ only in letter case/,
    ],
    ['trailing content', '{} {}', /after the JSON value/],
    ['trailing comma', '{"a":1,}', /expected a string key/],
    ['unsafe integer', '{"a":12345678901234567890}', /outside the exactly representable range/],
    ['byte-order mark', '\ufeff{}', /unexpected character/],
    ['unterminated string', '{"a":"b', /unterminated string/],
    ['raw control character', '{"a":"b\u0001"}', /control character/],
  ])('rejects %s', (_name, text, message) => {
    expect(() => parseStrictJson(text)).toThrow(StrictJsonError);
    expect(() => parseStrictJson(text)).toThrow(message);
  });

  it('rejects duplicate keys in nested objects', () => {
    expect(() => parseStrictJson('{"a":{"b":1,"b":1}}')).toThrow(/duplicate key "b"/);
  });

  it('keeps __proto__ as a plain key', () => {
    const value = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
