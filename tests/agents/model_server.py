#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A scripted model server for the real-agent tests, on 127.0.0.1 only.

Speaks the two wire formats the agents use (agent-notes.md):
  POST /v1/messages   Anthropic Messages, SSE when "stream": true (Claude Code)
  POST /v1/responses  OpenAI Responses, SSE (Codex)

The script: a conversation request (one that offers tools) that does not yet
carry a tool result is answered with one shell tool call running COMMAND;
a request that carries the tool's result is recorded to RECORD_DIR and
answered with a short final text, ending the turn. Side requests (titles,
quota probes: no tools) get a short text. Every request body is saved as
RECORD_DIR/<api>-<n>.json; the follow-up as <api>-followup.json.

Usage: model_server.py --port-file F --record-dir D --command CMD
It writes the chosen port to F once listening and stops by itself after
--lifetime seconds (default 300).
"""
import argparse
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ARGS = None
LOCK = threading.Lock()
COUNT = {"anthropic": 0, "openai": 0}


def record(api, body, followup):
    with LOCK:
        COUNT[api] += 1
        n = COUNT[api]
    path = os.path.join(ARGS.record_dir, "%s-%d.json" % (api, n))
    with open(path, "wb") as f:
        f.write(body)
    if followup:
        tmp = os.path.join(ARGS.record_dir, "%s-followup.json.tmp" % api)
        with open(tmp, "wb") as f:
            f.write(body)
        os.replace(tmp, os.path.join(ARGS.record_dir, "%s-followup.json" % api))


def sse(handler, events):
    handler.send_response(200)
    handler.send_header("Content-Type", "text/event-stream")
    handler.send_header("Cache-Control", "no-cache")
    handler.send_header("Connection", "close")
    handler.end_headers()
    for name, data in events:
        handler.wfile.write(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode())
        handler.wfile.flush()
    handler.close_connection = True


def json_reply(handler, obj, code=200):
    data = json.dumps(obj).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


# ---- Anthropic Messages ----

def anthropic_has_tool_result(req):
    for m in req.get("messages", []):
        c = m.get("content")
        if isinstance(c, list):
            for b in c:
                if isinstance(b, dict) and b.get("type") == "tool_result":
                    return True
    return False


def anthropic(handler, req, body):
    tools = req.get("tools") or []
    has_bash = any(t.get("name") == "Bash" for t in tools if isinstance(t, dict))
    followup = has_bash and anthropic_has_tool_result(req)
    record("anthropic", body, followup)
    model = req.get("model", "claude-test")
    usage = {"input_tokens": 10, "output_tokens": 5}
    if has_bash and not followup:
        block = {"type": "tool_use", "id": "toolu_actplane_1", "name": "Bash", "input": {}}
        args = {"command": ARGS.command, "description": "push the branch"}
        stop = "tool_use"
        delta = {"type": "input_json_delta", "partial_json": json.dumps(args)}
        full_block = dict(block, input=args)
    else:
        block = {"type": "text", "text": ""}
        text = "Understood." if followup else "ok"
        stop = "end_turn"
        delta = {"type": "text_delta", "text": text}
        full_block = {"type": "text", "text": text}
    msg = {"id": "msg_actplane_%d" % COUNT["anthropic"], "type": "message",
           "role": "assistant", "model": model, "content": [],
           "stop_reason": None, "stop_sequence": None, "usage": usage}
    if not req.get("stream"):
        msg.update(content=[full_block], stop_reason=stop)
        return json_reply(handler, msg)
    sse(handler, [
        ("message_start", {"type": "message_start", "message": msg}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": block}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": stop, "stop_sequence": None},
                           "usage": {"output_tokens": 5}}),
        ("message_stop", {"type": "message_stop"}),
    ])


# ---- OpenAI Responses ----

def openai_has_tool_result(req):
    items = req.get("input")
    if not isinstance(items, list):
        return False
    return any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in items)


def openai(handler, req, body):
    followup = openai_has_tool_result(req)
    has_tools = bool(req.get("tools"))
    record("openai", body, followup)
    n = COUNT["openai"]
    rid = "resp_actplane_%d" % n
    base = {"id": rid, "object": "response", "created_at": int(time.time()),
            "status": "in_progress", "model": req.get("model", "gpt-test"), "output": []}
    usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0},
             "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0},
             "total_tokens": 15}
    if has_tools and not followup:
        item = {"type": "function_call", "id": "fc_actplane_%d" % n,
                "call_id": "call_actplane_%d" % n, "name": "exec_command",
                "arguments": json.dumps({"cmd": ARGS.command}), "status": "completed"}
    else:
        item = {"type": "message", "id": "msg_actplane_%d" % n, "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Understood." if followup else "ok",
                             "annotations": []}]}
    added = dict(item)
    if item["type"] == "function_call":
        added["arguments"] = ""
        added["status"] = "in_progress"
    done = dict(base, status="completed", output=[item], usage=usage)
    sse(handler, [
        ("response.created", {"type": "response.created", "response": base}),
        ("response.output_item.added", {"type": "response.output_item.added",
                                        "output_index": 0, "item": added}),
        ("response.output_item.done", {"type": "response.output_item.done",
                                       "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed", "response": done}),
    ])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if ARGS.verbose:
            super().log_message(fmt, *a)

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        json_reply(self, {"data": [], "object": "list"})

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        path = self.path.split("?", 1)[0]
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            req = {}
        if path.endswith("/messages/count_tokens"):
            return json_reply(self, {"input_tokens": 10})
        if path.endswith("/messages"):
            return anthropic(self, req, body)
        if path.endswith("/responses"):
            return openai(self, req, body)
        json_reply(self, {"error": {"message": "not scripted: " + path}}, 404)


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--record-dir", required=True)
    ap.add_argument("--command", required=True)
    ap.add_argument("--lifetime", type=float, default=300)
    ap.add_argument("--verbose", action="store_true")
    ARGS = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    threading.Timer(ARGS.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
