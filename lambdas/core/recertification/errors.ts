import { GatehouseError } from '../errors.js';

export type RecertificationErrorCode = 'link_invalid' | 'link_expired' | 'already_attested' | 'csrf_failed' | 'invalid_choice' | 'not_active';

/** What the owner can do about each refusal, unless the refusal knows better. */
const NEXT: Record<RecertificationErrorCode, string> = {
  link_invalid:
    'Open the link exactly as it arrived in your recertification email (some mail programs break long links). If it still fails, ask the bank’s API security team.',
  link_expired: 'The attestation period has ended. Ask the bank’s API security team how to restore access.',
  already_attested: 'Nothing more is needed from you.',
  csrf_failed: 'Open the link from your recertification email again and answer on that page.',
  invalid_choice: 'Go back, check your choice and submit again.',
  not_active: 'Nothing can be attested for this consumer now. Ask the bank’s API security team if this is unexpected.',
};

/** A refused attestation; rendered as an HTML page for the owner (the recertification routes), never a 5xx. */
export class RecertificationError extends GatehouseError<RecertificationErrorCode> {
  override readonly name = 'RecertificationError';
  /** What the person should do now, in one or two sentences. */
  readonly next: string;

  constructor(code: RecertificationErrorCode, message: string, options?: { cause?: unknown; next?: string }) {
    super(code, message, options);
    this.next = options?.next ?? NEXT[code];
  }
}
