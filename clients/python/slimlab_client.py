#!/usr/bin/env python3
"""A small slimlab client for notebooks and scripts: `requests` for queries, `websockets` for live updates.

Install it from a checkout of slimlab (`pip install ./clients/python`), or copy this one file next to
your notebook. Then:

    from slimlab_client import Slimlab
    client = Slimlab("http://127.0.0.1:4000")
    rows = client.leaderboard(project_id)

As a script (`slimlab-client` once installed, or `python3 slimlab_client.py`):

    slimlab-client leaderboard --project <project-id>
    slimlab-client follow --trajectory <trajectory-id> [--steps N]
    slimlab-client register --project <project-id> --name NAME \\
        --format IDX|IMAGE_FOLDER|CIFAR --path /server/folder [--search-fraction F] [--skip-corrupt]

The server is --server or $SLIMLAB_URL (default http://127.0.0.1:4000). A server that requires
authentication takes an API token: `Slimlab(url, token=...)`, else $SLIMLAB_TOKEN (the only way
when run as a script: a command line is visible to every user in `ps`). Queries need `requests`;
subscriptions (`follow_trajectory`, `register_dataset_live`) also need `websockets` (Debian:
python3-requests, python3-websockets).
"""
import argparse
import asyncio
import json
import os
import sys

import requests

__all__ = ["Slimlab", "GraphQLError", "NotFound", "Unauthenticated", "main"]

LEADERBOARD = """
query($project: ID!, $first: Int!, $after: String) {
  candidates(filter: {projectId: $project}, orderBy: {field: MACS, direction: ASC}, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id configHash source macs params searchAccuracy retrainedTop1Mean retrainedTop1Std retrainedRuns } }
  }
}"""

STEP_FIELDS = "index unitName macs params accuracy accuracyDrop"

STEPS = f"""
subscription($trajectory: ID!) {{
  slimmingProgress(trajectoryId: $trajectory) {{ {STEP_FIELDS} }}
}}"""

TRAJECTORY = f"""
query($id: ID!) {{
  trajectory(id: $id) {{ steps {{ {STEP_FIELDS} }} }}
}}"""

# The newest first: a trajectory whose job is older than these has long finished.
SLIM_JOBS = """
query {
  jobs(filter: {kind: SLIM}, first: 100) { id subjectId state error }
}"""

JOB = """
query($id: ID!) {
  job(id: $id) { id state error }
}"""

JOB_UPDATES = """
subscription($job: ID!) {
  jobUpdated(jobId: $job) { id state error }
}"""

REGISTER = """
mutation($input: RegisterDatasetInput!) {
  registerDataset(input: $input) {
    id name format numClasses classNames trainSize testSize searchSize splitDigest
    inputChannels inputHeight inputWidth sizesVary skippedFiles
    normalization { mean std images } manifest { sha256 bytes }
  }
}"""

REGISTRATION = """
subscription($project: ID!) {
  datasetRegistration(projectId: $project) { name phase done total }
}"""

# How a server closes a WebSocket whose connection_init it refuses (graphql-ws: Unauthorized, Forbidden).
REFUSED_SOCKET = (4401, 4403)

FINISHED = ("SUCCEEDED", "FAILED", "CANCELLED")


class GraphQLError(RuntimeError):
    """The server rejected a query; the message is the server's, `code` its `extensions.code`
    (BAD_USER_INPUT, NOT_FOUND, CONFLICT, FAILED_PRECONDITION, ...) or None."""

    def __init__(self, message, code=None):
        super().__init__(message)
        self.code = code


class NotFound(GraphQLError):
    """An id names nothing the caller can read (code NOT_FOUND)."""

    def __init__(self, message):
        super().__init__(message, "NOT_FOUND")


class Unauthenticated(GraphQLError):
    """The server needs a valid API token, and got none, or one it does not accept."""

    def __init__(self, detail, had_token):
        hint = "pass token= or set SLIMLAB_TOKEN"
        message = f"the server refused the token ({detail}): {hint}" if had_token else f"the server needs a token: {hint}"
        super().__init__(message, "UNAUTHENTICATED")


def _websockets():
    # Imported here, not at the top: plain queries work without the package installed.
    try:
        import websockets
    except ImportError:
        raise ImportError("slimlab subscriptions need the websockets package (Debian: apt install python3-websockets)") from None
    return websockets


