// @unified-bridge/testing/jest/global-setup: `globalSetup: '@unified-bridge/testing/jest/global-setup'`
// starts one server (default options) for the Jest run and sets UNIFIED_BRIDGE_URL.
import { createGlobalSetup } from './jest.js';

/** The Jest `globalSetup` function: starts one server with default options (see `createGlobalSetup`). */
const globalSetup: () => Promise<void> = createGlobalSetup();
export default globalSetup;
