/** End-to-end tests drive the built API and worker over HTTP against a real registry. */
const base = require('./jest.base.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/test/e2e'],
  testMatch: ['**/*.e2e-spec.ts'],
  testTimeout: 300000,
};
