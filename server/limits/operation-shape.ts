import { Kind, type DocumentNode, type FragmentDefinitionNode, type SelectionSetNode } from 'graphql';

/** How big a selection set is once every fragment spread is expanded in place. */
export interface Shape {
  /** Levels of nested fields; a root field alone is 1. */
  readonly depth: number;
  readonly fields: number;
  readonly aliases: number;
  /** Fields of the outermost level (the operation's root fields). */
  readonly rootFields: number;
}

export interface MeasuredDefinition {
  /** `query Name`, `mutation (anonymous)`, `fragment Name`: how an error names it. */
  readonly name: string;
  readonly shape: Shape;
}

const EMPTY: Shape = { depth: 0, fields: 0, aliases: 0, rootFields: 0 };

/**
 * Measures every operation and fragment of a document in time linear in its size: a fragment is
 * measured once however often it is spread, so fragments that spread each other twice, level after
 * level, cannot make the measurement itself exponential. A fragment cycle counts as empty (graphql's
 * own validation refuses it).
 */
export function measureDocument(document: DocumentNode): MeasuredDefinition[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
  }
  const measured = new Map<string, Shape>();
  const inProgress = new Set<string>();

  const fragmentShape = (name: string): Shape => {
    const known = measured.get(name);
    if (known) return known;
    const fragment = fragments.get(name);
    if (!fragment || inProgress.has(name)) return EMPTY;
    inProgress.add(name);
    const shape = selectionShape(fragment.selectionSet);
    inProgress.delete(name);
    measured.set(name, shape);
    return shape;
  };

  const selectionShape = (selectionSet: SelectionSetNode): Shape => {
    let depth = 0;
    let fields = 0;
    let aliases = 0;
    let rootFields = 0;
    for (const selection of selectionSet.selections) {
      let inner: Shape;
      if (selection.kind === Kind.FIELD) {
        const child = selection.selectionSet ? selectionShape(selection.selectionSet) : EMPTY;
        inner = { depth: child.depth + 1, fields: child.fields + 1, aliases: child.aliases + (selection.alias ? 1 : 0), rootFields: 1 };
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        inner = selectionShape(selection.selectionSet);
      } else {
        inner = fragmentShape(selection.name.value);
      }
      depth = Math.max(depth, inner.depth);
      fields += inner.fields;
      aliases += inner.aliases;
      rootFields += inner.rootFields;
    }
    return { depth, fields, aliases, rootFields };
  };

  const result: MeasuredDefinition[] = [];
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION) {
      result.push({ name: `${definition.operation} ${definition.name?.value ?? '(anonymous)'}`, shape: selectionShape(definition.selectionSet) });
    } else if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      // Unused fragments count too: graphql's own validation walks them, so their size costs as much.
      result.push({ name: `fragment ${definition.name.value}`, shape: fragmentShape(definition.name.value) });
    }
  }
  return result;
}
