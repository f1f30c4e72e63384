import { jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import * as z from 'zod/mini';
import { REVOCATION_LIST_PATH, REVOCATION_LIST_TYP } from '../core/revocation/document.js';

export interface RevocationCheckOptions {
  /** Where Gatehouse publishes the signed revocation list. @default `${issuer}/oauth2/revocations` */
  readonly url?: URL;
  /** How often the list is fetched again, in seconds. With Gatehouse's 15-second cache, the window is this plus 15. @default 30 */
  readonly refreshSeconds?: number;
  /**
   * How old (from its `iat`) the last good list may get while fetches fail, in seconds; past it `whenStale` applies. A list
   * past its own `exp` (10 minutes) is never used. @default 300
   */
  readonly maxStaleSeconds?: number;
  /** What to do with tokens when no list fresh enough is at hand: refuse them (fail closed) or accept them unchecked. @default 'refuse' */
  readonly whenStale?: 'refuse' | 'accept';
  /** @default globalThis.fetch */
  readonly fetch?: (url: URL, init: RequestInit) => Promise<Response>;
}

/** Why a token is refused: `revoked` (listed), or `unavailable` (no list fresh enough to check it against). */
export type RevocationVerdict = { readonly refused: false } | { readonly refused: true; readonly reason: 'revoked' | 'unavailable'; readonly message: string };

const ListClaims = z.object({
  revoked_tokens: z.array(z.object({ jti: z.string(), exp: z.number() })),
  revoked_clients: z.array(z.object({ client_id: z.string(), status: z.string(), since: z.number() })),
  iat: z.number(),
  exp: z.number(),
});

interface Loaded {
  readonly iat: number;
  readonly exp: number;
  readonly tokens: ReadonlySet<string>;
  readonly clients: ReadonlyMap<string, { readonly status: string; readonly since: number }>;
}

/** After a failed fetch, the next is tried no sooner than this, so an outage does not cost every request a fetch. */
const RETRY_AFTER_FAILURE_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;

/**
 * The resource server's copy of Gatehouse's revocation list: fetched when a request finds it older than `refreshSeconds`
 * (one fetch at a time), its signature checked with the same keys as access tokens, and kept only when it is newer than
 * the one held. Tokens whose `jti` is listed, or whose client is listed with `since` at or after their `iat`, are refused.
 */
export class RevocationCheck {
  readonly #url: URL;
  readonly #refreshMs: number;
  readonly #maxStaleS: number;
  readonly #whenStale: 'refuse' | 'accept';
  readonly #fetch: (url: URL, init: RequestInit) => Promise<Response>;
  readonly #keys: JWTVerifyGetKey;
  readonly #issuer: string;
  readonly #tolerance: number;
  #list: Loaded | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #failedAt = Number.NEGATIVE_INFINITY;
  #loading: Promise<void> | undefined;

  constructor(options: RevocationCheckOptions, context: { readonly issuer: string; readonly keys: JWTVerifyGetKey; readonly clockToleranceSeconds: number }) {
    this.#url = options.url ?? new URL(`${context.issuer.replace(/\/$/, '')}${REVOCATION_LIST_PATH}`);
    this.#refreshMs = (options.refreshSeconds ?? 30) * 1000;
    this.#maxStaleS = options.maxStaleSeconds ?? 300;
    this.#whenStale = options.whenStale ?? 'refuse';
    this.#fetch = options.fetch ?? ((url, init) => fetch(url, init));
    this.#keys = context.keys;
    this.#issuer = context.issuer;
    this.#tolerance = context.clockToleranceSeconds;
  }

  /** Checks verified access-token claims against the list, refreshing it first when it is due. */
  async check(claims: JWTPayload, now: Date): Promise<RevocationVerdict> {
    const at = now.getTime();
    if (at - this.#fetchedAt >= this.#refreshMs && at - this.#failedAt >= RETRY_AFTER_FAILURE_MS) {
      this.#loading ??= this.#load(now).finally(() => (this.#loading = undefined));
      await this.#loading;
    }
    const list = this.#list;
    const nowS = at / 1000;
    if (!list || nowS - list.iat > this.#maxStaleS || nowS > list.exp + this.#tolerance) {
      if (this.#whenStale === 'refuse') return { refused: true, reason: 'unavailable', message: 'Revocations cannot be checked right now; try again shortly.' };
      // Accepting unchecked still refuses what the last list held.
      if (!list) return { refused: false };
    }
    if (list.tokens.has(String(claims.jti))) return { refused: true, reason: 'revoked', message: 'The access token was revoked.' };
    const client = list.clients.get(String(claims['client_id']));
    if (client && typeof claims.iat === 'number' && claims.iat <= client.since) {
      return { refused: true, reason: 'revoked', message: `The client's access was ${client.status === 'suspended' ? 'suspended' : 'ended'}.` };
    }
    return { refused: false };
  }

  async #load(now: Date): Promise<void> {
    try {
      const response = await this.#fetch(this.#url, {
        headers: { accept: 'application/jwt' },
        signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
        redirect: 'error',
      });
      if (!response.ok) throw new Error(`The revocation list answered ${response.status}.`);
      const { payload } = await jwtVerify((await response.text()).trim(), this.#keys, {
        issuer: this.#issuer,
        typ: REVOCATION_LIST_TYP,
        algorithms: ['ES256'],
        currentDate: now,
        clockTolerance: this.#tolerance,
        requiredClaims: ['iat', 'exp'],
      });
      const claims = ListClaims.parse(payload);
      // An older list than the one held (a replay, or a cache behind another) never replaces it.
      if (this.#list && claims.iat < this.#list.iat) throw new Error('The revocation list is older than the one held.');
      this.#list = {
        iat: claims.iat,
        exp: claims.exp,
        tokens: new Set(claims.revoked_tokens.map((t) => t.jti)),
        clients: new Map(claims.revoked_clients.map((c) => [c.client_id, { status: c.status, since: c.since }])),
      };
      this.#fetchedAt = now.getTime();
    } catch {
      this.#failedAt = now.getTime();
    }
  }
}
