import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startRedis, startRedisCluster } from '@unified-bridge/testing';

/** Runs one command with redis-cli against `port` and resolves its trimmed output. */
function cli(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }, (err, stdout) =>
      err ? reject(err) : resolve(stdout.trim()),
    ),
  );
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('startRedis', () => {
  it('should start redis-server on a free port with its own dir and stop it', async () => {
    const redis = await startRedis();
    const pid = redis.pid!;
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(await cli(redis.port, 'PING')).toBe('PONG');
    expect(await cli(redis.port, 'CONFIG', 'GET', 'dir')).toContain(redis.dir);
    expect(await cli(redis.port, 'CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno');
    await redis.stop();
    await redis.stop();
    expect(isAlive(pid)).toBe(false);
    expect(existsSync(redis.dir)).toBe(false);
  });

  it('should start two servers side by side on different ports', async () => {
    await using a = await startRedis();
    await using b = await startRedis();
    expect(a.port).not.toBe(b.port);
    await cli(a.port, 'SET', 'k', 'a');
    expect(await cli(b.port, 'GET', 'k')).toBe('');
  });

  it('should keep acknowledged writes across a crash with appendfsync always', async () => {
    await using redis = await startRedis({ appendOnly: true, appendFsync: 'always' });
    expect(await cli(redis.port, 'CONFIG', 'GET', 'appendfsync')).toBe('appendfsync\nalways');
    for (let i = 0; i < 20; i++) await cli(redis.port, 'INCR', 'counter');
    await redis.kill('SIGKILL');
    expect(redis.running).toBe(false);
    await expect(cli(redis.port, 'PING')).rejects.toThrow();
    await redis.restart();
    expect(await cli(redis.port, 'GET', 'counter')).toBe('20');
  });

  it('should lose everything on restart without persistence', async () => {
    await using redis = await startRedis();
    await cli(redis.port, 'SET', 'k', 'v');
    await redis.restart();
    expect(await cli(redis.port, 'EXISTS', 'k')).toBe('0');
  });

  it('should say how to install redis-server when the binary is missing', async () => {
    await expect(startRedis({ redisServerPath: '/nonexistent/redis-server' })).rejects.toThrow(
      /was not found: install Debian's redis-server/,
    );
  });

  it('should report the output of a server that cannot start', async () => {
    await expect(startRedis({ args: ['--no-such-option', 'x'] })).rejects.toThrow(/exited before it was ready/);
  });

  it('should reject bad options with errors naming them', async () => {
    await expect(startRedis({ appendFsync: 'sometimes' as never })).rejects.toThrow(/appendFsync/);
    await expect(startRedis({ startupTimeoutMs: -1 })).rejects.toThrow(/startupTimeoutMs/);
  });
});

describe('startRedisCluster', () => {
  it('should start a 3-master cluster with every slot served and stop every node', async () => {
    const cluster = await startRedisCluster({ masters: 3 });
    try {
      expect(cluster.nodes).toHaveLength(3);
      const info = await cli(cluster.nodes[0]!.port, 'CLUSTER', 'INFO');
      expect(info).toMatch(/cluster_state:ok/);
      expect(info).toMatch(/cluster_slots_assigned:16384/);
      expect(info).toMatch(/cluster_size:3/);
      // -c follows MOVED redirects: keys land on different masters, one client reads them all.
      for (const key of ['a', 'b', 'c', 'd']) await cli(cluster.nodes[0]!.port, '-c', 'SET', key, key);
      for (const key of ['a', 'b', 'c', 'd']) expect(await cli(cluster.nodes[2]!.port, '-c', 'GET', key)).toBe(key);
      expect(cluster.seeds).toEqual(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    } finally {
      const pids = cluster.nodes.map((n) => n.pid!);
      await cluster.stop();
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      for (const n of cluster.nodes) expect(existsSync(n.dir)).toBe(false);
    }
  }, 60_000);

  it('should refuse fewer than 3 masters', async () => {
    await expect(startRedisCluster({ masters: 2 })).rejects.toThrow(/masters/);
  });
});
