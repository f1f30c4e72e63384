import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { RequestStore } from '../../../core/ports/requests.js';
import type { ChangeRequest } from '../../../core/requests/change-request.js';
import { keys } from '../table-schema.js';
import { queryAll, type RegistryTable, scanKind, send, strip } from './table.js';

async function getRequest(t: RegistryTable, clientId: string, requestId: string): Promise<ChangeRequest | undefined> {
  const out = await send(() => t.db.send(new GetCommand({ TableName: t.name, Key: keys.request(clientId, requestId), ConsistentRead: true })));
  return out.Item ? strip<ChangeRequest>(out.Item) : undefined;
}

async function listRequests(t: RegistryTable, clientId: string): Promise<ChangeRequest[]> {
  const requests = (await queryAll(t, keys.consumer(clientId).pk, keys.requestPrefix)).map((item) => strip<ChangeRequest>(item));
  return requests.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}

async function listAllRequests(t: RegistryTable, limit: number, next?: string): Promise<{ requests: ChangeRequest[]; next?: string }> {
  const out = await scanKind(t, 'request', limit, next);
  return { requests: out.items.map((item) => strip<ChangeRequest>(item)), next: out.next };
}

/** Change requests on the registry table (written with their consumer's change: consumers.ts). */
export function dynamoRequests(t: RegistryTable): RequestStore {
  return {
    getRequest: getRequest.bind(undefined, t),
    listRequests: listRequests.bind(undefined, t),
    listAllRequests: listAllRequests.bind(undefined, t),
  };
}
