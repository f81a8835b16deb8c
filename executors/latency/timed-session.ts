import * as ort from 'onnxruntime-node';
import type { ProviderName } from '../onnx/session';
import { Rng } from '../rng';

export interface ProbeSettings {
  readonly provider: ProviderName;
  /** ORT intra-op threads; fixed per device, since latency depends on it. */
  readonly threads: number;
}

export interface InputSpec {
  readonly name: string;
  readonly dims: readonly number[];
}

/**
 * An ORT session set up as a deployment runs it: every graph optimization (ORT's default, which on
 * x86 includes the NCHWc layout and Conv+Add+activation fusion), a fixed thread count, sequential
 * execution. It times one inference at a time, from the call to the outputs in JS.
 */
export class TimedSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly feeds: Record<string, ort.Tensor>,
  ) {}

  static async open(model: Uint8Array, inputs: readonly InputSpec[], settings: ProbeSettings): Promise<TimedSession> {
    const session = await ort.InferenceSession.create(model, {
      executionProviders: [settings.provider],
      intraOpNumThreads: settings.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
    });
    // Seeded non-zero inputs, so no kernel takes a shortcut that real images would not allow.
    const rng = new Rng(0x5eed);
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of inputs) {
      const data = new Float32Array(input.dims.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = rng.nextFloat();
      feeds[input.name] = new ort.Tensor('float32', data, [...input.dims]);
    }
    return new TimedSession(session, feeds);
  }

  /** Milliseconds of one inference. */
  async time(): Promise<number> {
    const started = performance.now();
    await this.session.run(this.feeds);
    return performance.now() - started;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
