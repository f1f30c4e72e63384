import type { HttpHandlerName } from '../../contracts/routes.js';
import type { Protocol } from './to-response.js';

/**
 * The protocol each handler's refusals are written in: what the handler passes to httpHandler, and what local mode's
 * server uses for the refusals it makes itself before a handler runs (no route, wrong method, body too large).
 */
export const HANDLER_PROTOCOLS: Readonly<Record<HttpHandlerName, Protocol>> = {
  register: 'registration',
  'registration-read': 'registration',
  'registration-manage': 'registration',
  token: 'oauth',
  introspection: 'oauth',
  revocation: 'oauth',
  'revocation-list': 'problem',
  review: 'problem',
  recertification: 'problem',
  discovery: 'problem',
  admin: 'problem',
  'review-links': 'problem',
};
