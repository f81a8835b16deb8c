import { AutoSlimError, architectureInfo, defaultChannels, humanCount, parseArchitecture, parseChannelList, profile } from '../../autoslim';
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

/**
 * MACs and params of a channel list (default: the 1.0x list), per layer, counted here by the same
 * pure profiler the server uses: no server is needed.
 */
export function printProfile(io: Io, request: ProfileRequest): void {
  const architecture = checked(() => parseArchitecture(request.architecture));
  const info = architectureInfo(architecture);
  const options = { inputSize: request.inputSize ?? info.defaultInputSize, numClasses: info.defaultNumClasses };
  const cost = checked(() => {
    const list = request.channels ? parseChannelList(architecture, request.channels, options) : defaultChannels(architecture, 1, options);
    return profile(architecture, list, options, request.convention === 'MMCV' ? 'mmcv' : 'reference');
  });
  const rows = cost.perLayer.map((layer) => [layer.name, layer.op, humanCount(layer.macs), humanCount(layer.params)]);
  io.out(formatTable(['layer', 'op', 'MACs', 'params'], rows, [false, false, true, true]));
  io.out(
    `\ntotal (${request.convention.toLowerCase()} convention): ${humanCount(cost.macs)} MACs (${cost.macs.toLocaleString('en-US')}), ` +
      `${humanCount(cost.params)} params (${cost.params.toLocaleString('en-US')})\n`,
  );
}

/** autoslim/ names the field and the rule; on the command line the field is an option. */
function checked<T>(work: () => T): T {
  try {
    return work();
  } catch (error) {
    if (error instanceof AutoSlimError) throw usageError(error.message.replace(/^(channels|inputSize)\b/, (field) => (field === 'inputSize' ? '--input-size' : '--channels')));
    throw error;
  }
}
