#!/usr/bin/env python3
"""A notebook-style slimlab client: plain `requests` for queries, `websockets` for live updates.

Copy the `Slimlab` class into a notebook, or run it:

    python3 examples/notebook_client.py leaderboard --project <project-id>
    python3 examples/notebook_client.py follow --trajectory <trajectory-id> [--steps N]
    python3 examples/notebook_client.py register --project <project-id> --name NAME \
        --format IDX|IMAGE_FOLDER|CIFAR --path /server/folder [--search-fraction F] [--skip-corrupt]

The server is --server or $SLIMLAB_URL (default http://127.0.0.1:4000). A server that requires
authentication takes an API token: `Slimlab(url, token=...)`, else $SLIMLAB_TOKEN (the only way
when run as a script: a command line is visible to every user in `ps`). Needs Debian's
python3-requests and python3-websockets.
"""
import argparse
import asyncio
import json
import os
import sys

import requests
import websockets

LEADERBOARD = """
query($project: ID!, $first: Int!, $after: String) {
  candidates(filter: {projectId: $project}, orderBy: {field: MACS, direction: ASC}, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { configHash source macs params searchAccuracy retrainedTop1Mean retrainedTop1Std retrainedRuns } }
  }
}"""

STEPS = """
subscription($trajectory: ID!) {
  slimmingProgress(trajectoryId: $trajectory) { index unitName macs params accuracy accuracyDrop }
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


class GraphQLError(RuntimeError):
    pass


class Unauthenticated(GraphQLError):
    """The server needs a valid API token, and got none, or one it does not accept."""

    def __init__(self, detail, had_token):
        hint = "pass token= or set SLIMLAB_TOKEN"
        super().__init__(f"the server refused the token ({detail}): {hint}" if had_token else f"the server needs a token: {hint}")


class Slimlab:
    def __init__(self, url="http://127.0.0.1:4000", token=None):
        self.url = url.rstrip("/") + "/graphql"
        # Kept out of repr and error messages: a notebook's output is often shared.
        self._token = token or os.environ.get("SLIMLAB_TOKEN") or None

    def _raise_errors(self, errors):
        if any((e.get("extensions") or {}).get("code") == "UNAUTHENTICATED" for e in errors):
            raise Unauthenticated("; ".join(e["message"] for e in errors), self._token is not None)
        raise GraphQLError("; ".join(e["message"] for e in errors))

    def query(self, query, **variables):
        """Runs a query or mutation; raises GraphQLError with the server's messages."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        response = requests.post(self.url, json={"query": query, "variables": variables}, headers=headers, timeout=60)
        body = response.json()
        if body.get("errors"):
            self._raise_errors(body["errors"])
        return body["data"]

    def leaderboard(self, project_id, page_size=200):
        """Every candidate of a project, cheapest first, following the cursors."""
        rows, after = [], None
        while True:
            page = self.query(LEADERBOARD, project=project_id, first=page_size, after=after)["candidates"]
            rows += [edge["node"] for edge in page["edges"]]
            if not page["pageInfo"]["hasNextPage"]:
                return rows
            after = page["pageInfo"]["endCursor"]

    async def subscribe(self, query, on_ready=None, **variables):
        """Yields each event of a subscription over the graphql-transport-ws protocol."""
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
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
            # The protocol does not acknowledge a subscription; a query answered on the same
            # socket after it means the server has set it up.
            await socket.send(json.dumps({"id": "ready", "type": "subscribe", "payload": {"query": "{ __typename }"}}))
            async for raw in socket:
                message = json.loads(raw)
                if message.get("id") == "ready":
                    if message["type"] == "complete" and on_ready:
                        on_ready()
                    continue
                if message["type"] == "next":
                    if message["payload"].get("errors"):
                        self._raise_errors(message["payload"]["errors"])
                    yield message["payload"]["data"]
                elif message["type"] == "error":
                    self._raise_errors(message["payload"])
                elif message["type"] == "complete":
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
        """The greedy steps of a trajectory as they are persisted; stops after `steps` if given."""
        seen = 0
        async for event in self.subscribe(STEPS, on_ready=on_ready, trajectory=trajectory_id):
            yield event["slimmingProgress"]
            seen += 1
            if steps is not None and seen >= steps:
                return


def _registration(project_id, name, format, path, terms):
    fields = {"projectId": project_id, "name": name, "format": format, **terms}
    if path is not None:
        fields["path"] = path
    return fields


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("SLIMLAB_URL", "http://127.0.0.1:4000"))
    commands = parser.add_subparsers(dest="command", required=True)
    board = commands.add_parser("leaderboard", help="print every candidate of a project")
    board.add_argument("--project", required=True)
    follow = commands.add_parser("follow", help="print each step of a trajectory as it arrives")
    follow.add_argument("--trajectory", required=True)
    follow.add_argument("--steps", type=int, help="stop after this many steps")
    register = commands.add_parser("register", help="register a dataset folder on the server, showing progress")
    register.add_argument("--project", required=True)
    register.add_argument("--name", required=True)
    register.add_argument("--format", required=True, choices=["IDX", "IMAGE_FOLDER", "CIFAR"])
    register.add_argument("--path", required=True, help="the folder, as the server sees it")
    register.add_argument("--search-fraction", type=float)
    register.add_argument("--skip-corrupt", action="store_true", help="leave out images that cannot be read")
    args = parser.parse_args()
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
