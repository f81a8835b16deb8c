import type { ExecutorCapabilities, ExecutorPlugin, JobKind } from './contract';

export interface RegisteredPlugin {
  readonly plugin: ExecutorPlugin;
  readonly capabilities: ExecutorCapabilities;
}

/** The plugins this process can run, each probed once when registered. */
export class ExecutorRegistry {
  private readonly entries = new Map<string, RegisteredPlugin>();

  async register(plugin: ExecutorPlugin): Promise<RegisteredPlugin> {
    if (this.entries.has(plugin.name)) throw new Error(`executor plugin "${plugin.name}" is already registered`);
    const entry = { plugin, capabilities: await plugin.probe() };
    this.entries.set(plugin.name, entry);
    return entry;
  }

  list(): readonly RegisteredPlugin[] {
    return [...this.entries.values()];
  }

  /** The first registered plugin that runs this kind; registration order is preference order. */
  forKind(kind: JobKind): RegisteredPlugin | undefined {
    return this.list().find((entry) => entry.plugin.kinds.includes(kind));
  }
}