class Slimlab:
    """A connection to one slimlab server.

    `url` is the server's address (its GraphQL endpoint is `<url>/graphql`); `token` an API token
    (`slm_...`), else $SLIMLAB_TOKEN; a server in local mode needs none.
    """

    def __init__(self, url="http://127.0.0.1:4000", token=None):
        self.url = url.rstrip("/") + "/graphql"
        # Kept out of repr and error messages: a notebook's output is often shared.
        self._token = token or os.environ.get("SLIMLAB_TOKEN") or None

    def _raise_errors(self, errors):
        codes = [(e.get("extensions") or {}).get("code") for e in errors]
        message = "; ".join(e["message"] for e in errors)
        if "UNAUTHENTICATED" in codes:
            raise Unauthenticated(message, self._token is not None)
        if "NOT_FOUND" in codes:
            raise NotFound(message)
        raise GraphQLError(message, codes[0] if codes else None)

    def query(self, query, **variables):
        """Runs a query or mutation and returns its `data`; raises GraphQLError (NotFound for an
        unknown id) with the server's messages."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        response = requests.post(self.url, json={"query": query, "variables": variables}, headers=headers, timeout=60)
        body = response.json()
        if body.get("errors"):
            self._raise_errors(body["errors"])
        return body["data"]

    def leaderboard(self, project_id, page_size=200):
        """Every candidate of a project, cheapest first, following the cursors. Each row's `id` is
        what an export or a retraining takes."""
        rows, after = [], None
        while True:
            page = self.query(LEADERBOARD, project=project_id, first=page_size, after=after)["candidates"]
            rows += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return rows
            after = page["pageInfo"]["endCursor"]

    async def subscribe(self, query, on_ready=None, **variables):
        """Yields each event (its `data`) of one subscription over the graphql-transport-ws
        protocol; calls `on_ready()` once the server has set the subscription up."""
        async for _, data in self._subscriptions({"1": (query, variables)}, on_ready):
            yield data

    async def _subscriptions(self, operations, on_ready=None):
        """Runs several subscriptions on one socket, yielding (key, data) in the order the server
        sends them; `operations` maps a key to (query, variables)."""
        websockets = _websockets()
        ws_url = "ws" + self.url[len("http"):]
        async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as socket:
            payload = {"authorization": f"Bearer {self._token}"} if self._token else {}
            await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
            try:
                ack = json.loads(await socket.recv())
            except websockets.ConnectionClosed as closed:
                if closed.rcvd and closed.rcvd.code in REFUSED_SOCKET:
                    raise Unauthenticated(closed.rcvd.reason or closed.rcvd.code, self._token is not None) from None
                raise
            if ack["type"] != "connection_ack":
                raise GraphQLError(f"server refused the connection: {ack}")
            for key, (query, variables) in operations.items():
                await socket.send(json.dumps({"id": key, "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            # The protocol does not acknowledge a subscription; a query answered on the same
            # socket after them means the server has set them up.
            await socket.send(json.dumps({"id": "ready", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
            open_operations = set(operations)
            async for raw in socket:
                message = json.loads(raw)
                if message.get("id") == "ready":
                    if message["type"] == "complete" and on_ready:
                        on_ready()
                    continue
                if message["type"] == "next":
                    if message["payload"].get("errors"):
                        self._raise_errors(message["payload"]["errors"])
                    yield message["id"], message["payload"]["data"]
                elif message["type"] == "error":
                    self._raise_errors(message["payload"])
                elif message["type"] == "complete":
                    open_operations.discard(message["id"])
                    if not open_operations:
                        return

    def register_dataset(self, project_id, name, format, path=None, **terms):
        """Registers a dataset and returns it. `format` is IDX, IMAGE_FOLDER or CIFAR (a folder on
        the server, `path`) or SYNTHETIC; `terms` are the other fields of RegisterDatasetInput
        (searchFraction, splitSeed, classNames, skipCorrupt, synthetic)."""
        return self.query(REGISTER, input=_registration(project_id, name, format, path, terms))["registerDataset"]

    async def register_dataset_live(self, project_id, name, format, path=None, on_progress=print, **terms):
        """`register_dataset`, calling `on_progress(phase, done, total)` while the server reads a
        large folder (phase `headers`, then `statistics`). In a notebook: `await client.register_dataset_live(...)`."""
        subscribed = asyncio.get_running_loop().create_future()

        async def listen():
            ready = lambda: subscribed.done() or subscribed.set_result(None)
            async for event in self.subscribe(REGISTRATION, on_ready=ready, project=project_id):
                progress = event["datasetRegistration"]
                if progress["name"] == name:
                    on_progress(progress["phase"], progress["done"], progress["total"])

        listener = asyncio.create_task(listen())
        listener.add_done_callback(lambda task: subscribed.done() or task.cancelled() or subscribed.set_exception(task.exception() or GraphQLError("subscription ended")))
        await subscribed
        try:
            # requests blocks; in a thread, the subscription keeps reading while the server works.
            return await asyncio.to_thread(self.register_dataset, project_id, name, format, path, **terms)
        finally:
            listener.cancel()

    async def follow_trajectory(self, trajectory_id, steps=None, on_ready=None):
        """The greedy steps of a trajectory, in order: first those already made, then each as it is
        persisted. Returns when the trajectory's slimming job has finished (or after `steps`
        steps, if given); raises GraphQLError if the job failed or was cancelled, NotFound for an
        unknown id. `on_ready()` is called once the live updates are set up. In a notebook:
        `async for step in client.follow_trajectory(id): ...`."""
        # Raises NotFound for an unknown id before anything else is set up.
        await asyncio.to_thread(self.query, TRAJECTORY, id=trajectory_id)
        jobs = (await asyncio.to_thread(self.query, SLIM_JOBS))["jobs"]
        job_id = next((j["id"] for j in jobs if j["subjectId"] == trajectory_id), None)
        yielded = set()

        def unseen(batch):
            fresh = sorted((s for s in batch if s["index"] not in yielded), key=lambda s: s["index"])
            yielded.update(s["index"] for s in fresh)
            return fresh

        async def made_so_far():
            return (await asyncio.to_thread(self.query, TRAJECTORY, id=trajectory_id))["trajectory"]["steps"]

        def finished(job):
            if job["state"] == "SUCCEEDED":
                return True
            if job["state"] in FINISHED:
                detail = f": {job['error']}" if job.get("error") else ""
                raise GraphQLError(f"the slimming job of trajectory {trajectory_id} {job['state'].lower()}{detail}")
            return False

        operations = {"steps": (STEPS, {"trajectory": trajectory_id})}
        if job_id is not None:
            operations["job"] = (JOB_UPDATES, {"job": job_id})
        ready = asyncio.get_running_loop().create_future()
        events = self._subscriptions(operations, on_ready=lambda: ready.done() or ready.set_result(None))
        early = []  # events that came before the subscriptions were all set up
        pending = asyncio.ensure_future(events.__anext__())

        async def received():
            nonlocal pending
            try:
                event = await pending
            except StopAsyncIteration:
                raise GraphQLError(f"the server ended the subscription to trajectory {trajectory_id}") from None
            pending = asyncio.ensure_future(events.__anext__())
            return event

        async def next_event():
            return early.pop(0) if early else await received()

        try:
            # Subscribed first, then read what was made: no step can fall between the two.
            while not ready.done():
                await asyncio.wait({pending, ready}, return_when=asyncio.FIRST_COMPLETED)
                if pending.done():
                    early.append(await received())
            if on_ready:
                on_ready()
            job = (await asyncio.to_thread(self.query, JOB, id=job_id))["job"] if job_id else None
            for step in unseen(await made_so_far()):
                yield step
                if steps is not None and len(yielded) >= steps:
                    return
            # A job older than the newest hundred has long finished.
            if job is None or finished(job):
                return
            while True:
                key, data = await next_event()
                if key == "steps":
                    batch = [data["slimmingProgress"]]
                elif data["jobUpdated"]["state"] in FINISHED:
                    # Every step is persisted before the job ends: read them all once more.
                    batch = await made_so_far()
                    job = data["jobUpdated"]
                else:
                    continue
                for step in unseen(batch):
                    yield step
                    if steps is not None and len(yielded) >= steps:
                        return
                if key == "job" and finished(job):
                    return
        finally:
            # Cancelling the pending read closes the socket; the generator is done once it settles.
            pending.cancel()
            await asyncio.gather(pending, return_exceptions=True)
            await events.aclose()


def _registration(project_id, name, format, path, terms):
    fields = {"projectId": project_id, "name": name, "format": format, **terms}
    if path is not None:
        fields["path"] = path
    return fields


def main(argv=None):
    """The command line: leaderboard, follow and register (see the module's docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("SLIMLAB_URL", "http://127.0.0.1:4000"))
    commands = parser.add_subparsers(dest="command", required=True)
    board = commands.add_parser("leaderboard", help="print every candidate of a project")
    board.add_argument("--project", required=True)
    follow = commands.add_parser("follow", help="print each step of a trajectory, those already made first, until it finishes")
    follow.add_argument("--trajectory", required=True)
    follow.add_argument("--steps", type=int, help="stop after this many steps")
    register = commands.add_parser("register", help="register a dataset folder on the server, showing progress")
    register.add_argument("--project", required=True)
    register.add_argument("--name", required=True)
    register.add_argument("--format", required=True, choices=["IDX", "IMAGE_FOLDER", "CIFAR"])
    register.add_argument("--path", required=True, help="the folder, as the server sees it")
    register.add_argument("--search-fraction", type=float)
    register.add_argument("--skip-corrupt", action="store_true", help="leave out images that cannot be read")
    args = parser.parse_args(argv)
    client = Slimlab(args.server)
    try:
        if args.command == "leaderboard":
            for row in client.leaderboard(args.project):
                print(json.dumps(row))
        elif args.command == "register":
            terms = {"skipCorrupt": args.skip_corrupt}
            if args.search_fraction is not None:
                terms["searchFraction"] = args.search_fraction
            progress = lambda phase, done, total: print(f"{phase} {done}/{total}", file=sys.stderr, flush=True)
            dataset = asyncio.run(client.register_dataset_live(args.project, args.name, args.format, args.path, on_progress=progress, **terms))
            print(json.dumps(dataset))
        else:
            async def run():
                ready = lambda: print("subscribed", flush=True)
                async for step in client.follow_trajectory(args.trajectory, args.steps, on_ready=ready):
                    print(json.dumps(step), flush=True)
            asyncio.run(run())
    except (requests.ConnectionError, OSError) as error:
        sys.exit(f"cannot reach the slimlab server at {args.server}: {error}")
    except GraphQLError as error:
        sys.exit(f"slimlab: {error}")


if __name__ == "__main__":
    main()
