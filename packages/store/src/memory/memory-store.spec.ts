import { describeSessionStore } from '../conformance.js';
import { MemoryStore } from './memory-store.js';

describeSessionStore('MemoryStore', ({ clock, limits }) => new MemoryStore({ clock, limits, sweepIntervalMs: 0 }), {
  sweepExpired: (store) => (store as MemoryStore).sweepExpired(),
});
