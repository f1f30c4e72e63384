import { canonicalJson } from '../util/canonical-json.js';
import { sha256Hex } from '../util/hash.js';
import type { LoadedPolicy } from './load.js';
import type { PolicyDocument } from './schema.js';

/**
 * The version of a policy document that has already passed PolicyDocumentSchema: `id@hash`, the hash taken over the
 * canonical JSON of the document. `loadPolicy` calls it after validating; a Lambda function calls it on the document
 * compiled into its bundle, which only `gatehouseEsbuildOptions(policy: LoadedPolicy)` writes, from a policy that
 * `loadPolicy` validated at synth. So the functions need no schema library to read their policy (zod is most of the
 * token function's remaining weight), and they record the same version the stack was synthesized with.
 */
export function compiledPolicy(document: PolicyDocument): LoadedPolicy {
  const hash = sha256Hex(canonicalJson(document)).slice(0, 16);
  return { document, id: document.id, hash, version: `${document.id}@${hash}` };
}
