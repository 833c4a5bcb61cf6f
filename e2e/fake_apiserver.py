"""A stand-in for kube-apiserver, for the Kubernetes source's tests (no API
server runs on these machines). It serves recorded, real-shaped list
responses (e2e/fixtures/kube/*.json) and the watch protocol as the real one
does: HTTPS, bearer tokens, JSON-lines watch events over chunked encoding,
BOOKMARK events, and a watch from a compacted resourceVersion answered with an
ERROR event carrying 410 Gone. Tests drive it through /_test/ endpoints."""

import json
import os
import re
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

KINDS = {
    "/api/v1/services": ("v1", "Service", "services.json"),
    "/apis/discovery.k8s.io/v1/endpointslices": ("discovery.k8s.io/v1", "EndpointSlice",
                                                  "endpointslices.json"),
    "/apis/gateway.networking.k8s.io/v1/httproutes": ("gateway.networking.k8s.io/v1", "HTTPRoute",
                                                      "httproutes.json"),
    "/apis/gateway.networking.k8s.io/v1/grpcroutes": ("gateway.networking.k8s.io/v1", "GRPCRoute",
                                                      None),
    "/apis/weft.dev/v1alpha1/destinationpolicies": ("weft.dev/v1alpha1", "DestinationPolicy", None),
    "/apis/weft.dev/v1alpha1/authorizationpolicies": ("weft.dev/v1alpha1", "AuthorizationPolicy",
                                                      None),
    "/apis/weft.dev/v1alpha1/meshconfigs": ("weft.dev/v1alpha1", "MeshConfig", None),
    "/api/v1/namespaces": ("v1", "Namespace", "namespaces.json"),
}
STORED = re.compile(r"^/api/v1/namespaces/([a-z0-9-]+)/(configmaps|secrets)(?:/([a-z0-9.-]+))?$")
LEASES = re.compile(r"^/apis/coordination\.k8s\.io/v1/namespaces/([a-z0-9-]+)/(leases)"
                    r"(?:/([a-z0-9.-]+))?$")


def stored_match(path):
    """ConfigMaps, Secrets and Leases: objects clients write (namespace, resource, name)."""
    return STORED.match(path) or LEASES.match(path)
