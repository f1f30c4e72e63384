import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ses from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';

/** The domain part of an email address (`gatehouse@bank.example` → `bank.example`). */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}

/**
 * Whether SES lets `from` send through `identity`: the identity is the address itself, its domain, or a parent domain
 * of it (a verified domain covers its subdomains).
 */
export function identityCovers(identity: string, from: string): boolean {
  const id = identity.toLowerCase();
  if (id.includes('@')) return id === from.toLowerCase();
  const domain = domainOf(from);
  return domain === id || domain.endsWith(`.${id}`);
}

export interface MailSenderProps {
  /** Sender address of every Gatehouse email; IAM allows sending from this address only (`ses:FromAddress`). */
  readonly from: string;
  /**
   * The verified SES identity `from` sends through: the address itself or its (parent) domain.
   * @default - the domain of `from`
   */
  readonly identity?: string;
  /**
   * Whether this stack creates the SES identity. Banks usually verify SES identities centrally (DNS, DKIM), so by
   * default Gatehouse only refers to it.
   * @default false
   */
  readonly createIdentity?: boolean;
  /**
   * The SES configuration set the identity sends with (its default configuration set, or one the account applies). SES
   * then authorises `ses:SendEmail` on the configuration set as well as the identity, so the grant covers both.
   * @default - none
   */
  readonly configurationSet?: string;
}

/**
 * The SES sender of Gatehouse notifications (review requests, outcomes). Grants `ses:SendEmail` on the one identity and
 * only with the configured sender address.
 */
export class MailSender extends Construct {
  /** The sender address (`GATEHOUSE_MAIL_FROM`). */
  public readonly from: string;
  /** The SES identity: created here when `createIdentity` is set, otherwise a reference to the verified one. */
  public readonly identity: ses.IEmailIdentity;
  /** The configuration set's name, when one is configured. */
  public readonly configurationSet?: string;

  constructor(scope: Construct, id: string, props: MailSenderProps) {
    super(scope, id);
    const identity = props.identity ?? domainOf(props.from);
    if (!identityCovers(identity, props.from)) {
      throw new Error(`MailSender: the SES identity ${identity} does not cover the sender ${props.from} (use the address itself or its domain)`);
    }
    this.from = props.from;
    this.configurationSet = props.configurationSet;
    this.identity = props.createIdentity
      ? new ses.EmailIdentity(this, 'Identity', { identity: identity.includes('@') ? ses.Identity.email(identity) : ses.Identity.domain(identity) })
      : ses.EmailIdentity.fromEmailIdentityName(this, 'Identity', identity);
  }

  /**
   * Allows sending email through the identity from the sender address only. SES v2 `SendEmail` (simple and raw content
   * alike) is authorised by `ses:SendEmail`; `ses:SendRawEmail` is the SES v1 API, which Gatehouse does not call.
   */
  public grantSend(grantee: iam.IGrantable): iam.Grant {
    const configurationSet =
      this.configurationSet === undefined
        ? []
        : [Stack.of(this).formatArn({ service: 'ses', resource: 'configuration-set', resourceName: this.configurationSet })];
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['ses:SendEmail'],
      resourceArns: [this.identity.emailIdentityArn, ...configurationSet],
      conditions: { StringEquals: { 'ses:FromAddress': this.from } },
    });
  }
}
