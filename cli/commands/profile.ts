import type { Api } from '../api';
import { usageError } from '../errors';
import type { Io } from '../io';
import { formatTable } from '../table';

export interface ProfileRequest {
  readonly architecture: string;
  readonly channels?: number[];
  readonly inputSize?: number;
  readonly convention: 'REFERENCE' | 'MMCV';
}

/** Reads the profile command's options; each error names its option. */
export function profileRequest(architecture: string, options: { channels?: string; 'input-size'?: string; convention?: string }): ProfileRequest {
  const convention = (options.convention ?? 'reference').toUpperCase();
  if (convention !== 'REFERENCE' && convention !== 'MMCV') throw usageError(`--convention must be reference or mmcv (got "${options.convention}")`);
  return {
    architecture,
    channels: options.channels === undefined ? undefined : options.channels.split(',').map((entry, i) => positiveInteger(`--channels entry ${i + 1}`, entry)),
    inputSize: options['input-size'] === undefined ? undefined : positiveInteger('--input-size', options['input-size']),
    convention,
  };
}

function positiveInteger(option: string, raw: string): number {
  const value = Number(raw.trim());
  if (raw.trim() === '' || !Number.isInteger(value) || value < 1) throw usageError(`${option} must be a positive integer (got "${raw}")`);
  return value;
}

interface Profile {
  macs: number;
  params: number;
  perLayer: { name: string; op: string; macs: number; params: number }[];
}

/** MACs and params of a channel list, per layer, as the server's profiler counts them. */
export async function printProfile(api: Api, io: Io, request: ProfileRequest): Promise<void> {
  const { profile } = await api.request<{ profile: Profile }>(
    `query($architecture: String!, $channels: [Int!], $inputSize: Int, $convention: CostConvention!) {
      profile(architecture: $architecture, channels: $channels, inputSize: $inputSize, convention: $convention) {
        macs params perLayer { name op macs params } } }`,
    { ...request },
  );
  const rows = profile.perLayer.map((layer) => [layer.name, layer.op, layer.macs.toLocaleString('en-US'), layer.params.toLocaleString('en-US')]);
  io.out(formatTable(['layer', 'op', 'MACs', 'params'], rows, [false, false, true, true]));
  io.out(`\ntotal (${request.convention.toLowerCase()} convention): ${profile.macs.toLocaleString('en-US')} MACs, ${profile.params.toLocaleString('en-US')} params\n`);
}
