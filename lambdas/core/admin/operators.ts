import type { Actor } from '../audit/event.js';

/**
 * One person allowed to operate Gatehouse, with the IAM principals (ARNs or `aws:userid` values) they sign in as. The
 * stack validates the table at synth (lib/app-config.ts) and hands it to the functions as JSON.
 */
export interface OperatorEntry {
  readonly email: string;
  readonly principals: readonly string[];
}

/**
 * An operator as IAM (or local mode's admin token) identified them: `id` is the principal that signed the call, `person`
 * the email of the human behind it when Gatehouse knows it. Audit events and change requests record both.
 */
export interface Operator {
  readonly id: string;
  readonly person?: string | undefined;
}

/** What API Gateway says about the caller of an IAM-authorised route. */
export interface CallerIdentity {
  readonly userArn?: string | null | undefined;
  /** `aws:userid`: `AIDA…` for an IAM user, `AROA…:<role session name>` for an assumed role. */
  readonly caller?: string | null | undefined;
}

// IAM Identity Center names the session after the signed-in user, who cannot choose it; any other role's session name is
// picked by whoever assumes the role, so it identifies nobody.
const SSO_SESSION = /^arn:aws[a-z-]*:sts::\d{12}:assumed-role\/AWSReservedSSO_[^/]+\/([^/]+)$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * The person behind an IAM principal: the operator table first (by ARN or `aws:userid`), then the session name of an IAM
 * Identity Center role when it is an email address. Undefined when neither names anyone.
 */
export function personOf(identity: CallerIdentity, operators: readonly OperatorEntry[]): string | undefined {
  const keys = [identity.userArn, identity.caller].filter((k): k is string => typeof k === 'string' && k.length > 0);
  const listed = operators.find((o) => o.principals.some((p) => keys.includes(p)));
  if (listed) return listed.email.trim().toLowerCase();
  const session = identity.userArn ? SSO_SESSION.exec(identity.userArn)?.[1] : undefined;
  return session !== undefined && EMAIL.test(session) ? session.toLowerCase() : undefined;
}

/** The operator calling, or undefined when the identity names no principal. */
export function resolveOperator(identity: CallerIdentity | undefined, operators: readonly OperatorEntry[]): Operator | undefined {
  const id = identity?.userArn ?? identity?.caller ?? undefined;
  if (!id) return undefined;
  const person = personOf(identity!, operators);
  return person === undefined ? { id } : { id, person };
}

/** The audit actor of an operator's action: the principal, and the person when known. */
export function operatorActor(operator: Operator): Actor {
  return operator.person === undefined ? { kind: 'operator', id: operator.id } : { kind: 'operator', id: operator.id, person: operator.person };
}
