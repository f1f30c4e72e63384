import type { HttpHandlerName } from '../contracts/routes.js';
import type { FunctionServices } from '../contracts/functions.js';
import { createAdminHandler } from './admin.js';
import { createDiscoveryHandler } from './discovery.js';
import type { HttpLambda } from './http/http-handler.js';
import type { OAuthPorts } from '../core/oauth/deps.js';
import { createIntrospectionHandler } from './introspection.js';
import { createRegisterHandler, type RegisterPorts } from './register.js';
import { createRegistrationManageHandler } from './registration-manage.js';
import { createRegistrationReadHandler } from './registration-read.js';
import { createReviewHandler } from './review.js';
import { createRecertificationHandler } from './recertification.js';
import { createReviewLinksHandler } from './review-links.js';
import { createRevocationHandler } from './revocation.js';
import { createRevocationListHandler } from './revocation-list.js';
import { createTokenHandler } from './token.js';

/** Ports some handlers take besides Services. */
export type HandlerPorts = RegisterPorts & OAuthPorts;

/** Every HTTP handler by the name the route table uses; local mode builds them all, Lambda one each. */
export const HTTP_HANDLER_FACTORIES: { readonly [N in HttpHandlerName]: (services: FunctionServices<N>, ports: HandlerPorts) => HttpLambda } = {
  register: createRegisterHandler,
  'registration-read': createRegistrationReadHandler,
  'registration-manage': createRegistrationManageHandler,
  token: createTokenHandler,
  introspection: createIntrospectionHandler,
  revocation: createRevocationHandler,
  'revocation-list': createRevocationListHandler,
  review: createReviewHandler,
  recertification: createRecertificationHandler,
  discovery: createDiscoveryHandler,
  admin: createAdminHandler,
  'review-links': createReviewLinksHandler,
};
