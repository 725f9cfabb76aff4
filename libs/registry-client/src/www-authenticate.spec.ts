import { parseWwwAuthenticate } from './www-authenticate';

describe('parseWwwAuthenticate', () => {
  it('parses a Bearer challenge of Distribution', () => {
    const challenges = parseWwwAuthenticate(
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:team/app:pull"',
    );

    expect(challenges).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example.com/token',
          service: 'registry.example.com',
          scope: 'repository:team/app:pull',
        },
      },
    ]);
  });

  it('parses a Basic challenge', () => {
    expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([
      { scheme: 'basic', params: { realm: 'Registry Realm' } },
    ]);
  });

  it('parses several challenges in one value', () => {
    const challenges = parseWwwAuthenticate(
      'Basic realm="basic realm", Bearer realm="https://auth/token", service=registry',
    );

    expect(challenges).toEqual([
      { scheme: 'basic', params: { realm: 'basic realm' } },
      { scheme: 'bearer', params: { realm: 'https://auth/token', service: 'registry' } },
    ]);
  });

  it('keeps commas inside quoted values', () => {
    const [challenge] = parseWwwAuthenticate(
      'Bearer realm="https://auth/token",scope="repository:a:pull,push repository:b:pull"',
    );

    expect(challenge.params.scope).toBe('repository:a:pull,push repository:b:pull');
  });

  it('unescapes quoted pairs', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm="say \\"hi\\" \\\\ there"');

    expect(challenge.params.realm).toBe('say "hi" \\ there');
  });

  it('lowercases scheme and parameter names', () => {
    const [challenge] = parseWwwAuthenticate('BEARER Realm="https://auth/token"');

    expect(challenge).toEqual({ scheme: 'bearer', params: { realm: 'https://auth/token' } });
  });

  it('accepts whitespace around "="', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm = "https://auth/token" , service = reg');

    expect(challenge.params).toEqual({ realm: 'https://auth/token', service: 'reg' });
  });

  it('returns no challenges for an empty value', () => {
    expect(parseWwwAuthenticate('')).toEqual([]);
  });

  it('skips text that is not a challenge', () => {
    const challenges = parseWwwAuthenticate('/// Bearer realm="https://auth/token"');

    expect(challenges).toEqual([{ scheme: 'bearer', params: { realm: 'https://auth/token' } }]);
  });

  it('ends an unterminated quoted value at the end', () => {
    const [challenge] = parseWwwAuthenticate('Bearer realm="https://auth/token');

    expect(challenge.params.realm).toBe('https://auth/token');
  });
});
