"""MeshFixture with several Services of one pod each, under STRICT mTLS: each
pod an app at its APP_IP behind a sidecar at its POD_IP (loopback
addresses), each with its own service account; client-0's sidecar in front.
Subclasses name the pods, what their apps are and which routes apply."""

import os

from harness import Backend
from test_mesh_mtls import MeshFixture
from test_xds import write

STRICT_MESH = """
apiVersion: weft.dev/v1alpha1
kind: MeshConfig
metadata: {name: mesh, namespace: weft-system}
spec:
  mtls: {mode: STRICT}
"""

SERVICE = """
---
apiVersion: v1
kind: Service
metadata: {name: %(name)s}
spec:
  ports: [{name: %(port_name)s, port: %(service_port)d, targetPort: %(port)d%(app_protocol)s}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: %(name)s-slice
  labels: {kubernetes.io/service-name: %(name)s}
addressType: IPv4
ports: [{name: %(port_name)s, port: %(port)d}]
endpoints:
- addresses: [%(ip)s]
  conditions: {ready: true}
  targetRef: {kind: Pod, name: %(name)s-0, namespace: default}
"""


class ServicePodsMesh(MeshFixture):
    # Service name -> (pod IP, app IP); the pod is NAME-0, its account NAME.
    PODS = {}
    SERVICE_PORT = 80
    PORT_NAME = "http"
    APP_PROTOCOL = None  # e.g. "grpc"

    @property
    def SERVICE_ACCOUNTS(self):
        return tuple(self.PODS)

    def write_config(self):
        text = STRICT_MESH
        for name, (pod_ip, _) in self.PODS.items():
            text += SERVICE % {
                "name": name, "port": self.port, "ip": pod_ip, "port_name": self.PORT_NAME,
                "service_port": self.SERVICE_PORT,
                "app_protocol": ", appProtocol: " + self.APP_PROTOCOL if self.APP_PROTOCOL else ""}
        write(os.path.join(self.config, "mesh.yaml"), text)
        self.write_routes()

    def write_routes(self):
        """The routes weft-control starts with (config/route.yaml)."""

    def start_pods(self):
        self.apps, self.sidecars = {}, {}
        for name, (_, app_ip) in self.PODS.items():
            self.apps[name] = self.start_pod_app(name, app_ip, self.port)
            self.sidecars[name] = self.sidecar(name + "-0.default", name, "tok-" + name,
                                               APP_IP=app_ip)

    def start_pod_app(self, name, host, port):
        """The app of Service `name`'s pod (anything with stop())."""
        return Backend(name, host=host, port=port)

    def stop_apps(self):
        for app in self.apps.values():
            app.stop()
