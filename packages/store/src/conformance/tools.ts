import { storeErrorOf, type Suite } from './harness.js';

/** Tools: session and global scopes, owners and replacement, unregister, `maxToolsPerSession`. */
export function describeTools(suite: Suite): void {
  const { describe, it, expect, make, withSession, expectFields } = suite;
  describe('tools', () => {
    it('should keep session tools isolated and global tools visible everywhere', async () => {
      const { store } = await make();
      await store.createSession({ id: 's1' });
      await store.createSession({ id: 's2' });
      const t = await store.registerTool('s1', {
        name: 'search',
        owner: 'worker-1',
        description: 'finds things',
        parameters: { type: 'object' },
        streaming: true,
        metadata: { v: '1' },
      });
      expectFields(t, {
        name: 'search',
        owner: 'worker-1',
        global: false,
        sessionId: 's1',
        streaming: true,
        description: 'finds things',
      });
      expect(t.parameters).toEqual({ type: 'object' });
      expect(t.metadata).toEqual({ v: '1' });
      await store.registerTool(null, { name: 'add', owner: 'host' });
      expect((await store.getTool('s1', 'search')).owner).toBe('worker-1');
      await storeErrorOf(() => store.getTool('s2', 'search'), 'ToolNotFound');
      expect((await store.getTool('s2', 'add')).global).toBe(true);
      const listed = await store.listTools('s1');
      expect(listed.tools.map((x) => x.name)).toEqual(['add', 'search']);
      expect((await store.getSession('s1')).toolCount).toBe(2);
      expect((await store.getSession('s2')).toolCount).toBe(1);
      const p1 = await store.listTools('s1', { pageSize: 1 });
      const p2 = await store.listTools('s1', { pageSize: 1, pageToken: p1.nextPageToken });
      expect([p1.tools[0]?.name, p2.tools[0]?.name, p2.nextPageToken]).toEqual(['add', 'search', '']);
    });

    it('should refuse duplicates unless the same owner replaces its tool', async () => {
      const { store, sid } = await withSession();
      await store.registerTool(sid, { name: 't', owner: 'w1', description: 'one' });
      const replaced = await store.registerTool(sid, { name: 't', owner: 'w1', description: 'two' });
      expect(replaced.description).toBe('two');
      expect((await store.getTool(sid, 't')).description).toBe('two');
      await storeErrorOf(() => store.registerTool(sid, { name: 't', owner: 'w2' }), 'AlreadyExists');
      await store.registerTool(null, { name: 'g', owner: 'host' });
      await storeErrorOf(() => store.registerTool(sid, { name: 'g', owner: 'host' }), 'AlreadyExists');
      await storeErrorOf(() => store.registerTool(null, { name: 't', owner: 'host' }), 'AlreadyExists');
      await storeErrorOf(() => store.registerTool(sid, { name: 'bad name', owner: 'host' }), 'InvalidArgument');
      await storeErrorOf(() => store.registerTool(sid, { name: 'x', owner: '' }), 'InvalidArgument');
    });

    it('should unregister by owner and remove every tool of an owner', async () => {
      const { store, sid } = await withSession();
      await store.registerTool(sid, { name: 'a', owner: 'w1' });
      await store.registerTool(sid, { name: 'b', owner: 'w1' });
      await store.registerTool(sid, { name: 'c', owner: 'w2' });
      await store.registerTool(null, { name: 'g', owner: 'w1' });
      await storeErrorOf(() => store.unregisterTool(sid, 'c', 'w1'), 'ToolNotFound');
      await store.unregisterTool(sid, 'c', 'w2');
      await storeErrorOf(() => store.getTool(sid, 'c'), 'ToolNotFound');
      expect(await store.removeToolsOf('w1')).toBe(3);
      expect((await store.listTools(sid)).tools).toEqual([]);
    });

    it('should enforce maxToolsPerSession', async () => {
      const { store, sid } = await withSession({ maxToolsPerSession: 2 });
      await store.registerTool(sid, { name: 'a', owner: 'host' });
      await store.registerTool(sid, { name: 'b', owner: 'host' });
      await store.registerTool(sid, { name: 'b', owner: 'host', description: 'replace is fine' });
      const err = await storeErrorOf(() => store.registerTool(sid, { name: 'c', owner: 'host' }), 'ResourceExhausted');
      expect(err.limit).toBe('maxToolsPerSession');
    });
  });
}
