/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: '<rootDir>/tests/support/environment.js',
  roots: ['<rootDir>/tests'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 180_000,
};
