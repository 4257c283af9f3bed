"""A tiny in-memory Hugging Face Hub for tests: just the endpoints huggingface_hub 2.x uses to create a
repo, commit files inline (preupload answers "regular", so no LFS/Xet upload), read repo info and
trees, create branches and resolve files. Stdlib only; serves 127.0.0.1 on a random free port.

Start it with ``HubServer().start()`` and point the client at ``server.url`` (patch
``huggingface_hub.constants.ENDPOINT`` and ``HUGGINGFACE_CO_URL_TEMPLATE`` in-process, or set
``HF_ENDPOINT`` and ``HF_HUB_DISABLE_XET=1`` for a subprocess).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

COMMIT = re.compile(r"^[0-9a-f]{40}$")


def git_hash(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Repo:
    repo_id: str
    private: bool = False
    branches: dict[str, str] = field(default_factory=dict)  # name -> commit oid
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)  # oid -> {path: content}
    messages: dict[str, str] = field(default_factory=dict)  # oid -> summary

    def commit(self, files: dict[str, bytes], message: str, parent: str | None) -> str:
        oid = hashlib.sha1(f"{self.repo_id}\0{parent}\0{message}\0{len(self.commits)}".encode()).hexdigest()
        self.commits[oid] = files
        self.messages[oid] = message
        return oid

    def rev(self, revision: str) -> str | None:
        if revision in self.branches:
            return self.branches[revision]
        return revision if COMMIT.match(revision) and revision in self.commits else None


class HubServer:
    """An in-memory Hub. ``repos`` maps repo ids to :class:`Repo`; ``requests`` logs (method, path, auth)."""

    def __init__(self) -> None:
        self.repos: dict[str, Repo] = {}
        self.requests: list[tuple[str, str, str | None]] = []
        self.lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self.answer: int | None = None  # set to a status (401, 403, 500...) to answer every request with it
        self.hang = threading.Event()  # set: requests get no answer until the server stops
        self._stopped = threading.Event()

    # ------------------------------------------------------------ lifecycle
    def start(self) -> HubServer:
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    @property
    def url(self) -> str:
        assert self._httpd is not None, "server not started"
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # ------------------------------------------------------------ helpers for tests
    def files(self, repo_id: str, revision: str = "main") -> dict[str, bytes]:
        repo = self.repos[repo_id]
        return dict(repo.commits[repo.rev(revision)])

    def commit_count(self, repo_id: str) -> int:
        return len(self.repos[repo_id].commits)

    def put(self, repo_id: str, files: dict[str, bytes], message: str = "seed", private: bool = False) -> str:
        """Create (or add to) a repo directly, bypassing the client: for repos no zoo would write."""
        with self.lock:
            repo = self.repos.get(repo_id) or self._create(repo_id, private)
            head = repo.branches["main"]
            oid = repo.commit({**repo.commits[head], **files}, message, head)
            repo.branches["main"] = oid
            return oid

    def _create(self, repo_id: str, private: bool) -> Repo:
        repo = Repo(repo_id, private)
        attrs = b"*.safetensors filter=lfs diff=lfs merge=lfs -text\n"
        repo.branches["main"] = repo.commit({".gitattributes": attrs}, "initial commit", None)
        self.repos[repo_id] = repo
        return repo


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_hub: HubServer

    def log_message(self, format, *args):  # noqa: A002 - keep test output quiet
        pass

    # ------------------------------------------------------------ plumbing
    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    return out
                out += self.rfile.read(size)
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None,
              content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers)

    def _error(self, status: int, code: str | None, message: str) -> None:
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self._json(status, {"error": message}, headers)

    def _repo(self, repo_id: str) -> Repo | None:
        """The repo if it exists and the caller may see it; answers the 404/401 itself otherwise."""
        repo = self.server_hub.repos.get(repo_id)
        if repo is None or (repo.private and not self.headers.get("Authorization")):
            self._error(401 if repo else 404, "RepoNotFound", f"Repository {repo_id} not found")
            return None
        return repo

    def _rev(self, repo: Repo, revision: str) -> str | None:
        oid = repo.rev(revision)
        if oid is None:
            self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return oid

    def _dispatch(self) -> None:
        hub = self.server_hub
        path = urlsplit(self.path).path
        hub.requests.append((self.command, path, self.headers.get("Authorization")))
        if hub.hang.is_set():
            hub._stopped.wait(60)
            return
        if hub.answer is not None:
            return self._error(hub.answer, None, f"the test hub answers {hub.answer}")
        parts = [unquote(p) for p in path.strip("/").split("/")]
        with hub.lock:
            if self.command in ("GET", "HEAD") and len(parts) >= 5 and parts[2] == "resolve":
                return self._resolve(f"{parts[0]}/{parts[1]}", parts[3], "/".join(parts[4:]))
            if parts[:1] != ["api"]:
                return self._error(404, None, f"no route {self.command} {path}")
            if self.command == "POST" and parts[1:] == ["repos", "create"]:
                return self._create_repo(json.loads(self._body() or b"{}"))
            if self.command == "POST" and parts[1:] == ["validate-yaml"]:
                self._body()
                return self._json(200, {"errors": [], "warnings": []})
            if len(parts) < 4 or parts[1] != "models":
                return self._error(404, None, f"no route {self.command} {path}")
            repo_id, action, rest = f"{parts[2]}/{parts[3]}", parts[4:5], parts[5:]
            if self.command == "GET" and not action:
                return self._info(repo_id, "main")
            if self.command == "GET" and action == ["revision"] and rest:
                return self._info(repo_id, "/".join(rest))
            if self.command == "GET" and action == ["tree"] and rest:
                return self._tree(repo_id, rest[0], "/".join(rest[1:]))
            if self.command == "POST" and action == ["preupload"] and rest:
                return self._preupload(repo_id, "/".join(rest), json.loads(self._body()))
            if self.command == "POST" and action == ["commit"] and rest:
                return self._commit(repo_id, "/".join(rest), self._body())
            if self.command == "POST" and action == ["branch"] and rest:
                return self._branch(repo_id, "/".join(rest), json.loads(self._body() or b"{}"))
            return self._error(404, None, f"no route {self.command} {path}")

    do_GET = do_HEAD = do_POST = _dispatch

    # ------------------------------------------------------------ endpoints
    def _create_repo(self, payload: dict) -> None:
        hub = self.server_hub
        repo_id = f"{payload.get('organization') or 'user'}/{payload['name']}"
        url = f"{hub.url}/{repo_id}"
        if repo_id in hub.repos:
            return self._json(409, {"error": "You already created this model repo", "url": url})
        hub._create(repo_id, payload.get("visibility") == "private" or bool(payload.get("private")))
        return self._json(200, {"url": url, "name": repo_id, "id": repo_id})

    def _info(self, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_id)
        oid = repo and self._rev(repo, revision)
        if oid:
            self._json(200, {
                "id": repo_id, "modelId": repo_id, "sha": oid, "private": repo.private,
                "lastModified": "2024-01-01T00:00:00.000Z", "tags": [], "library_name": "zoo",
                "siblings": [{"rfilename": p} for p in sorted(repo.commits[oid])],
            })

    def _tree(self, repo_id: str, revision: str, prefix: str) -> None:
        repo = self._repo(repo_id)
        oid = repo and self._rev(repo, revision)
        if not oid:
            return
        recursive = "recursive=true" in (urlsplit(self.path).query or "").lower()
        entries, folders = [], set()
        for path, data in sorted(repo.commits[oid].items()):
            if prefix and not path.startswith(prefix.rstrip("/") + "/"):
                continue
            rel = path[len(prefix.rstrip("/")) + 1:] if prefix else path
            if "/" in rel and not recursive:
                folders.add(path[: len(path) - len(rel)] + rel.split("/")[0])
                continue
            parents = path.split("/")[:-1]
            folders.update("/".join(parents[: i + 1]) for i in range(len(parents)) if recursive)
            entries.append({"type": "file", "path": path, "size": len(data), "oid": git_hash(data)})
        entries += [{"type": "directory", "path": f, "oid": hashlib.sha1(f.encode()).hexdigest()}
                    for f in sorted(folders) if not prefix or f.startswith(prefix.rstrip("/") + "/")]
        self._json(200, entries)

    def _preupload(self, repo_id: str, revision: str, payload: dict) -> None:
        repo = self._repo(repo_id)
        oid = repo and self._rev(repo, revision)
        if oid:
            current = repo.commits[oid]
            self._json(200, {"files": [
                {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                 "oid": git_hash(current[f["path"]]) if f["path"] in current else None}
                for f in payload["files"]]})

    def _commit(self, repo_id: str, revision: str, body: bytes) -> None:
        repo = self._repo(repo_id)
        head = repo and self._rev(repo, revision)
        if not head:
            return
        if revision not in repo.branches:
            return self._error(400, None, f"cannot commit to {revision}: not a branch")
        files = dict(repo.commits[head])
        summary = ""
        for line in body.splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            key, value = item["key"], item["value"]
            if key == "header":
                summary = value.get("summary", "")
                if value.get("parentCommit") not in (None, head):
                    return self._error(412, None, "parent commit is not the head of the branch")
            elif key == "file":
                if value.get("encoding") != "base64":
                    return self._error(400, None, "only base64 file content is supported")
                files[value["path"]] = base64.b64decode(value["content"])
            elif key == "deletedFile":
                files.pop(value["path"], None)
            elif key == "deletedFolder":
                files = {p: d for p, d in files.items() if not p.startswith(value["path"].rstrip("/") + "/")}
            else:
                return self._error(400, None, f"this test hub does not support {key!r} operations")
        oid = repo.commit(files, summary, head)
        repo.branches[revision] = oid
        self._json(200, {"success": True, "commitOid": oid, "commitMessage": summary,
                         "commitUrl": f"{self.server_hub.url}/{repo_id}/commit/{oid}", "pullRequestUrl": None})

    def _branch(self, repo_id: str, branch: str, payload: dict) -> None:
        repo = self._repo(repo_id)
        if repo is None:
            return
        if branch in repo.branches:
            return self._error(409, None, f"branch {branch} already exists")
        start = self._rev(repo, payload.get("startingPoint") or "main")
        if start:
            repo.branches[branch] = start
            self._json(200, {})

    def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
        repo = self._repo(repo_id)
        oid = repo and self._rev(repo, revision)
        if not oid:
            return
        data = repo.commits[oid].get(filename)
        if data is None:
            self._send(404, b"Entry not found", {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": oid,
                                                  "X-Error-Message": "Entry not found"}, "text/plain")
            return
        self._send(200, data, {"X-Repo-Commit": oid, "ETag": f'"{git_hash(data)}"',
                               "Last-Modified": formatdate(usegmt=True)}, "application/octet-stream")
