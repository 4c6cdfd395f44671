import { formatDate } from '../../renderers/format/cell-text.ts';

describe('formatDate', () => {
  it.each([
    ['2024-01-02T00:00:00Z', 'date', '2024-01-02'],
    ['2024-01-02T00:00:00Z', 'datetime', '2024-01-02 00:00:00'],
    ['2024-01-02T00:00:00Z', 'string', '2024-01-02'],
    ['2024-01-02T03:04:05Z', 'datetime', '2024-01-02 03:04:05'],
    ['2024-01-02T03:04:05.678Z', 'datetime', '2024-01-02 03:04:05.678'],
    ['2024-01-02T03:04:05.070Z', 'datetime', '2024-01-02 03:04:05.070'],
    ['2024-01-02T03:04:05.678Z', 'date', '2024-01-02'],
    ['1969-12-31T23:59:58.500Z', 'datetime', '1969-12-31 23:59:58.500'],
    ['1969-12-31T00:00:00Z', 'string', '1969-12-31'],
    ['0001-01-01T12:00:00Z', 'datetime', '1-01-01 12:00:00'],
    ['+012345-06-07T08:09:10Z', 'datetime', '12345-06-07 08:09:10'],
    ['-000010-01-01T00:00:00Z', 'date', '-10-01-01'],
  ] as const)('%s as %s → %s', (iso, kind, text) => {
    expect(formatDate(new Date(iso), kind)).toBe(text);
  });

  it('says when a date is invalid', () => {
    expect(formatDate(new Date(Number.NaN), 'datetime')).toBe('Invalid Date');
  });
});
