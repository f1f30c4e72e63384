import { SignatureV4, type SignatureV4CryptoInit, type SignatureV4Init } from '@smithy/signature-v4';
import type { HttpRequest, RequestPresigningArguments, RequestSigningArguments } from '@smithy/types';

/**
 * What lib/bundling.ts puts in Lambda bundles in place of `@aws-sdk/signature-v4-multi-region` (about 4 KB of every
 * function that sends mail; SES v2 is the only client Gatehouse bundles that imports it). That package signs with
 * SigV4, and with SigV4a only for the multi-region signing region `*`, which needs `@aws-sdk/signature-v4-crt` or
 * `@aws-sdk/signature-v4a` loaded beside it. Neither is in any Gatehouse bundle, so the package's own SigV4a path can
 * only throw; and SES v2 asks for SigV4a only for a global endpoint (`EndpointId`), which Gatehouse never sets.
 * This class signs with the same SigV4 signer, tells the client's auth-scheme resolver that no SigV4a implementation is
 * loaded (as the package itself would), and refuses `*` with a clear error. The package's `signWithCredentials` and
 * `presignWithCredentials` serve S3 Express session credentials only and are left out.
 * test/lib/bundle-aliases.test.ts compares its signatures with the package's and sends mail with it from a bundle.
 */
export const SIGV4A_LEFT_OUT = 'SigV4a (multi-region signing) is left out of Gatehouse bundles (lib/bundling.ts): no call Gatehouse makes needs it';

const MULTI_REGION = '*';

function refuseMultiRegion(options: RequestSigningArguments): void {
  if (options.signingRegion === MULTI_REGION) throw new Error(SIGV4A_LEFT_OUT);
}

/** `SignatureV4MultiRegion` for single-region SigV4 only. */
export class SignatureV4MultiRegion {
  readonly #sigv4: SignatureV4;

  /** Which SigV4a implementation is loaded: none (the SES v2 auth-scheme resolver then prefers SigV4). */
  static sigv4aDependency(): 'none' {
    return 'none';
  }

  constructor(options: SignatureV4Init & SignatureV4CryptoInit) {
    this.#sigv4 = new SignatureV4(options);
  }

  async sign(request: HttpRequest, options: RequestSigningArguments = {}): Promise<HttpRequest> {
    refuseMultiRegion(options);
    return this.#sigv4.sign(request, options);
  }

  async presign(request: HttpRequest, options: RequestPresigningArguments = {}): Promise<HttpRequest> {
    refuseMultiRegion(options);
    return this.#sigv4.presign(request, options);
  }
}
