/**
 * The longest client id looked up. Gatehouse issues far shorter ones; anything longer (or empty) cannot be a client and is
 * refused before the registry sees it, whose keys have a size limit of their own (DynamoDB: 2048 bytes).
 */
export const MAX_CLIENT_ID_LENGTH = 200;

/** Whether `clientId` could name a client at all; checked before any lookup. */
export function plausibleClientId(clientId: string): boolean {
  return clientId.length > 0 && clientId.length <= MAX_CLIENT_ID_LENGTH;
}
