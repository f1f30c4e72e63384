import type { ConsumerStatus } from '../consumer/consumer.js';
import { RegistrationError } from './errors.js';
import type { SoftwareStatement } from './software-statement.js';

/** The statuses a consumer still counts in while it has them: it holds credentials, or may again. */
export const LIVE_STATUSES: readonly ConsumerStatus[] = ['pending_review', 'active', 'suspended'];

/** Counts the consumers registered under a software statement's software_id. */
export interface SoftwareConsumers {
  /** How many consumers whose statement vouched for `softwareId` are in one of LIVE_STATUSES. */
  countLive(softwareId: string): Promise<number>;
}

/**
 * Refuses a registration whose software statement's software_id already has `max` live consumers (the policy's
 * `softwareStatements.maxConsumersPerSoftwareId`), with `unapproved_software_statement`: the statement is valid, but not
 * approved for one more client (RFC 7591 section 3.2.2). Counted before the write, so two registrations racing for the
 * last place may both get it: the limit bounds reuse of a statement, it is not a licence count.
 */
export async function checkSoftwareIdLimit(counter: SoftwareConsumers, statement: SoftwareStatement, max: number): Promise<void> {
  const live = await counter.countLive(statement.softwareId);
  if (live < max) return;
  throw new RegistrationError(
    'unapproved_software_statement',
    `software_id ${statement.softwareId} already has ${live} registered clients, the most the policy allows (${max}); end one, or ask the bank to raise the limit.`,
    { field: 'software_statement' },
  );
}
