import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { RevocationList, Revocations, RevokedConsumer, RevokedToken } from '../../../core/revocation/revocation-list.js';
import { keys } from '../table-schema.js';
import { queryAll, type RegistryTable, send, strip } from './table.js';

/** A later entry for the same consumer replaces the earlier one: its `since` is later, so it refuses more. */
export function revokedConsumerItem(entry: RevokedConsumer): Record<string, unknown> {
  return { ...keys.revokedConsumer(entry.clientId), kind: 'revocation', ...entry, ttl: entry.until };
}

async function recordTokenRevocation(t: RegistryTable, token: RevokedToken): Promise<void> {
  await send(() => t.db.send(new PutCommand({ TableName: t.name, Item: { ...keys.revokedToken(token.jti), kind: 'revocation', ...token, ttl: token.exp } })));
}

async function listRevocations(t: RegistryTable, now: Date): Promise<Revocations> {
  const nowS = Math.floor(now.getTime() / 1000);
  const live = async (prefix: string) => (await queryAll(t, keys.revocationsPartition, prefix)).filter((item) => Number(item['ttl']) >= nowS);
  const [tokens, consumers] = await Promise.all([live(keys.revokedTokenPrefix), live(keys.revokedConsumerPrefix)]);
  return {
    tokens: tokens.map((item) => ({ jti: String(item['jti']), exp: Number(item['exp']) })),
    consumers: consumers.map((item) => strip<RevokedConsumer>(item)),
  };
}

/** The revocation list: one partition of the registry table (consumers are added by consumer-change.ts, in the change's transaction). */
export function dynamoRevocations(t: RegistryTable): RevocationList {
  return {
    recordTokenRevocation: recordTokenRevocation.bind(undefined, t),
    listRevocations: listRevocations.bind(undefined, t),
  };
}
