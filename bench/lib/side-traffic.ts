/**
 * Traffic the load bench runs beside token issuance: low-risk registrations (approved at once) and full human reviews
 * (a partner request that goes to review, approved from the emailed links as a reviewer's browser would).
 */
import { performance } from 'node:perf_hooks';
import { SignJWT } from 'jose';
import type { LocalControlPlane } from '../../lambdas/adapters/local/control-plane.js';
import type { Email } from '../../lambdas/core/ports.js';
import { postJson, publicRequest, registerPartner } from '../../test/integration/local-mode.js';
import { BenchError } from './common.js';

/** Emails the plane sends, as they are sent (the plane's onEmail hook), with waiting for one that matches. */
export class Inbox {
  readonly #mails: Email[] = [];
  readonly #waiters = new Set<{ match: (m: Email) => boolean; found: (m: Email) => void }>();

  /** Pass as the plane's `onEmail`. */
  readonly receive = (_file: string, email: Email): void => {
    this.#mails.push(email);
    for (const waiter of this.#waiters) {
      if (waiter.match(email)) {
        this.#waiters.delete(waiter);
        waiter.found(email);
      }
    }
  };

  get size(): number {
    return this.#mails.length;
  }

  waitFor(match: (m: Email) => boolean, what: string, timeoutMs = 15_000): Promise<Email> {
    const already = this.#mails.find(match);
    if (already) return Promise.resolve(already);
    return new Promise((ok, fail) => {
      const waiter = {
        match,
        found: (m: Email) => {
          clearTimeout(timer);
          ok(m);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        fail(new BenchError(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }
}

export function basicAuth(clientId: string, secret: string): string {
  // RFC 6749 §2.3.1: form-urlencode id and secret before Basic encoding.
  const enc = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
  return `Basic ${Buffer.from(`${enc(clientId)}:${enc(secret)}`).toString('base64')}`;
}

export interface LowRiskConsumer {
  readonly clientId: string;
  readonly secret: string;
  readonly ms: number;
}

/** Registers a public, low-risk client_secret_basic consumer; the policy approves it at once (201 with a secret). */
export async function registerLowRisk(plane: LocalControlPlane, n: number): Promise<LowRiskConsumer> {
  const t = performance.now();
  const reg = await postJson(`${plane.url}/register`, publicRequest({ client_name: `Load FX widget ${n}`, contacts: [`load-${n}@fintech.example`] }));
  const ms = performance.now() - t;
  const clientId = reg.json['client_id'];
  const secret = reg.json['client_secret'];
  if (reg.status !== 201 || typeof clientId !== 'string' || typeof secret !== 'string') {
    throw new BenchError(`low-risk registration ${n} answered ${reg.status}: ${JSON.stringify(reg.json).slice(0, 300)}`);
  }
  return { clientId, secret, ms };
}

/** Opens a review link like a browser (CSRF cookie and hidden fields), then posts the approval as the page's form does. */
async function approveFromLink(link: string): Promise<{ status: number; ms: number }> {
  const t = performance.now();
  const page = await fetch(link);
  const html = await page.text();
  if (page.status !== 200) throw new BenchError(`review page answered ${page.status}`);
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const fields: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="(t|csrf)" value="([^"]*)">/g)) fields[m[1]!] = m[2]!.replaceAll('&amp;', '&');
  const url = new URL(link);
  const res = await fetch(`${url.origin}${url.pathname}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, origin: url.origin },
    body: new URLSearchParams({ decision: 'approve', comment: 'Checked during the load test', t: fields['t'] ?? '', csrf: fields['csrf'] ?? '' }),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: performance.now() - t };
}

const REVIEW_LINK = /(http:\/\/\S+\/reviews\/\S+)/;

export interface ReviewFlowResult {
  readonly risk: 'medium' | 'high';
  readonly clientId: string;
  /** Registration request to the consumer active (all approvals, workflow steps and emails included). */
  readonly totalMs: number;
  readonly registerMs: number;
  /** Page load plus form post, per approval. */
  readonly approvalMs: readonly number[];
  /** A private_key_jwt token issued after approval (medium risk; high risk needs DPoP and is not asked for one). */
  readonly tokenStatus: number | undefined;
}

/**
 * A partner request (private_key_jwt, signed software statement) that needs review: medium risk (accounts:read, one
 * approval) or high risk (payments:initiate, two). Each round is approved from the emailed link; done when the
 * requester's "approved" email arrives and the registration reads back active.
 */
export async function reviewFlow(plane: LocalControlPlane, inbox: Inbox, risk: 'medium' | 'high', n: number): Promise<ReviewFlowResult> {
  const request = risk === 'medium' ? { scope: 'accounts:read', data_classes: ['confidential'] } : { scope: 'payments:initiate', data_classes: ['payment'] };
  const contact = `review-${n}@fintech.example`;
  const t = performance.now();
  const reg = await registerPartner(plane, { ...request, contacts: [contact] });
  const registerMs = performance.now() - t;
  if (reg.status !== 202)
    throw new BenchError(`${risk}-risk registration ${n} answered ${reg.status}, expected 202: ${JSON.stringify(reg.json).slice(0, 300)}`);
  const clientId = reg.clientId;
  const rounds = risk === 'medium' ? 1 : 2;
  const approvalMs: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const mail = await inbox.waitFor(
      (m) => m.subject.includes('Review needed') && m.subject.includes(`approval ${round} of ${rounds}`) && m.text.includes(clientId),
      `round-${round} review email for ${clientId}`,
    );
    const link = REVIEW_LINK.exec(mail.text)?.[1];
    if (!link) throw new BenchError(`no review link in "${mail.subject}"`);
    const approval = await approveFromLink(link);
    if (approval.status !== 200) throw new BenchError(`approval ${round} of ${clientId} answered ${approval.status}`);
    approvalMs.push(approval.ms);
  }
  await inbox.waitFor((m) => m.to.includes(contact) && m.subject.includes('was approved'), `approval notice for ${clientId}`);
  const read = await fetch(String(reg.json['registration_client_uri']), {
    headers: { authorization: `Bearer ${String(reg.json['registration_access_token'])}` },
  });
  const status = ((await read.json()) as Record<string, unknown>)['status'];
  const totalMs = performance.now() - t;
  if (status !== 'active') throw new BenchError(`${clientId} reads back ${String(status)} after its approvals`);

  let tokenStatus: number | undefined;
  if (risk === 'medium') {
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: reg.kid })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(plane.url)
      .setIssuedAt()
      .setExpirationTime('60s')
      .setJti(`load-${n}-${Date.now()}`)
      .sign(reg.privateKey);
    const res = await fetch(`${plane.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'accounts:read',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }),
    });
    await res.arrayBuffer();
    tokenStatus = res.status;
    if (res.status !== 200) throw new BenchError(`approved ${clientId} got ${res.status} from the token endpoint`);
  }
  return { risk, clientId, totalMs, registerMs, approvalMs, tokenStatus };
}
