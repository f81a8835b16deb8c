import { configHash, defaultChannels } from '../../autoslim';

const FMNIST = { inputSize: 28, numClasses: 10 };

test('configHash is sha256 hex of "<architecture>:<widths>", pinned because candidates are stored under it', () => {
  const channels = defaultChannels('mbv2-fmnist', 1.0, FMNIST);
  // sha256('mbv2-fmnist:16,16,96,24,144,24,144,32,192,32,192,32,192,64,384,64,384,96,320,10')
  expect(configHash('mbv2-fmnist', channels)).toBe('bc05ab362b23ddc8e6842189c04465999d80d6a309ae48aad534062a06493845');
  expect(configHash('mbv2-fmnist', defaultChannels('mbv2-fmnist', 0.5, FMNIST))).not.toBe(configHash('mbv2-fmnist', channels));
});
