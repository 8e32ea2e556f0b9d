/** @type {import('jest').Config} */
module.exports = {
  ...require('../../jest.preset.cjs'),
  displayName: require('./package.json').name,
  // Real server processes: give slow CI machines room, and run files one at a time.
  testTimeout: 60_000,
  maxWorkers: 1,
};
