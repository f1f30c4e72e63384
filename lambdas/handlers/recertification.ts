import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ServiceError } from '../core/errors.js';
import { attest, openAttestation, type AttestationChoice, type AttestationView, type AttestServices } from '../core/recertification/attest.js';
import { RecertificationError } from '../core/recertification/errors.js';
import { attestationLinkKeysFor } from '../core/recertification/link.js';
import { RequestError } from '../core/requests/errors.js';
import { dateTimeFromNow, formatDateTime } from '../core/review/format.js';
import { escapeHtml, page } from '../core/review/html.js';
import type { BaseServices, Services } from '../core/services.js';
import { randomToken } from '../core/util/hash.js';
import { bodyText, header, mediaType } from './http/event.js';
import { httpHandler, type HttpLambda } from './http/http-handler.js';
import { cookie, linkPage, sameSecret } from './http/link-page.js';
import { permanentServiceCause, recertificationErrorStatus, requestErrorStatus } from './http/to-response.js';

const CSRF_COOKIE = 'gh_rcsrf';

function attestationPage(view: AttestationView, services: BaseServices, token: string, csrf: string): string {
  const { consumer, link, unused } = view;
  const now = services.clock.now();
  const used = consumer.usedScopes ?? [];
  const scopeRows = consumer.scopes
    .map((s) => {
      const description = services.policy.document.scopes[s]?.description ?? '';
      const wasUsed = used.includes(s);
      const box = wasUsed ? '' : `<label><input type="checkbox" name="drop" value="${escapeHtml(s)}"> drop</label>`;
      return `<tr><th>${escapeHtml(s)}</th><td>${escapeHtml(description)}</td><td>${wasUsed ? 'used' : '<strong>never used</strong>'}</td><td>${box}</td></tr>`;
    })
    .join('');
  const hidden = `<input type="hidden" name="t" value="${escapeHtml(token)}"><input type="hidden" name="csrf" value="${escapeHtml(csrf)}">`;
  return page(
    `Periodic access review: ${consumer.clientName}`,
    `<p>You, <strong>${escapeHtml(link.contact)}</strong>, are a contact of <strong>${escapeHtml(consumer.clientName)}</strong> (${escapeHtml(consumer.clientId)}). Confirm that its access is still needed by <strong>${escapeHtml(dateTimeFromNow(view.suspendAt, now))}</strong>, or it is suspended.</p>
<h2>What it holds</h2><table>
<tr><th>Purpose</th><td>${escapeHtml(consumer.purpose)}</td></tr>
<tr><th>Data classes</th><td>${escapeHtml(consumer.dataClasses.join(', '))}</td></tr>
<tr><th>Grant ends</th><td>${escapeHtml(formatDateTime(consumer.expiresAt))}</td></tr>
<tr><th>Authentication</th><td>${escapeHtml(consumer.authMethod)}</td></tr>
<tr><th>Risk</th><td class="risk-${escapeHtml(consumer.risk)}">${escapeHtml(consumer.risk)}</td></tr>
<tr><th>Last used</th><td>${escapeHtml(consumer.lastUsedAt ? formatDateTime(consumer.lastUsedAt) : 'never')}</td></tr>
</table>
<h2>Scopes and what it actually used</h2>
${unused.length > 0 ? `<p class="warn">Never requested in a token: ${escapeHtml(unused.join(', '))}. Drop what it does not need.</p>` : '<p>Every granted scope has been used.</p>'}
<form method="post"><input type="hidden" name="action" value="confirm">${hidden}
<table>${scopeRows}</table>
<p>${view.needsReviewer ? 'High risk: a bank reviewer confirms your attestation before the next period starts; dropped scopes end at once.' : 'Your confirmation starts the next period at once; dropped scopes end at once.'}</p>
<button class="approve" type="submit">Confirm access is still needed</button></form>
<form method="post"><input type="hidden" name="action" value="deregister">${hidden}
<p>No longer needed? Deregistering revokes it at once; this cannot be undone.</p>
<label><input type="checkbox" name="sure" value="yes" required> I understand</label><br><button class="deny" type="submit">Deregister</button></form>
<p class="note">Opening this page changed nothing. Your answer is recorded with your address in the audit trail; the link works once.</p>`,
  );
}

