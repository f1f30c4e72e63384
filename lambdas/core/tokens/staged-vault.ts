import { STAGES, type PublicSigningKeySet, type SigningKey, type SigningKeySet, type StagedSecret, type Vault } from '../ports.js';
import { parseSigningKey } from './generate-key.js';

/** Reads a stage as a signing key; a stage that is absent or holds something else (the pre-seed placeholder) is none. */
async function keyAt(secret: StagedSecret, stage: string): Promise<SigningKey | undefined> {
  const text = await secret.read({ stage });
  if (text === undefined) return undefined;
  try {
    return parseSigningKey(text);
  } catch {
    return undefined;
  }
}

const stripPrivate = ({ kid, publicJwk, activatesAt }: SigningKey) => ({ kid, publicJwk, ...(activatesAt !== undefined ? { activatesAt } : {}) });

/**
 * The Vault port over any staged secret: AWSCURRENT is the current key, AWSPENDING (published before it signs) and
 * AWSPREVIOUS (published while its tokens live) are the others.
 */
export class StagedSecretVault implements Vault {
  readonly #secret: StagedSecret;

  constructor(secret: StagedSecret) {
    this.#secret = secret;
  }

  async getSigningKeys(): Promise<SigningKeySet> {
    const [current, pending, previous] = await Promise.all([
      keyAt(this.#secret, STAGES.current),
      keyAt(this.#secret, STAGES.pending),
      keyAt(this.#secret, STAGES.previous),
    ]);
    if (!current) throw new Error('The signing-key secret has no usable AWSCURRENT version');
    const others = [pending, previous].filter((k): k is SigningKey => k !== undefined && k.kid !== current.kid);
    return { current, published: others, pending: pending?.kid === current.kid ? undefined : pending, previous };
  }

  /** The public halves, read from the private secret itself (for a function that may read it anyway). */
  async getPublicKeys(): Promise<PublicSigningKeySet> {
    const { current, published, previous } = await this.getSigningKeys();
    return {
      current: stripPrivate(current),
      published: published.map(stripPrivate),
      ...(previous ? { previous: stripPrivate(previous) } : {}),
    };
  }
}
