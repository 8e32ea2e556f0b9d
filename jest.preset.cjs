/**
 * Shared Jest settings of every package: TypeScript through ts-jest (transpile
 * only; `nx run-many -t typecheck` does the type checking), CommonJS output,
 * `.js` import suffixes mapped back to the TypeScript sources.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  testMatch: ['<rootDir>/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
  moduleFileExtensions: ['ts', 'js', 'cjs', 'mjs', 'json'],
  transform: {
    '^.+\\.ts$': [
      'ts-jest',
      {
        isolatedModules: true,
        tsconfig: {
          module: 'commonjs',
          moduleResolution: 'node10',
          verbatimModuleSyntax: false,
          isolatedModules: true,
          target: 'ES2022',
          lib: ['ES2023', 'ESNext.Disposable', 'DOM'],
          esModuleInterop: true,
          sourceMap: true,
        },
      },
    ],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 20_000,
};
