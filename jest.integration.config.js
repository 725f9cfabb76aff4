/** Integration tests run against the real PostgreSQL and Redis. */
const base = require('./jest.base.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/integration'],
  testMatch: ['**/*.int-spec.ts'],
  testTimeout: 120000,
};
