import { closest, editDistance } from '../../cli/suggest';

test.each([
  ['', 'run', 3],
  ['run', 'run', 0],
  ['servr', 'server', 1],
  ['expotr', 'export', 1],
  ['kitten', 'sitting', 3],
])('editDistance(%j, %j) is %i', (a, b, distance) => {
  expect(editDistance(a, b)).toBe(distance);
});

test('suggests the nearest known word, a prefix, or nothing', () => {
  const commands = ['serve', 'run', 'profile', 'export', 'dataset', 'worker'];
  expect(closest('expotr', commands)).toBe('export');
  expect(closest('profil', commands)).toBe('profile');
  expect(closest('data', commands)).toBe('dataset');
  expect(closest('rn', commands)).toBe('run');
  expect(closest('deploy', commands)).toBeUndefined();
});
