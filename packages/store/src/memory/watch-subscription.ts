import { compareStrings } from '../internal/paging.js';
import { limitReached } from '../internal/store-errors.js';
import { checkWatchOptions, initialEvent, syncedEvent } from '../internal/watch-events.js';
import type { Watcher } from '../internal/watcher.js';
import type { StoreLimits } from '../limits.js';
import type { StoreWatchOptions, WatchEvent } from '../session-store.js';
import type { SessionState } from './session-state.js';

/**
 * Opens a watch on a live session: its prefix holds the `initial` events
 * (when asked, ordered by name), the retained changes after `sinceRevision`
 * (when given) and one `synced` event; live changes follow.
 * @throws `InvalidArgument` (options), `ResourceExhausted` (`maxWatchersPerSession`), `Compacted`.
 */
export function openWatcher(s: SessionState, options: StoreWatchOptions, limits: Readonly<StoreLimits>): Watcher {
  const { names, sinceRevision } = checkWatchOptions(options, s.revision);
  if (s.watch.size >= limits.maxWatchersPerSession) {
    throw limitReached(
      limits,
      'maxWatchersPerSession',
      `session ${s.id} already has ${limits.maxWatchersPerSession} watchers`,
    );
  }
  const prefix: WatchEvent[] = [];
  if (options.includeInitial === true) {
    const targets = names === null ? s.names.names() : [...names].sort(compareStrings);
    for (const name of targets) {
      const slot = s.variables.get(name);
      if (slot !== undefined) prefix.push(initialEvent(s.revision, slot.readRecord()));
    }
  }
  if (sinceRevision !== undefined) s.watch.replay(sinceRevision, s.revision, names, prefix);
  prefix.push(syncedEvent(s.revision));
  return s.watch.open({
    names,
    prefix,
    startRevision: sinceRevision ?? s.revision,
    bufferSize: limits.watcherBufferSize,
    signal: options.signal,
  });
}
