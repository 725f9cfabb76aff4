import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';
import { ZodError } from 'zod';

import { configFileSchema, environmentSchema, SecretSource } from './config.schema';

export type RegistryCredentialsConfig =
  { type: 'basic'; username: string; password: string } | { type: 'token'; token: string };

export interface RegistryConfig {
  name: string;
  /** Base URL of the registry API; the only origin the service fetches from for this registry. */
  url: string;
  /** Host names users write in image references for this registry, lowercased. */
  hosts: string[];
  credentials?: RegistryCredentialsConfig;
  /** Accepted webhook tokens; more than one while a token is being rotated. */
  webhookTokens: string[];
  tokenRealmOrigins: string[];
  reconcile: boolean;
  /** GPG simple-signing lookaside base URL, when the registry has one. */
  lookaside?: string;
}

export interface AppConfig {
  /** Address the API listens on. */
  host: string;
  port: number;
  /** API processes sharing the port through node:cluster; 1 runs the API in this process. */
  apiProcesses: number;
  workerMetricsPort: number;
  workerConcurrency: number;
  /** Attempts per queue job before it is recorded as failed. */
  jobAttempts: number;
  /** First retry delay in milliseconds; each retry doubles it. */
  jobBackoffMs: number;
  databaseUrl: string;
  databaseSchema: string;
  redisUrl: string;
  queuePrefix: string;
  logLevel: string;
  registries: RegistryConfig[];
  reconcileIntervalSeconds: number;
  sweeperIntervalSeconds: number;
  sweeperMinAgeSeconds: number;
  /** Period of the full signature re-verification. */
  reverifyIntervalSeconds: number;
}

export class ConfigError extends Error {
  readonly code = 'invalid-config';
}

type Environment = Record<string, string | undefined>;

/** Loads and validates the environment and the registries file once, at process start. */
export function loadConfig(env: Environment = process.env): AppConfig {
  const vars = parseOrThrow(() => environmentSchema.parse(env), 'environment');
  const file = parseOrThrow(
    () => configFileSchema.parse(readConfigFile(vars.PROVENANCE_CONFIG)),
    vars.PROVENANCE_CONFIG,
  );

  const registries = file.registries.map((entry, index) => {
    const field = `registries[${index}]`;
    const credentials = entry.credentials && {
      ...(entry.credentials.type === 'basic'
        ? {
            type: 'basic' as const,
            username: entry.credentials.username,
            password: readSecret(entry.credentials.password, `${field}.credentials.password`, env),
          }
        : {
            type: 'token' as const,
            token: readSecret(entry.credentials.token, `${field}.credentials.token`, env),
          }),
    };
    const tokens = readSecret(entry.webhookToken, `${field}.webhookToken`, env)
      .split(/[\n,]/)
      .map((token) => token.trim())
      .filter((token) => token.length > 0);
    if (tokens.some((token) => token.length < 16)) {
      throw new ConfigError(`${field}.webhookToken: each token must be at least 16 characters`);
    }
    return {
      name: entry.name,
      url: entry.url.replace(/\/+$/, ''),
      hosts: entry.hosts.map((host) => host.toLowerCase()),
      credentials,
      webhookTokens: tokens,
      tokenRealmOrigins: entry.tokenRealmOrigins,
      reconcile: entry.reconcile,
      lookaside: entry.lookaside?.replace(/\/+$/, ''),
    };
  });
  assertUnique(registries, file.registries.length);

  return {
    host: vars.HOST,
    port: vars.PORT,
    apiProcesses: vars.API_PROCESSES,
    workerMetricsPort: vars.WORKER_METRICS_PORT,
    workerConcurrency: vars.WORKER_CONCURRENCY,
    jobAttempts: vars.JOB_ATTEMPTS,
    jobBackoffMs: vars.JOB_BACKOFF_MS,
    databaseUrl: vars.DATABASE_URL,
    databaseSchema: vars.DATABASE_SCHEMA,
    redisUrl: vars.REDIS_URL,
    queuePrefix: vars.QUEUE_PREFIX,
    logLevel: vars.LOG_LEVEL,
    registries,
    reconcileIntervalSeconds: file.reconcileIntervalSeconds,
    sweeperIntervalSeconds: file.sweeperIntervalSeconds,
    sweeperMinAgeSeconds: file.sweeperMinAgeSeconds,
    reverifyIntervalSeconds: file.reverifyIntervalSeconds,
  };
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`PROVENANCE_CONFIG: cannot read ${path}`, { cause: error });
  }
  try {
    return parseYaml(text);
  } catch (error) {
    throw new ConfigError(`${path}: not valid YAML or JSON`, { cause: error });
  }
}

function readSecret(source: SecretSource, field: string, env: Environment): string {
  if ('env' in source) {
    const value = env[source.env];
    if (!value) throw new ConfigError(`${field}: environment variable ${source.env} is not set`);
    return value;
  }
  try {
    const value = readFileSync(source.file, 'utf8').trim();
    if (!value) throw new ConfigError(`${field}: file ${source.file} is empty`);
    return value;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${field}: cannot read file ${source.file}`, { cause: error });
  }
}

function assertUnique(registries: RegistryConfig[], count: number): void {
  const names = new Set(registries.map((registry) => registry.name));
  if (names.size !== count) throw new ConfigError('registries: names must be unique');
  const hosts = registries.flatMap((registry) => registry.hosts);
  const duplicate = hosts.find((host, index) => hosts.indexOf(host) !== index);
  if (duplicate) throw new ConfigError(`registries: host ${duplicate} is listed twice`);
}

function parseOrThrow<T>(parse: () => T, source: string): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ZodError) {
      const issue = error.issues[0];
      const field = issue.path.join('.') || '(root)';
      throw new ConfigError(`${source}: ${field}: ${issue.message}`, { cause: error });
    }
    throw error;
  }
}
