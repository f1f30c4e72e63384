import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import type { Checksum, SourceData } from '@smithy/types';

/**
 * What lib/bundling.ts puts in Lambda bundles in place of `@smithy/core/checksum`, of which every SDK client Gatehouse
 * bundles imports one name: `Sha256`, the hash and HMAC its SigV4 signer uses. The package's `Sha256` is Node's crypto
 * when `createHash('sha256')` works and a pure-JS SHA-256 otherwise (about 3 KB of every function that calls AWS);
 * Lambda's Node 22 always has it, so this is the native class alone, with the package's behaviour:
 * test/lib/bundle-aliases.test.ts compares digests and signatures with the package's. A client that imported any other
 * name from the package would fail the build on the missing export.
 */
export class Sha256 implements Checksum {
  readonly digestLength = 32;
  readonly #secret: SourceData | undefined;
  #hash: Hash | Hmac;
  #finished = false;

  constructor(secret?: SourceData) {
    this.#secret = secret;
    this.#hash = this.#create();
  }

  update(data: Uint8Array | string): void {
    if (this.#finished) throw new Error('Attempted to update an already finished hash.');
    this.#hash.update(data);
  }

  /** The digest so far; a plain hash can go on being updated after it, an HMAC cannot (as in the package). */
  async digest(): Promise<Uint8Array> {
    let digest: Buffer;
    if (this.#secret) {
      this.#finished = true;
      digest = this.#hash.digest();
    } else {
      digest = (this.#hash as Hash).copy().digest();
    }
    return new Uint8Array(digest.buffer, digest.byteOffset, digest.byteLength);
  }

  reset(): void {
    this.#hash = this.#create();
    this.#finished = false;
  }

  #create(): Hash | Hmac {
    return this.#secret ? createHmac('sha256', toKey(this.#secret)) : createHash('sha256');
  }
}

function toKey(data: SourceData): string | Buffer {
  if (typeof data === 'string') return data;
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