# An object's status subresource: /apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME/status.
STATUS = re.compile(r"^(/apis/[a-z0-9.-]+/[a-z0-9]+)/namespaces/([a-z0-9-]+)/([a-z]+)/([a-z0-9.-]+)/status$")


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch, as kube-apiserver applies
    application/merge-patch+json."""
    if not isinstance(patch, dict):
        return patch
    if not isinstance(target, dict):
        target = {}
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = merge_patch(target.get(key), value)
    return target


class State:
    def __init__(self, fixtures, substitutions):
        self.lock = threading.Condition()
        self.rv = 100
        self.compacted = 0
        self.epoch = 0  # bumped to end every open watch
        self.objects = {path: {} for path in KINDS}
        self.events = []  # (rv, path, type, object)
        self.lists = {path: 0 for path in KINDS}
        # Status subresource writes: (path, "ns/name", status) of each accepted one.
        self.status_writes = []
        # Objects clients write: resource ("configmaps", "secrets") -> "ns/name" -> object.
        self.stored = {"configmaps": {}, "secrets": {}, "leases": {}}
        self.writes = []  # (method, "resource/ns/name") of each accepted write
        self.conflicts = []  # the same, of each write refused with 409
        # Seconds each read of a ConfigMap or Secret takes: two writers then
        # both read before either writes (the race a 409 settles).
        self.read_delay_s = 0.0
        for path, (_, _, fixture) in KINDS.items():
            if fixture is None:
                continue
            with open(os.path.join(fixtures, fixture)) as f:
                text = f.read()
            for k, v in substitutions.items():
                text = text.replace(k, str(v))
            for item in json.loads(text)["items"]:
                self.put(path, item, record=False)

    def put(self, path, obj, record=True):
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        key = obj["metadata"].get("namespace", "default") + "/" + obj["metadata"]["name"]
        # metadata.generation: 1 at creation, one more for each change of spec
        # (a status write leaves it), as kube-apiserver keeps it.
        old = self.objects[path].get(key)
        if old is None:
            obj["metadata"].setdefault("generation", 1)
        else:
            generation = old["metadata"].get("generation", 1)
            changed = old.get("spec") != obj.get("spec")
            obj["metadata"]["generation"] = generation + 1 if changed else generation
        kind = "MODIFIED" if key in self.objects[path] else "ADDED"
        self.objects[path][key] = obj
        if record:
            self.events.append((self.rv, path, kind, obj))

    def delete(self, path, namespace, name):
        obj = self.objects[path].pop(namespace + "/" + name)
        self.rv += 1
        obj["metadata"]["resourceVersion"] = str(self.rv)
        self.events.append((self.rv, path, "DELETED", obj))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def chunk(self, obj):
        data = (json.dumps(obj) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def token_review(self, review):
        """authentication.k8s.io/v1 TokenReview, answered as kube-apiserver does."""
        if self.headers.get("Authorization") != "Bearer " + self.server.token:
            return self.reply(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized",
                                    "code": 401})
        spec = review.get("spec", {})
        user = self.server.service_accounts.get(spec.get("token", ""))
        audiences = spec.get("audiences", [])
        out = {"kind": "TokenReview", "apiVersion": "authentication.k8s.io/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec}
        if user is None or (audiences and "weft" not in audiences):
            out["status"] = {"user": {}, "error": "[invalid bearer token, token lookup failed]"}
        else:
            ns, sa = user
            out["status"] = {"authenticated": True, "audiences": audiences or ["weft"], "user": {
                "username": "system:serviceaccount:%s:%s" % (ns, sa),
                "uid": "6b1c7c0e-%04d-4a57-9c1d-2f0d7e2a1b3c" % len(sa),
                "groups": ["system:serviceaccounts", "system:serviceaccounts:" + ns,
                           "system:authenticated"],
                "extra": {"authentication.kubernetes.io/pod-name": ["%s-0" % sa]}}}
        self.reply(201, out)

    def status(self, code, reason, message):
        self.reply(code, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                          "status": "Failure", "message": message, "reason": reason,
                          "code": code})

    def stored(self, method, resource, namespace, name, body):
        """ConfigMaps and Secrets as kube-apiserver answers: 409 for a create
        over an existing one or an update from a stale resourceVersion, 404
        for an update of a missing one."""
        state = self.server.state
        if method == "GET" and state.read_delay_s:
            time.sleep(state.read_delay_s)
        with state.lock:
            key = "%s/%s" % (namespace, name or body.get("metadata", {}).get("name", ""))
            objects = state.stored[resource]
            current = objects.get(key)
            if method == "GET":
                if current is None:
                    return self.status(404, "NotFound",
                                       '%s "%s" not found' % (resource, key.split("/")[1]))
                return self.reply(200, current)
            if method == "POST" and current is not None:
                state.conflicts.append((method, resource + "/" + key))
                return self.status(409, "AlreadyExists",
                                   '%s "%s" already exists' % (resource, key.split("/")[1]))
            if method == "PUT":
                if current is None:
                    return self.status(404, "NotFound",
                                       '%s "%s" not found' % (resource, key.split("/")[1]))
                sent = body.get("metadata", {}).get("resourceVersion")
                if sent and sent != current["metadata"]["resourceVersion"]:
                    state.conflicts.append((method, resource + "/" + key))
                    return self.status(409, "Conflict", "the object has been modified")
            state.rv += 1
            body.setdefault("metadata", {})
            body["metadata"]["namespace"] = namespace
            body["metadata"]["resourceVersion"] = str(state.rv)
            body["metadata"].setdefault("uid", "2f1d6c3e-%08d-4b2e-9d1e-7c5a0e3b9f21" % state.rv)
            objects[key] = body
            state.writes.append((method, resource + "/" + key))
        self.reply(201 if method == "POST" else 200, body)

    def authorized(self):
        if self.headers.get("Authorization") == "Bearer " + self.server.token:
            return True
        self.status(401, "Unauthorized", "Unauthorized")
        return False

    def do_PUT(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        match = stored_match(self.path)
        if not self.authorized():
            return
        if not match or not match.group(3):
            return self.status(404, "NotFound", "the server could not find the requested resource")
        self.stored("PUT", match.group(2), match.group(1), match.group(3), body)

    def do_PATCH(self):
        """The status subresource, as kube-apiserver serves it: a JSON merge
        patch of `status` only (anything else in the patch is ignored, as the
        status subresource does), 409 when the patch carries a stale
        resourceVersion, 415 for another patch type; the object's watchers
        see a MODIFIED event."""
        state = self.server.state
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if not self.authorized():
            return
        match = STATUS.match(self.path)
        if not match:
            return self.status(404, "NotFound", "the server could not find the requested resource")
        if self.headers.get("Content-Type") != "application/merge-patch+json":
            return self.status(415, "UnsupportedMediaType",
                               "the body of the request was in an unknown format")
        path = match.group(1) + "/" + match.group(3)
        key = match.group(2) + "/" + match.group(4)
        patch = json.loads(body)
        with state.lock:
            current = state.objects.get(path, {}).get(key)
            if current is None:
                return self.status(404, "NotFound", '%s "%s" not found' % (match.group(3),
                                                                         match.group(4)))
            sent = patch.get("metadata", {}).get("resourceVersion")
            if sent and sent != current["metadata"]["resourceVersion"]:
                state.conflicts.append(("PATCH", path + "/" + key))
                return self.status(409, "Conflict", "the object has been modified; please apply "
                                   "your changes to the latest version and try again")
            updated = json.loads(json.dumps(current))
            if "status" in patch:
                updated["status"] = merge_patch(updated.get("status"), patch["status"])
            state.put(path, updated)
            state.status_writes.append((path, key, updated.get("status")))
            state.lock.notify_all()
        self.reply(200, updated)

    def do_POST(self):
        state = self.server.state
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])) or b"{}")
        if self.path == "/apis/authentication.k8s.io/v1/tokenreviews":
            return self.token_review(body)
        match = stored_match(self.path)
        if match and not match.group(3):
            if self.authorized():
                self.stored("POST", match.group(2), match.group(1), None, body)
            return
        if self.path in ("/_test/configmaps", "/_test/secrets", "/_test/leases"):
            with state.lock:
                resource = self.path[len("/_test/"):]
                prefix = resource + "/"
                def of_resource(writes):
                    return [[m, k[len(prefix):]] for m, k in writes if k.startswith(prefix)]
                return self.reply(200, {"objects": state.stored[resource],
                                        "writes": of_resource(state.writes),
                                        "conflicts": of_resource(state.conflicts)})
        if self.path == "/_test/status_writes":
            with state.lock:
                return self.reply(200, {"writes": state.status_writes})
        if self.path == "/_test/object":
            with state.lock:
                return self.reply(200, state.objects[body["path"]].get(body["key"]) or {})
        if self.path == "/_test/read_delay":
            with state.lock:
                state.read_delay_s = float(body["seconds"])
            return self.reply(200, {})
        if self.path == "/_test/configmap/delete":
            with state.lock:
                state.stored["configmaps"].pop(body["key"], None)
            return self.reply(200, {})
        if self.path == "/_test/secret/put":
            with state.lock:
                state.rv += 1
                body["object"]["metadata"]["resourceVersion"] = str(state.rv)
                state.stored["secrets"][body["key"]] = body["object"]
            return self.reply(200, {})
        with state.lock:
            if self.path == "/_test/apply":
                state.put(body["path"], body["object"])
            elif self.path == "/_test/delete":
                state.delete(body["path"], body["namespace"], body["name"])
            elif self.path == "/_test/compact":
                # As etcd compaction does: every resourceVersion a client
                # holds is now too old to watch from; a new list is not.
                state.rv += 1
                state.compacted = state.rv
                state.epoch += 1
            state.lock.notify_all()
        self.reply(200, {"lists": state.lists})

    def do_GET(self):
        state = self.server.state
        if self.headers.get("Authorization") != "Bearer " + self.server.token:
            return self.reply(401, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                    "message": "Unauthorized", "reason": "Unauthorized",
                                    "code": 401})
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        match = stored_match(url.path)
        if match and match.group(3):
            return self.stored("GET", match.group(2), match.group(1), match.group(3), {})
        if url.path not in KINDS:
            return self.reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
        api_version, kind, _ = KINDS[url.path]
        if "watch" not in query:
            with state.lock:
                state.lists[url.path] += 1
                items = list(state.objects[url.path].values())
                rv = state.rv
            return self.reply(200, {"kind": kind + "List", "apiVersion": api_version,
                                    "metadata": {"resourceVersion": str(rv)}, "items": items})
        since = int(query.get("resourceVersion", ["0"])[0])
        timeout = min(int(query.get("timeoutSeconds", ["300"])[0]), 300)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with state.lock:
            epoch = state.epoch
            if since < state.compacted:
                self.chunk({"type": "ERROR", "object": {
                    "kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "too old resource version: %d (%d)" % (since, state.compacted),
                    "reason": "Expired", "code": 410}})
                self.wfile.write(b"0\r\n\r\n")
                self.close_connection = True
                return
        deadline = time.time() + timeout
        last_bookmark = time.time()
        try:
            while time.time() < deadline:
                with state.lock:
                    pending = [e for e in state.events if e[0] > since and e[1] == url.path]
                    if not pending and state.epoch == epoch:
                        state.lock.wait(0.2)
                        pending = [e for e in state.events if e[0] > since and e[1] == url.path]
                    if state.epoch != epoch:
                        break
                    rv_now = state.rv
                for rv, _, kind_, obj in pending:
                    self.chunk({"type": kind_, "object": obj})
                    since = rv
                if "allowWatchBookmarks" in query and time.time() - last_bookmark > 1:
                    self.chunk({"type": "BOOKMARK", "object": {
                        "kind": kind, "apiVersion": api_version,
                        "metadata": {"resourceVersion": str(max(since, rv_now))}}})
                    since = max(since, rv_now)
                    last_bookmark = time.time()
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass
        self.close_connection = True


class FakeApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        pass


def start(port, fixtures, substitutions, token, cert=None, key=None):
    server = FakeApiServer(("127.0.0.1", port), Handler)
    server.state = State(fixtures, substitutions)
    server.token = token
    server.service_accounts = {}  # projected token -> (namespace, service account)
    if cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
