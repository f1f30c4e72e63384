import { jwtVerify, importJWK, SignJWT, type JWK } from 'jose';
import type { PublicKeyStore, SigningKey, StagedSecret, SystemAuditLog } from '../ports.js';
import type { Log } from '../services.js';
import { generateSigningKey, parseSigningKey } from '../tokens/generate-key.js';
import { publishPublicKeys } from '../tokens/public-keys.js';
import { SIGNING_ALG } from '../tokens/signing-keys.js';
import { RotationError } from './errors.js';
import { ROTATION_STEPS, stepTarget, type RotationStep } from './steps.js';

export { ROTATION_STEPS, type RotationStep } from './steps.js';

export interface RotationContext {
  readonly secret: StagedSecret;
  readonly now: Date;
  /** How long a new key is published before it signs (resource servers' JWKS caches must see it first). */
  readonly publishDelayMs: number;
  /**
   * How long the previous key must stay published after the current one starts signing (longest token lifetime plus
   * skew). Secrets Manager keeps one AWSPREVIOUS, so a rotation sooner than this would drop a key whose tokens live.
   */
  readonly previousOverlapMs: number;
  readonly log: Log;
  /** Where each completed rotation is recorded (the `signing-key` system audit stream). */
  readonly audit?: SystemAuditLog | undefined;
  /**
   * Where the public halves are published for the functions that only verify: written at createSecret and setSecret (the
   * pending key) and at finishSecret (the new current and previous keys), always as a mirror of the secret's stages. Undefined only where
   * nothing reads a public mirror.
   */
  readonly publicKeys: PublicKeyStore | undefined;
}

async function publish(ctx: RotationContext): Promise<void> {
  if (ctx.publicKeys) await publishPublicKeys(ctx.secret, ctx.publicKeys);
}

export const SIGNING_KEY_AUDIT_STREAM = 'signing-key';

/**
 * Records a completed rotation once: after the promotion, or on a finishSecret retried after the promotion but before the
 * event was written.
 */
async function recordRotation(token: string, ctx: RotationContext): Promise<void> {
  if (!ctx.audit) return;
  const events = await ctx.audit.listSystemAudit(SIGNING_KEY_AUDIT_STREAM);
  if (events.some((e) => e.type === 'signing_key.rotated' && e.data['version'] === token)) return;
  const key = safeKey(await ctx.secret.read({ versionId: token }));
  await ctx.audit.appendSystemAudit(SIGNING_KEY_AUDIT_STREAM, {
    type: 'signing_key.rotated',
    at: ctx.now.toISOString(),
    actor: { kind: 'system', id: 'signing-key-rotation' },
    data: { version: token, kid: key?.kid, signsFrom: key?.activatesAt ?? ctx.now.toISOString() },
  });
}

/**
 * One step of Secrets Manager's rotation protocol for the token-signing key. Every step is idempotent: Secrets Manager
 * retries steps and may call one twice. A version that is already AWSCURRENT has nothing left to do.
 */
export async function rotateSigningKey(step: RotationStep, token: string, ctx: RotationContext): Promise<void> {
  const target = await stepTarget(ctx.secret, step, token);
  if (target.alreadyCurrent) {
    if (step === 'finishSecret') {
      await publish(ctx);
      await recordRotation(token, ctx);
    } else ctx.log.info('rotation step skipped: version already current', { step, version: token });
    return;
  }
  const current = { versionId: target.currentVersionId };

  switch (step) {
    case 'createSecret': {
      if ((await ctx.secret.read({ versionId: token })) !== undefined) return;
      const currentKey = await ctx.secret.read({ versionId: current.versionId });
      const activatesAt = currentKey === undefined ? undefined : safeActivation(currentKey);
      if (activatesAt !== undefined && ctx.now.getTime() < activatesAt + ctx.previousOverlapMs) {
        throw new RotationError(
          'rotation_too_soon',
          `The current key signs since ${new Date(activatesAt).toISOString()}; rotating before ${new Date(activatesAt + ctx.previousOverlapMs).toISOString()} would retire the previous key while its tokens live.`,
        );
      }
      // Published (as AWSPENDING) from now on; it signs only from activatesAt, after JWKS caches have picked it up.
      const key = await generateSigningKey(new Date(ctx.now.getTime() + ctx.publishDelayMs));
      await ctx.secret.putPending(token, JSON.stringify(key));
      await publish(ctx);
      ctx.log.info('signing key created', { version: token, kid: key.kid, activatesAt: key.activatesAt });
      return;
    }
    case 'setSecret':
      // The pending key is published before it signs, to the public store the verify-only functions read (again: a
      // createSecret retried after putPending returns early and would not publish).
      await publish(ctx);
      return;
    case 'testSecret': {
      const text = await ctx.secret.read({ versionId: token });
      if (text === undefined) {
        // Secrets Manager's own check when a schedule is created without rotating: a pending version with no value.
        // Nothing to test; finishSecret refuses to promote a version that holds no key, so this cannot go live.
        ctx.log.info('rotation configuration test: pending version holds no value', { version: token });
        return;
      }
      try {
        const key = parseSigningKey(text ?? '');
        const privateKey = await importJWK({ ...(key.privateJwk as JWK), alg: SIGNING_ALG }, SIGNING_ALG);
        const publicKey = await importJWK({ ...(key.publicJwk as JWK), alg: SIGNING_ALG }, SIGNING_ALG);
        const probe = await new SignJWT({ probe: token }).setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid }).sign(privateKey);
        const { payload } = await jwtVerify(probe, publicKey, { algorithms: [SIGNING_ALG] });
        if (payload['probe'] !== token) throw new Error('probe mismatch');
        if (key.activatesAt !== undefined && Number.isNaN(Date.parse(key.activatesAt))) throw new Error('activatesAt is not a date');
      } catch (cause) {
        throw new RotationError('test_failed', `The pending signing key does not sign and verify: ${(cause as Error).message}`, { cause });
      }
      return;
    }
    case 'finishSecret': {
      const text = await ctx.secret.read({ versionId: token });
      try {
        parseSigningKey(text ?? '');
      } catch (cause) {
        throw new RotationError('test_failed', `Version ${token} holds no signing key; AWSCURRENT stays where it is.`, { cause });
      }
      await ctx.secret.promote(token, current.versionId);
      ctx.log.info('signing key promoted', { version: token, previous: current.versionId });
      await publish(ctx);
      await recordRotation(token, ctx);
      return;
    }
    default:
      throw new RotationError('unknown_step', `Unknown rotation step ${String(step)}`);
  }
}

/** A stored key, or undefined for a value that is not one (the placeholder the stack creates the secret with). */
function safeKey(text: string | undefined): SigningKey | undefined {
  try {
    return parseSigningKey(text ?? '');
  } catch {
    return undefined;
  }
}

/** When a stored key starts signing, or undefined (seeded keys sign at once; the placeholder is not a key). */
function safeActivation(text: string): number | undefined {
  const at = safeKey(text)?.activatesAt;
  return at === undefined ? undefined : Date.parse(at);
}

/** Runs the four steps in order, as Secrets Manager does (local mode and tests). */
export async function rotateSigningKeyFully(token: string, ctx: RotationContext): Promise<void> {
  for (const step of ROTATION_STEPS) await rotateSigningKey(step, token, ctx);
}
