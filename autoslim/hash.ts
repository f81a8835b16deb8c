import { createHash } from 'node:crypto';
import { ArchitectureName } from './architecture';
import { ChannelList } from './channels';

/** Content identity of a candidate: sha256 hex of `<architecture>:<w0>,<w1>,…`. */
export function configHash(arch: ArchitectureName, channels: ChannelList): string {
  return createHash('sha256').update(`${arch}:${channels.join(',')}`).digest('hex');
}
