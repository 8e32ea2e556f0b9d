// Optional bearer-token authentication. A valid token yields a principal; the
// services bind each session to the principal that created it.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createContextKey } from '@connectrpc/connect';
import type { Interceptor } from '@connectrpc/connect';
import { unauthenticated } from './errors.js';

/**
 * Bearer-token authentication. Give `tokens`, `verify`, or both (static
 * tokens are checked first). Callers send `authorization: Bearer <token>`;
 * a missing or unknown token fails with UNAUTHENTICATED. Health stays open.
 *
 * @example
 * startBridgeServer({ auth: { tokens: ['s3cret'] } });
 * startBridgeServer({ auth: { verify: async (t) => (t === 'ok' ? 'alice' : undefined) } });
 */
export interface AuthOptions {
  /**
   * Accepted static tokens. Each token is its own principal (named by a hash
   * of the token, never the token itself). Compared in constant time.
   */
  readonly tokens?: readonly string[];
  /**
   * Verifies a token and returns the principal it belongs to (any stable
   * string, for example a user id), or `undefined`/`null` when the token is
   * not valid. A thrown error becomes INTERNAL (and is logged).
   */
  readonly verify?: (token: string) => Promise<string | null | undefined> | string | null | undefined;
}

/**
 * Context key of the authenticated principal of a call: `undefined` when auth
 * is disabled (then sessions are not bound to anyone).
 */
export const principalKey = createContextKey<string | undefined>(undefined, {
  description: 'unified-bridge principal',
});

const sha256 = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Validates auth options, failing with a TypeError that names the option. */
export function validateAuthOptions(auth: AuthOptions): void {
  if (auth.tokens === undefined && auth.verify === undefined) {
    throw new TypeError('auth: give auth.tokens (a list of bearer tokens) or auth.verify (a function), or omit auth');
  }
  if (auth.tokens !== undefined) {
    if (!Array.isArray(auth.tokens) || auth.tokens.length === 0) {
      throw new TypeError('auth.tokens must be a non-empty array of strings');
    }
    for (const t of auth.tokens) {
      if (typeof t !== 'string' || t.length === 0) throw new TypeError('auth.tokens must hold non-empty strings');
    }
  }
  if (auth.verify !== undefined && typeof auth.verify !== 'function') {
    throw new TypeError('auth.verify must be a function (token) => principal | undefined');
  }
}

/**
 * Creates the token check: `(token) => principal | undefined`. Static tokens
 * are compared as SHA-256 digests with `crypto.timingSafeEqual`, always
 * against every configured token (no early exit).
 */
export function createTokenVerifier(auth: AuthOptions): (token: string) => Promise<string | undefined> {
  validateAuthOptions(auth);
  const known = (auth.tokens ?? []).map((t) => {
    const digest = sha256(t);
    return { digest, principal: `token:${digest.toString('hex').slice(0, 16)}` };
  });
  const verify = auth.verify;
  return async (token) => {
    const digest = sha256(token);
    let principal: string | undefined;
    for (const k of known) {
      if (timingSafeEqual(digest, k.digest) && principal === undefined) principal = k.principal;
    }
    if (principal !== undefined) return principal;
    if (verify !== undefined) {
      const p = await verify(token);
      if (typeof p === 'string' && p.length > 0) return p;
    }
    return undefined;
  };
}

/** Extracts the token of an `authorization: Bearer <token>` header. */
export function bearerToken(header: string | null): string | undefined {
  if (header === null) return undefined;
  const m = /^\s*bearer\s+(\S+)\s*$/i.exec(header);
  return m?.[1];
}

/**
 * The interceptor that authenticates every call of the services it is
 * installed on and puts the principal under {@link principalKey}.
 */
export function createAuthInterceptor(auth: AuthOptions): Interceptor {
  const verify = createTokenVerifier(auth);
  return (next) => async (req) => {
    const token = bearerToken(req.header.get('authorization'));
    if (token === undefined) throw unauthenticated('missing bearer token (send "authorization: Bearer <token>")');
    const principal = await verify(token);
    if (principal === undefined) throw unauthenticated('invalid bearer token');
    req.contextValues.set(principalKey, principal);
    return next(req);
  };
}
