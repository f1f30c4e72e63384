import type { ChangeRequest } from '../requests/change-request.js';

/** Change requests (update, exception, reinstatement, recertification); they are written with their consumer's change (ConsumerChange.request). */
export interface RequestStore {
  getRequest(clientId: string, requestId: string): Promise<ChangeRequest | undefined>;
  /** A consumer's change requests, oldest first. */
  listRequests(clientId: string): Promise<ChangeRequest[]>;
  /** Every change request, `limit` items examined at a time (an operator's listing; not for request paths). */
  listAllRequests(limit: number, next?: string): Promise<{ readonly requests: readonly ChangeRequest[]; readonly next?: string | undefined }>;
}
