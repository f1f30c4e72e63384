import { describe, expect, it } from 'vitest';
import { addressProblem } from '../../../../lambdas/adapters/net/address-rules.js';

describe('addressProblem', () => {
  it.each([
    ['10.0.0.1', 'a private address (RFC 1918)'],
    ['172.31.255.255', 'a private address (RFC 1918)'],
    ['192.168.1.1', 'a private address (RFC 1918)'],
    ['100.64.0.1', 'a shared carrier-grade NAT address (RFC 6598)'],
    ['127.0.0.1', 'a loopback address'],
    ['169.254.169.254', 'a link-local address (the cloud metadata service lives here)'],
    ['0.0.0.0', 'an unspecified ("this network") address'],
    ['224.0.0.1', 'a multicast address'],
    ['255.255.255.255', 'a reserved or broadcast address'],
    ['::', 'an unspecified address'],
    ['::1', 'a loopback address'],
    ['::ffff:127.0.0.1', 'an IPv4-mapped form of a loopback address'],
    ['::ffff:a9fe:a9fe', 'an IPv4-mapped form of a link-local address (the cloud metadata service lives here)'],
    ['64:ff9b::10.0.0.1', 'a NAT64 form of a private address (RFC 1918)'],
    ['2002:a00:1::', 'a 6to4 form of a private address (RFC 1918)'],
    ['fc00::1', 'a unique local (private) address'],
    ['fd12:3456::1', 'a unique local (private) address'],
    ['fe80::1', 'a link-local address'],
    ['fe80::1%eth0', 'a link-local address'],
    ['ff02::1', 'a multicast address'],
    ['::127.0.0.1', 'not a global unicast address'],
    ['2001:db8::1', 'a documentation address'],
    ['keys.example', 'not an IP address'],
  ])('refuses %s as %s', (address, problem) => {
    expect(addressProblem(address)).toBe(problem);
  });

  it.each(['93.184.215.14', '8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001:82b::200e', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (address) => {
      expect(addressProblem(address)).toBeUndefined();
    },
  );
});
