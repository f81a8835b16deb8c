import { humanCount } from '../../autoslim';

test.each([
  [7_522_000, '7.52M'],
  [312_000, '312k'],
  [1_200_000_000, '1.20G'],
  [9_105_872, '9.11M'],
  [45_600, '45.6k'],
  [1000, '1.00k'],
  [999_999, '1.00M'],
  [999_499, '999k'],
  [2.5e12, '2500G'],
  [950, '950'],
  [0, '0'],
  [12.3456, '12.3'],
  [-4_000_000, '-4.00M'],
])('%s reads %s', (value, shown) => {
  expect(humanCount(value)).toBe(shown);
});

test('never writes exponent notation', () => {
  for (let value = 1; value < 1e13; value *= 7.3) expect(humanCount(value)).not.toMatch(/e/);
});
