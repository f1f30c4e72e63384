import { STAGES, type StagedSecret } from '../ports.js';
import { RotationError } from './errors.js';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** What a rotation step works on: the version that is current now, and whether the step's own version already is. */
export interface StepTarget {
  readonly currentVersionId: string;
  /** The step's version is already AWSCURRENT: the rotation finished, a retried step has nothing left to move. */
  readonly alreadyCurrent: boolean;
}

/**
 * The checks every rotation step starts with (Secrets Manager's template): the secret has an AWSCURRENT version, and any
 * step after createSecret names a version staged AWSPENDING (or one that has already become current).
 */
export async function stepTarget(secret: StagedSecret, step: RotationStep, token: string): Promise<StepTarget> {
  const versions = await secret.versions();
  const current = versions.find((v) => v.stages.includes(STAGES.current));
  if (!current) throw new RotationError('no_current_version', 'The secret has no AWSCURRENT version to rotate from.');
  const version = versions.find((v) => v.versionId === token);
  if (version?.stages.includes(STAGES.current)) return { currentVersionId: current.versionId, alreadyCurrent: true };
  if (step !== 'createSecret' && !version?.stages.includes(STAGES.pending)) {
    throw new RotationError('version_not_pending', `Version ${token} is not staged AWSPENDING.`);
  }
  return { currentVersionId: current.versionId, alreadyCurrent: false };
}
