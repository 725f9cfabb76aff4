/** Unit specs sit beside the code and need no server. */
const base = require('./jest.base.config');

module.exports = {
  ...base,
  roots: ['<rootDir>/apps', '<rootDir>/libs'],
  testMatch: ['**/*.spec.ts'],
};
