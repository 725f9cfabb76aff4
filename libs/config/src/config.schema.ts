import { z } from 'zod';

/** A secret is never written inline: it names an environment variable or a file to read. */
const secretSource = z.union([
  z.object({ env: z.string().min(1) }).strict(),
  z.object({ file: z.string().min(1) }).strict(),
]);

export type SecretSource = z.infer<typeof secretSource>;

const credentials = z.discriminatedUnion('type', [
  z
    .object({ type: z.literal('basic'), username: z.string().min(1), password: secretSource })
    .strict(),
  z.object({ type: z.literal('token'), token: secretSource }).strict(),
]);

const registryName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "-" or "_"');

const registry = z
  .object({
    name: registryName,
    url: z
      .string()
      .url()
      .refine((value) => /^https?:\/\//.test(value), 'must be an http or https URL'),
    hosts: z.array(z.string().min(1)).min(1),
    credentials: credentials.optional(),
    webhookToken: secretSource,
    tokenRealmOrigins: z.array(z.string().url()).default([]),
    reconcile: z.boolean().default(true),
    /** Base URL of a GPG simple-signing lookaside store (http, https or file). */
    lookaside: z
      .string()
      .url()
      .refine((value) => /^(https?|file):\/\//.test(value), 'must be an http, https or file URL')
      .optional(),
  })
  .strict();

export const configFileSchema = z
  .object({
    registries: z.array(registry).min(1),
    reconcileIntervalSeconds: z.number().int().min(10).default(900),
    sweeperIntervalSeconds: z.number().int().min(5).default(60),
    sweeperMinAgeSeconds: z.number().int().min(1).default(120),
    reverifyIntervalSeconds: z.number().int().min(60).default(86400),
  })
  .strict();

export type ConfigFile = z.infer<typeof configFileSchema>;
export type RegistryFileEntry = z.infer<typeof registry>;

export const environmentSchema = z.object({
  DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgres:// URL'),
  REDIS_URL: z.string().regex(/^rediss?:\/\//, 'must be a redis:// URL'),
  HOST: z.string().min(1).default('0.0.0.0'),
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  API_PROCESSES: z.coerce.number().int().min(1).max(64).default(1),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  JOB_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(6),
  JOB_BACKOFF_MS: z.coerce.number().int().min(1).max(600000).default(2000),
  PROVENANCE_CONFIG: z.string().min(1),
  DATABASE_SCHEMA: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/)
    .default('public'),
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,64}$/)
    .default('provenance'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});
