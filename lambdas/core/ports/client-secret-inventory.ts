/** A client secret as the store lists it: whose it is and when it was created. */
export interface ListedClientSecret {
  readonly clientId: string;
  readonly createdAt: Date;
}

/** One page of the listing; `next` is absent on the last page. */
export interface ClientSecretPage {
  readonly secrets: readonly ListedClientSecret[];
  readonly next?: string | undefined;
}

/**
 * The client secrets this deployment's store holds, a page at a time (those already scheduled for deletion left out), so
 * that the sweep can find secrets whose registration never committed.
 */
export interface ClientSecretInventory {
  listClientSecrets(next?: string): Promise<ClientSecretPage>;
}
