import { ArchitectureSpec } from './architectures/spec';
import { mobilenetV1 } from './architectures/mobilenet-v1';
import { mbv2Fmnist, mnasnet, mobilenetV2 } from './architectures/inverted-residual';
import { resnet50, resnetCifar } from './architectures/resnet';
import { AutoSlimError } from './errors';

export const ARCHITECTURE_NAMES = [
  'mobilenet-v1',
  'mobilenet-v2',
  'mnasnet',
  'resnet-50',
  'mbv2-fmnist',
  'resnet-cifar',
] as const;

export type ArchitectureName = (typeof ARCHITECTURE_NAMES)[number];

const SPECS: Readonly<Record<ArchitectureName, ArchitectureSpec>> = {
  'mobilenet-v1': mobilenetV1,
  'mobilenet-v2': mobilenetV2,
  mnasnet,
  'resnet-50': resnet50,
  'mbv2-fmnist': mbv2Fmnist,
  'resnet-cifar': resnetCifar,
};

export interface ArchitectureInfo {
  readonly name: ArchitectureName;
  readonly description: string;
  readonly defaultInputSize: number;
  readonly inputChannels: number;
  readonly defaultNumClasses: number;
  /** Entries of a channel list in the reference layout, the class count included. */
  readonly listLength: number;
  readonly defaultStartWidth: number;
}

export function parseArchitecture(name: string): ArchitectureName {
  const known = ARCHITECTURE_NAMES.find((n) => n === name);
  if (known === undefined) {
    throw new AutoSlimError('architecture', 'choice', `unknown architecture '${name}'; the architectures are ${ARCHITECTURE_NAMES.join(', ')}`);
  }
  return known;
}

export function architectureInfo(name: ArchitectureName): ArchitectureInfo {
  const { description, defaultInputSize, inputChannels, defaultNumClasses, listLength, defaultStartWidth } = specOf(name);
  return { name, description, defaultInputSize, inputChannels, defaultNumClasses, listLength, defaultStartWidth };
}

/** Callers type their names statically; a name from outside goes through parseArchitecture. */
export function specOf(name: ArchitectureName): ArchitectureSpec {
  return SPECS[parseArchitecture(name)];
}
