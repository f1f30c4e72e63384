/** Node error codes of a disk that is full, read-only or failing: the condition may pass, the request was not at fault. */
const STORAGE_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EIO']);

/**
 * A local file write that failed for a disk reason, as the transient "ServiceUnavailable" the handlers answer 503 for
 * (a storage outage in AWS is the same); anything else is returned unchanged.
 */
export function asStorageFault(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !STORAGE_FAULTS.has(code)) return error;
  const fault = new Error(`Local storage unavailable (${code}): ${(error as Error).message}`, { cause: error });
  fault.name = 'ServiceUnavailable';
  return fault;
}
