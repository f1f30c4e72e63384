import { describe, expect, it } from 'vitest';
import {
  dateFromNow,
  dateTimeFromNow,
  formatDate,
  formatDateTime,
  formatSeconds,
  relativeDay,
  relativeTime,
  sentence,
} from '../../../../lambdas/core/review/format.js';

const NOW = new Date('2026-12-05T23:30:00.000Z');

describe('formatDate and formatDateTime', () => {
  it('write the UTC date in words, without milliseconds or a time zone offset', () => {
    expect(formatDate('2027-03-01T00:30:00.123Z')).toBe('1 March 2027');
    expect(formatDateTime('2027-03-01T10:04:59.999Z')).toBe('1 March 2027 at 10:04 UTC');
  });

  it('read an offset timestamp in UTC', () => {
    expect(formatDateTime('2027-03-01T01:30:00+02:00')).toBe('28 February 2027 at 23:30 UTC');
  });

  it('give back what is not a date as it is', () => {
    expect(formatDate('soon')).toBe('soon');
    expect(formatDateTime('soon')).toBe('soon');
  });
});

describe('relativeDay', () => {
  it.each([
    ['2026-12-05T00:00:00Z', 'today'],
    ['2026-12-06T00:10:00Z', 'tomorrow'],
    ['2026-12-04T23:59:00Z', 'yesterday'],
    ['2027-03-01T10:00:00Z', 'in 86 days'],
    ['2026-11-25T10:00:00Z', '10 days ago'],
  ])('counts calendar days in UTC to %s as %s', (iso, words) => {
    expect(relativeDay(iso, NOW)).toBe(words);
  });
});

describe('relativeTime', () => {
  it.each([
    ['2026-12-08T23:30:00Z', 'in 3 days'],
    ['2026-12-08T23:29:00Z', 'in 3 days'],
    ['2026-12-06T04:45:00Z', 'in 5 hours'],
    ['2026-12-05T23:50:00Z', 'in 20 minutes'],
    ['2026-12-05T23:30:10Z', 'in 1 minute'],
    ['2026-12-05T21:10:00Z', '2 hours ago'],
  ])('reads the time to %s as %s', (iso, words) => {
    expect(relativeTime(iso, NOW)).toBe(words);
  });
});

describe('dateFromNow and dateTimeFromNow', () => {
  it('join the date and how far away it is', () => {
    expect(dateFromNow('2027-03-01T10:00:00Z', NOW)).toBe('1 March 2027, in 86 days');
    expect(dateTimeFromNow('2026-12-08T23:30:00Z', NOW)).toBe('8 December 2026 at 23:30 UTC, in 3 days');
  });
});

describe('formatSeconds', () => {
  it.each([
    [300, '5 minutes'],
    [60, '1 minute'],
    [3600, '1 hour'],
    [5400, '90 minutes'],
    [86_400, '1 day'],
    [90, '90 seconds'],
  ])('writes %i seconds as %s', (seconds, words) => {
    expect(formatSeconds(seconds)).toBe(words);
  });
});

describe('sentence', () => {
  it('capitalises and ends with exactly one full stop', () => {
    expect(sentence('high risk needs 2 approval(s).')).toBe('High risk needs 2 approvals.');
    expect(sentence('medium risk needs 1 approval(s).')).toBe('Medium risk needs 1 approval.');
    expect(sentence('Scope "x" is payment initiation.; ')).toBe('Scope "x" is payment initiation.');
    expect(sentence('no stop')).toBe('No stop.');
    expect(sentence('Really?')).toBe('Really?');
    expect(sentence('  ')).toBe('');
  });
});
