// @unified-bridge/testing/jest/global-teardown: stops the server of the global setup.
import { createGlobalTeardown } from './jest.js';

/** The Jest `globalTeardown` function: stops the server of the global setup (see `createGlobalTeardown`). */
const globalTeardown: () => Promise<void> = createGlobalTeardown();
export default globalTeardown;
