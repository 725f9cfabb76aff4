#!/usr/bin/env node
import 'reflect-metadata';

import { Command, InvalidArgumentError } from 'commander';

import { API_KEY_ROLES, ApiKeyRoleName, generateApiKey } from '@app/common';
import { ConfigError } from '@app/config';
import { ApiKeyEntity, openDataSource } from '@app/persistence';

import { CheckExit, runCheck } from './check-command';
import { registerVerifyCommand } from './verify-command';

const output = {
  stdout: (line: string) => process.stdout.write(`${line}\n`),
  stderr: (line: string) => process.stderr.write(`${line}\n`),
};

function databaseSettings() {
  const url = process.env.DATABASE_URL;
  if (!url) throw new ConfigError('DATABASE_URL is not set');
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new ConfigError('DATABASE_URL: must be a postgres:// URL');
  }
  return { url, schema: process.env.DATABASE_SCHEMA ?? 'public', poolSize: 2 };
}

function parsePositiveInt(value: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0)
    throw new InvalidArgumentError('must be a positive integer');
  return number;
}

const program = new Command('provenance')
  .description('Image provenance and freshness service: CI checks and administration.')
  .exitOverride()
  .configureOutput({ writeErr: (text) => process.stderr.write(text) });

program
  .command('check')
  .description(
    'Print the freshness verdict of an image; exit 0 fresh, 1 stale (or, with --require-signed, not verified), 2 unknown, 3 check failed.',
  )
  .argument('<image>', 'image reference as users write it, e.g. registry.example.com/team/app:1.0')
  .option('--server <url>', 'service URL (default: $PROVENANCE_URL or http://127.0.0.1:8080)')
  .option('--api-key <key>', 'API key (default: $PROVENANCE_API_KEY)')
  .option('--json', 'print the API response body as JSON', false)
  .option('--timeout <ms>', 'request timeout in milliseconds', parsePositiveInt, 15000)
  .option(
    '--require-signed',
    'exit 1 unless the signature status of the image in its repository is verified',
    false,
  )
  .action(
    async (
      image: string,
      options: {
        server?: string;
        apiKey?: string;
        json: boolean;
        timeout: number;
        requireSigned: boolean;
      },
    ) => {
      const apiKey = options.apiKey ?? process.env.PROVENANCE_API_KEY;
      if (!apiKey) {
        output.stderr('error: an API key is required: pass --api-key or set PROVENANCE_API_KEY');
        process.exitCode = CheckExit.Failed;
        return;
      }
      process.exitCode = await runCheck(
        image,
        {
          server: options.server ?? process.env.PROVENANCE_URL ?? 'http://127.0.0.1:8080',
          apiKey,
          json: options.json,
          timeoutMs: options.timeout,
          requireSigned: options.requireSigned,
        },
        output,
      );
    },
  );

program
  .command('migrate')
  .description('Apply pending database migrations (DATABASE_URL, DATABASE_SCHEMA).')
  .option('--revert', 'revert the last applied migration instead', false)
  .action(async (options: { revert: boolean }) => {
    const dataSource = await openDataSource(databaseSettings());
    try {
      if (options.revert) {
        const applied = await dataSource
          .query(`SELECT name FROM schema_migrations ORDER BY id DESC LIMIT 1`)
          .catch(() => []);
        if (applied.length === 0) {
          output.stdout('no migration is applied; nothing to revert');
          return;
        }
        await dataSource.undoLastMigration({ transaction: 'each' });
        output.stdout(`reverted ${applied[0].name}`);
      } else {
        const applied = await dataSource.runMigrations({ transaction: 'each' });
        output.stdout(
          applied.length
            ? `applied: ${applied.map((m) => m.name).join(', ')}`
            : 'schema is up to date',
        );
      }
    } finally {
      await dataSource.destroy();
    }
  });

registerVerifyCommand(program, output);

const keys = program.command('keys').description('Manage API keys directly in the database.');
keys
  .command('create')
  .description('Create an API key and print it once; use this for the first admin key.')
  .requiredOption('--name <name>', 'who or what the key is for')
  .option('--role <role>', `one of ${API_KEY_ROLES.join(', ')}`, 'admin')
  .action(async (options: { name: string; role: string }) => {
    if (!API_KEY_ROLES.includes(options.role as ApiKeyRoleName)) {
      output.stderr(
        `error: invalid role "${options.role}"; expected one of ${API_KEY_ROLES.join(', ')}`,
      );
      process.exitCode = CheckExit.Failed;
      return;
    }
    const dataSource = await openDataSource(databaseSettings());
    try {
      const generated = generateApiKey();
      await dataSource.getRepository(ApiKeyEntity).insert({
        name: options.name,
        role: options.role as ApiKeyRoleName,
        keyPrefix: generated.prefix,
        keyHash: generated.hash,
        createdBy: 'cli',
        createdAt: new Date(),
      });
      output.stdout(generated.key);
    } finally {
      await dataSource.destroy();
    }
  });

program.parseAsync(process.argv).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') {
    process.exitCode = 0;
    return;
  }
  if (code?.startsWith('commander.')) {
    process.exitCode = CheckExit.Failed;
    return;
  }
  output.stderr(`error: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = CheckExit.Failed;
});