function errorPage(error: unknown, services: BaseServices, event: APIGatewayProxyEvent): APIGatewayProxyResult {
  if (error instanceof RecertificationError) {
    if (event.httpMethod === 'POST') {
      services.log.warn('attestation refused', { clientId: event.pathParameters?.['client_id'], code: error.code, origin: header(event, 'origin') ?? null });
    }
    return linkPage(
      recertificationErrorStatus(error),
      page(
        'Access review not available',
        `<p class="refusal">${escapeHtml(error.message)}</p><p class="next"><strong>What to do next:</strong> ${escapeHtml(error.next)}</p>`,
      ),
    );
  }
  if (error instanceof RequestError) {
    return linkPage(requestErrorStatus(error), page('Access review not recorded', `<p class="refusal">${escapeHtml(error.message)}</p>`));
  }
  if (error instanceof ServiceError && error.code === 'dependency_unavailable' && !permanentServiceCause(error)) {
    return linkPage(503, page('Try again in a moment', `<p>${escapeHtml(error.message)}</p>`), { 'retry-after': String(error.retryAfterSeconds ?? 10) });
  }
  throw error;
}

const OUTCOME_TEXT = {
  confirmed: 'Thank you: its access is confirmed and the next review period has started.',
  awaiting_confirmation: 'Thank you: a bank reviewer now confirms your attestation; access continues meanwhile.',
  deregistered: 'It is deregistered: no new tokens are issued and tokens already issued are reported inactive.',
} as const;

/** GET /recertifications/{client_id}?t=… shows what a consumer holds and used (changes nothing); POST records the owner's answer. */
export function createRecertificationHandler(services: AttestServices & Pick<Services, 'vault'>): HttpLambda {
  const keys = attestationLinkKeysFor(services);
  const basePath = new URL(services.config.issuer).pathname.replace(/\/$/, '');
  const origin = new URL(services.config.issuer).origin;
  const secure = services.config.issuer.startsWith('https://');

  return httpHandler(services, async (event) => {
    const clientId = event.pathParameters?.['client_id'] ?? '';
    const cookiePath = `Path=${basePath}/recertifications/${encodeURIComponent(clientId)}; HttpOnly; SameSite=Strict`;
    try {
      if (event.httpMethod === 'GET') {
        const token = event.queryStringParameters?.['t'];
        if (!token) throw new RecertificationError('link_invalid', 'This attestation link is incomplete.');
        const view = await openAttestation(services, keys, clientId, token);
        const csrf = randomToken(24);
        return linkPage(200, attestationPage(view, services, token, csrf), {
          'set-cookie': `${CSRF_COOKIE}=${csrf}; ${cookiePath}; Max-Age=3600${secure ? '; Secure' : ''}`,
        });
      }
      if (mediaType(event) !== 'application/x-www-form-urlencoded') throw new RecertificationError('csrf_failed', 'Submit your answer from the review page.');
      const requestOrigin = header(event, 'origin');
      if (requestOrigin !== undefined && requestOrigin !== origin)
        throw new RecertificationError('csrf_failed', 'The answer did not come from the review page.');
      const form = new URLSearchParams(bodyText(event, services.config.maxBodyBytes));
      if (!sameSecret(cookie(event, CSRF_COOKIE), form.get('csrf') ?? undefined)) {
        throw new RecertificationError('csrf_failed', 'The answer did not come from the review page; open the link again.');
      }
      const action = form.get('action');
      let choice: AttestationChoice;
      if (action === 'confirm') choice = { action, dropScopes: form.getAll('drop') };
      else if (action === 'deregister' && form.get('sure') === 'yes') choice = { action };
      else throw new RecertificationError('invalid_choice', 'Choose to confirm, or tick “I understand” and deregister.');
      const { consumer, outcome, scopesRemoved } = await attest(services, keys, { clientId, token: form.get('t') ?? '', choice });
      const dropped = scopesRemoved.length > 0 ? ` Dropped: ${scopesRemoved.join(', ')}.` : '';
      return linkPage(
        200,
        page('Answer recorded', `<p><strong>${escapeHtml(consumer.clientName)}</strong>: ${escapeHtml(OUTCOME_TEXT[outcome] + dropped)}</p>`),
        {
          'set-cookie': `${CSRF_COOKIE}=; ${cookiePath}; Max-Age=0${secure ? '; Secure' : ''}`,
        },
      );
    } catch (error) {
      return errorPage(error, services, event);
    }
  });
}
