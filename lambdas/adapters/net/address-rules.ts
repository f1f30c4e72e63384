import { isIPv4, isIPv6 } from 'node:net';

/** IPv4 ranges no partner key set lives in: RFC 6890 special-purpose blocks (the bank's and the cloud's own networks among them). */
const IPV4_REFUSED: ReadonlyArray<readonly [string, number, string]> = [
  ['0.0.0.0', 8, 'an unspecified ("this network") address'],
  ['10.0.0.0', 8, 'a private address (RFC 1918)'],
  ['100.64.0.0', 10, 'a shared carrier-grade NAT address (RFC 6598)'],
  ['127.0.0.0', 8, 'a loopback address'],
  ['169.254.0.0', 16, 'a link-local address (the cloud metadata service lives here)'],
  ['172.16.0.0', 12, 'a private address (RFC 1918)'],
  ['192.0.0.0', 24, 'an IETF protocol address'],
  ['192.0.2.0', 24, 'a documentation address'],
  ['192.168.0.0', 16, 'a private address (RFC 1918)'],
  ['198.18.0.0', 15, 'a benchmarking address'],
  ['198.51.100.0', 24, 'a documentation address'],
  ['203.0.113.0', 24, 'a documentation address'],
  ['224.0.0.0', 4, 'a multicast address'],
  ['240.0.0.0', 4, 'a reserved or broadcast address'],
];

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

function ipv4Problem(address: string): string | undefined {
  const n = ipv4Number(address);
  for (const [base, bits, label] of IPV4_REFUSED) {
    const size = 2 ** (32 - bits);
    const start = ipv4Number(base);
    if (n >= start && n < start + size) return label;
  }
  return undefined;
}

/** The 16 bytes of an IPv6 address (`isIPv6` has accepted it), embedded dotted IPv4 included. */
function ipv6Bytes(address: string): number[] {
  let text = address.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = ipv4Number(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${((n >>> 16) & 0xffff).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return groups.flatMap((g) => {
    const v = parseInt(g, 16);
    return [v >> 8, v & 0xff];
  });
}

function ipv6Problem(address: string): string | undefined {
  const b = ipv6Bytes(address);
  const zeros = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const embedded = () => `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  if (zeros(0, 16)) return 'an unspecified address';
  if (zeros(0, 15) && b[15] === 1) return 'a loopback address';
  // IPv4-mapped (::ffff:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) reach the IPv4 address they carry.
  if (zeros(0, 10) && b[10] === 0xff && b[11] === 0xff) return ipv4Problem(embedded()) && `an IPv4-mapped form of ${ipv4Problem(embedded())}`;
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && zeros(4, 12))
    return ipv4Problem(embedded()) && `a NAT64 form of ${ipv4Problem(embedded())}`;
  if ((b[0]! & 0xfe) === 0xfc) return 'a unique local (private) address';
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'a link-local address';
  if (b[0] === 0xff) return 'a multicast address';
  // 6to4 carries an IPv4 address in bits 16-47.
  if (b[0] === 0x20 && b[1] === 0x02) {
    const v4 = `${b[2]}.${b[3]}.${b[4]}.${b[5]}`;
    return ipv4Problem(v4) && `a 6to4 form of ${ipv4Problem(v4)}`;
  }
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x0d && b[3] === 0xb8) return 'a documentation address';
  // Everything else outside global unicast (2000::/3): the rest of the IPv4-compatible and reserved space.
  if ((b[0]! & 0xe0) !== 0x20) return 'not a global unicast address';
  return undefined;
}

/**
 * Why a fetch must not connect to `address`, or undefined when it may: the address is inside a private network, the
 * machine itself, the link (the cloud's instance metadata at 169.254.169.254), multicast, unspecified, reserved, or an
 * IPv6 form of one of those. Anything that is not an IP address is refused too.
 */
export function addressProblem(address: string): string | undefined {
  if (isIPv4(address)) return ipv4Problem(address);
  if (isIPv6(address)) return ipv6Problem(address);
  return 'not an IP address';
}
