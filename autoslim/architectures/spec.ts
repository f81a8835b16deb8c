import { NetworkPlan } from '../plan';

/** What autoslim/ knows about one architecture: its list layout, default widths and topology. */
export interface ArchitectureSpec {
  readonly description: string;
  readonly defaultInputSize: number;
  readonly inputChannels: number;
  readonly defaultNumClasses: number;
  /** Entries of a channel list, the class count included. */
  readonly listLength: number;
  /** The width multiplier AutoSlim starts its supernet from (AUTOSLIM.md §1). */
  readonly defaultStartWidth: number;
  /** The reference default list for a width multiplier, class count last. */
  defaultChannels(width: number, numClasses: number): number[];
  /** The topology a channel list of this layout decides (expand convs, shortcuts). */
  plan(structure: readonly number[]): NetworkPlan;
}
