import type { SystemAuditLog } from '../../core/ports/system-audit.js';
import type { StoreOperation } from '../../core/services.js';

/** An operation of a port over the registry table: what lambdas/contracts/functions.ts lists per function, and the system audit streams'. */
export type RegistryOperationName = StoreOperation | keyof SystemAuditLog;

/**
 * A DynamoDB API action a registry operation sends. TransactWriteItems has no IAM action of its own: DynamoDB authorises
 * each item of a transaction as the PutItem, UpdateItem or DeleteItem it is.
 */
export type TableAction = 'GetItem' | 'Query' | 'Scan' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

/** The actions that only read, so need `table:read`; the rest need `table:write`. */
export const READ_ACTIONS: readonly TableAction[] = ['GetItem', 'Query', 'Scan'];

/** What one operation sends: actions on the table itself, and on the table's `attention` index. */
export interface OperationAccess {
  readonly table: readonly TableAction[];
  readonly attentionIndex?: readonly TableAction[];
}

/**
 * The DynamoDB actions of every registry operation (the adapters in ./table/), from which the stack grants each function
 * exactly the actions of the operations it lists. It must name every action an operation can send down any of its
 * branches: an action missing here is AccessDenied in AWS only.
 */
export const REGISTRY_OPERATION_ACCESS: Readonly<Record<RegistryOperationName, OperationAccess>> = {
  createConsumer: { table: ['PutItem'] },
  getConsumer: { table: ['GetItem'] },
  updateConsumer: { table: ['UpdateItem', 'PutItem', 'DeleteItem'] },
  listAudit: { table: ['Query'] },
  getIdempotency: { table: ['GetItem'] },
  listConsumers: { table: ['Scan'] },
  recordScopes: { table: ['UpdateItem'] },
  recordUse: { table: ['UpdateItem'] },
  claimOnce: { table: ['PutItem'] },
  hasMarker: { table: ['GetItem'] },
  createReview: { table: ['PutItem', 'UpdateItem'] },
  getReview: { table: ['GetItem'] },
  decideReview: { table: ['UpdateItem', 'PutItem'] },
  renewReviewLinks: { table: ['UpdateItem', 'PutItem'] },
  markReviewDelivered: { table: ['UpdateItem'] },
  getRequest: { table: ['GetItem'] },
  listRequests: { table: ['Query'] },
  listAllRequests: { table: ['Scan'] },
  appendSystemAudit: { table: ['Query', 'PutItem'] },
  listSystemAudit: { table: ['Query'] },
  listDue: { table: [], attentionIndex: ['Query'] },
  rearm: { table: ['UpdateItem'] },
  getPolicyRollout: { table: ['GetItem'] },
  savePolicyRollout: { table: ['PutItem'] },
  recordTokenRevocation: { table: ['PutItem'] },
  listRevocations: { table: ['Query'] },
};

/** The union of the actions of `operations`, on the table and on the index, each sorted. */
export function accessOf(operations: readonly RegistryOperationName[]): { readonly table: TableAction[]; readonly attentionIndex: TableAction[] } {
  const table = new Set<TableAction>();
  const attentionIndex = new Set<TableAction>();
  for (const name of operations) {
    const access = REGISTRY_OPERATION_ACCESS[name];
    access.table.forEach((action) => table.add(action));
    access.attentionIndex?.forEach((action) => attentionIndex.add(action));
  }
  return { table: [...table].sort(), attentionIndex: [...attentionIndex].sort() };
}
