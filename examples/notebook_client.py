#!/usr/bin/env python3
"""A notebook-style slimlab client: plain `requests` for queries, `websockets` for live updates.

Copy the `Slimlab` class into a notebook, or run it:

    python3 examples/notebook_client.py leaderboard --project <project-id>
    python3 examples/notebook_client.py follow --trajectory <trajectory-id> [--steps N]

The server is --server or $SLIMLAB_URL (default http://127.0.0.1:4000). Needs Debian's
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


class GraphQLError(RuntimeError):
    pass


class Slimlab:
    def __init__(self, url="http://127.0.0.1:4000"):
        self.url = url.rstrip("/") + "/graphql"

    def query(self, query, **variables):
        """Runs a query or mutation; raises GraphQLError with the server's messages."""
        response = requests.post(self.url, json={"query": query, "variables": variables}, timeout=60)
        body = response.json()
        if body.get("errors"):
            raise GraphQLError("; ".join(e["message"] for e in body["errors"]))
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
            await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
            ack = json.loads(await socket.recv())
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
                        raise GraphQLError(message["payload"]["errors"])
                    yield message["payload"]["data"]
                elif message["type"] == "error":
                    raise GraphQLError(message["payload"])
                elif message["type"] == "complete":
                    return

    async def follow_trajectory(self, trajectory_id, steps=None, on_ready=None):
        """The greedy steps of a trajectory as they are persisted; stops after `steps` if given."""
        seen = 0
        async for event in self.subscribe(STEPS, on_ready=on_ready, trajectory=trajectory_id):
            yield event["slimmingProgress"]
            seen += 1
            if steps is not None and seen >= steps:
                return


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default=os.environ.get("SLIMLAB_URL", "http://127.0.0.1:4000"))
    commands = parser.add_subparsers(dest="command", required=True)
    board = commands.add_parser("leaderboard", help="print every candidate of a project")
    board.add_argument("--project", required=True)
    follow = commands.add_parser("follow", help="print each step of a trajectory as it arrives")
    follow.add_argument("--trajectory", required=True)
    follow.add_argument("--steps", type=int, help="stop after this many steps")
    args = parser.parse_args()
    client = Slimlab(args.server)
    try:
        if args.command == "leaderboard":
            for row in client.leaderboard(args.project):
                print(json.dumps(row))
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
