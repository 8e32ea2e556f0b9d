// Imports the package by its own name (the built entry point, `npm run build`
// first) and checks the export list exactly, so internals never become API.
import * as api from '@unified-bridge/server';

describe('@unified-bridge/server entry point', () => {
  it('should export exactly the public API', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'DEFAULT_GRACE_MS',
        'DEFAULT_MAX_MESSAGE_BYTES',
        'DEFAULT_TOOL_TIMEOUT_MS',
        'ToolFailure',
        'createBridgeLogger',
        'createBridgeRoutes',
        'isToolFailure',
        'startBridgeServer',
        'toolError',
      ].sort(),
    );
    expect(typeof api.createBridgeRoutes).toBe('function');
    expect(typeof api.startBridgeServer).toBe('function');
    expect(api.DEFAULT_MAX_MESSAGE_BYTES).toBe(10 * 1024 * 1024);
    expect(api.DEFAULT_TOOL_TIMEOUT_MS).toBe(30_000);
    const failure = api.toolError('Quota', 'used up', { left: '0' });
    expect(failure).toBeInstanceOf(api.ToolFailure);
    expect([failure.name, failure.toolErrorType, failure.message, failure.details, failure.code]).toEqual([
      'ToolFailure',
      'Quota',
      'used up',
      { left: '0' },
      2, // Code.Unknown
    ]);
    expect(api.isToolFailure(failure)).toBe(true);
  });
});
