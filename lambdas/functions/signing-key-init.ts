import { createSigningKeyInitHandler } from '../handlers/signing-key-init.js';

/** Lambda entry point of the custom resource that seeds the first token-signing key. */
export const handler = createSigningKeyInitHandler();
