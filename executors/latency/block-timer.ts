import { baselineModel, blockModel } from './block-model';
import { blockInputs, type FusedBlock } from './blocks';
import { measureRelative, type MeasurePolicy, type Relative } from './measure';
import { TimedSession, type ProbeSettings } from './timed-session';

/**
 * Times fused blocks in context (block-model.ts): each against the baseline of its input shapes,
 * one baseline session kept open per distinct set of inputs, relative to the speed reference
 * (reference.ts). Release it when done; the reference is the caller's.
 */
export class BlockTimer {
  private readonly baselines = new Map<string, Promise<TimedSession>>();

  constructor(
    private readonly settings: ProbeSettings,
    private readonly batchSize: number,
    private readonly policy: MeasurePolicy,
    private readonly reference: TimedSession,
  ) {}

  /** What the block adds over its baseline, relative to the reference. */
  async time(block: FusedBlock, signal?: AbortSignal): Promise<Relative> {
    signal?.throwIfAborted();
    const inputs = blockInputs(block, this.batchSize);
    const key = JSON.stringify(inputs);
    let baseline = this.baselines.get(key);
    if (!baseline) {
      baseline = TimedSession.open(baselineModel(block), inputs, this.settings);
      this.baselines.set(key, baseline);
    }
    const subject = await TimedSession.open(blockModel(block), inputs, this.settings);
    try {
      return await measureRelative(subject, await baseline, this.reference, this.policy, signal);
    } finally {
      await subject.release();
    }
  }

  async release(): Promise<void> {
    const sessions = await Promise.allSettled(this.baselines.values());
    this.baselines.clear();
    await Promise.all(sessions.map((s) => (s.status === 'fulfilled' ? s.value.release() : undefined)));
  }
}
