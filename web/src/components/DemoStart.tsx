import { useState } from 'preact/hooks';
import { gql } from '../api/client';
import { navigate } from '../route';
import { ErrorBox } from './Status';

const START_DEMO = `mutation StartDemo { startDemo { id } }`;

/** The empty page's way in: a demo that runs on the server in minutes, or the real example's command. */
export function DemoStart() {
  const [state, setState] = useState<{ starting: boolean; error: string | null }>({ starting: false, error: null });
  const start = async () => {
    setState({ starting: true, error: null });
    try {
      const { startDemo } = await gql<{ startDemo: { id: string } }>(START_DEMO);
      // The jobs view shows the pipeline's first job as it runs; moving there rereads the projects.
      navigate('jobs', { project: startDemo.id });
    } catch (error) {
      setState({ starting: false, error: error instanceof Error ? error.message : String(error) });
    }
  };
  return (
    <div class="demo-start">
      <p>
        <button type="button" onClick={start} disabled={state.starting}>
          {state.starting ? 'Starting the demo…' : 'Start a demo'}
        </button>{' '}
        A small project on synthetic images that trains a supernet, slims it under two budgets and retrains what it finds
        against uniform baselines, on this server: a few minutes on a 2-core CPU.
      </p>
      {state.error && <ErrorBox message={`Could not start the demo: ${state.error}`} />}
      <p>
        The real example, Fashion-MNIST end to end (about 35 minutes on a 2-core CPU): <code>npx slimlab run examples/fashion-mnist.yaml</code>
      </p>
    </div>
  );
}
