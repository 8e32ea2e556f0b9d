// The ESM form of own-location.ts: the ESM build uses this file in its place.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folder this module was loaded from (`dist/esm`). */
export const ownDirectory: string = dirname(fileURLToPath(import.meta.url));
