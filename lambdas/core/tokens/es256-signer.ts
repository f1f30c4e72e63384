import { KeyObject, sign } from 'node:crypto';
import type { CryptoKey } from 'jose';

const b64u = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/**
 * Signs JWTs in the JWS compact form (RFC 7515 §3.1) with ES256 (RFC 7518 §3.4) on `node:crypto`. The signature is made
 * in libuv's thread pool (the callback form of `sign`), so the event loop, which bounds how many requests a process
 * serves, only serializes and encodes. The KeyObject and each protected header are prepared once, and the per-call work
 * WebCrypto adds through `jose` (algorithm normalization, key checks, JWT builder) is gone. Verification stays with `jose`.
 */
export class Es256Signer {
  readonly kid: string;
  /** JWS carries ECDSA signatures as R || S (RFC 7518 §3.4), not DER. */
  readonly #signKey: { readonly key: KeyObject; readonly dsaEncoding: 'ieee-p1363' };
  readonly #headers = new Map<string, string>();

  constructor(kid: string, key: CryptoKey | KeyObject) {
    const keyObject = key instanceof KeyObject ? key : KeyObject.from(key);
    // The header says ES256, so anything but a private P-256 key would sign tokens no verifier accepts.
    if (keyObject.type !== 'private' || keyObject.asymmetricKeyType !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
      throw new TypeError('An ES256 signer needs a private P-256 key.');
    }
    this.kid = kid;
    this.#signKey = { key: keyObject, dsaEncoding: 'ieee-p1363' };
  }

  /** The compact JWS of `payload` (serialized with JSON.stringify) under the header `{ alg: 'ES256', typ, kid }`. */
  sign(typ: string, payload: object): Promise<string> {
    let header = this.#headers.get(typ);
    if (header === undefined) {
      header = b64u(JSON.stringify({ alg: 'ES256', typ, kid: this.kid }));
      this.#headers.set(typ, header);
    }
    const signingInput = `${header}.${b64u(JSON.stringify(payload))}`;
    return new Promise((resolve, reject) => {
      sign('sha256', Buffer.from(signingInput, 'utf8'), this.#signKey, (error, signature) => {
        if (error) reject(error);
        else resolve(`${signingInput}.${signature.toString('base64url')}`);
      });
    });
  }
}
