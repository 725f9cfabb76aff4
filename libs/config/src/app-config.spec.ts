import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { ConfigError, loadConfig } from './app-config';

function writeConfig(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'config-spec-')), 'provenance.yaml');
  writeFileSync(path, text);
  return path;
}

const REGISTRY = `registries:
  - name: prod
    url: https://registry.example.com/
    hosts: [Registry.Example.com]
    webhookToken: { env: HOOK_TOKEN }
`;

function environment(path: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: 'postgres://user@db:5432/provenance',
    REDIS_URL: 'redis://cache:6379',
    PROVENANCE_CONFIG: path,
    HOOK_TOKEN: 'first-token-0123456789\nsecond-token-0123456789',
    ...extra,
  };
}

describe('loadConfig', () => {
  it('loads defaults and normalises registries', () => {
    const config = loadConfig(environment(writeConfig(REGISTRY)));

    expect(config.port).toBe(8080);
    expect(config.jobAttempts).toBe(6);
    expect(config.apiProcesses).toBe(1);
    expect(config.registries[0]).toMatchObject({
      name: 'prod',
      url: 'https://registry.example.com',
      hosts: ['registry.example.com'],
      webhookTokens: ['first-token-0123456789', 'second-token-0123456789'],
      reconcile: true,
    });
  });

  it('reads a basic password from a file', () => {
    const secret = writeConfig('s3cret\n');
    const path = writeConfig(
      `${REGISTRY}    credentials: { type: basic, username: bot, password: { file: ${secret} } }\n`,
    );

    const config = loadConfig(environment(path));

    expect(config.registries[0].credentials).toEqual({
      type: 'basic',
      username: 'bot',
      password: 's3cret',
    });
  });

  it.each([
    ['a missing variable', { REDIS_URL: undefined }, 'REDIS_URL'],
    ['a bad port', { PORT: 'eighty' }, 'PORT'],
  ])('names the field for %s', (_case, overrides, field) => {
    const env: Record<string, string | undefined> = {
      ...environment(writeConfig(REGISTRY)),
      ...overrides,
    };

    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(field);
  });

  it.each([
    ['an unknown key', `${REGISTRY}    colour: blue\n`, 'registries.0'],
    [
      'an inline secret',
      REGISTRY.replace('{ env: HOOK_TOKEN }', 'plain-text'),
      'registries.0.webhookToken',
    ],
    [
      'a non-http URL',
      REGISTRY.replace('https://registry.example.com/', 'ftp://x'),
      'registries.0.url',
    ],
    ['no registries', 'registries: []\n', 'registries'],
    ['invalid YAML', 'registries: [\n', 'not valid YAML'],
  ])('rejects %s', (_case, text, message) => {
    expect(() => loadConfig(environment(writeConfig(text)))).toThrow(message);
  });

  it('rejects an unset token variable', () => {
    const env = { ...environment(writeConfig(REGISTRY)), HOOK_TOKEN: undefined };

    expect(() => loadConfig(env)).toThrow(
      'registries[0].webhookToken: environment variable HOOK_TOKEN is not set',
    );
  });

  it('rejects a short webhook token', () => {
    expect(() => loadConfig(environment(writeConfig(REGISTRY), { HOOK_TOKEN: 'short' }))).toThrow(
      'at least 16 characters',
    );
  });

  it('rejects a host listed by two registries', () => {
    const text = `${REGISTRY}  - name: other
    url: http://127.0.0.1:5000
    hosts: [registry.example.com]
    webhookToken: { env: HOOK_TOKEN }
`;
    expect(() => loadConfig(environment(writeConfig(text)))).toThrow(
      'host registry.example.com is listed twice',
    );
  });

  it('rejects an unreadable config file', () => {
    expect(() => loadConfig(environment('/nonexistent/provenance.yaml'))).toThrow('cannot read');
  });
});
