"""Injected pods in network namespaces, meshed: the pods and weft-control's
namespace on one bridge (in the control plane's namespace, as a node's
would be), each pod with the rules of the real `weft-proxy init` and a
`weft-proxy sidecar` (UID 1337) configured only by the variables the
injector sets; weft-control signs their certificates and programs them.
Names the pods resolve go in /etc/netns/NAMESPACE/hosts, which `ip netns
exec` mounts over /etc/hosts: what kube-dns would answer."""

import os

from harness import CONTROL_BIN
from netns import UID, NetnsPods, sh

CONTROL_NS_PORTS = {"xds": 15010, "ca": 15012, "admin": 15014}


class MeshPods(NetnsPods):
    """Class fixtures over NetnsPods: cls.control_ns / cls.control_ip (set
    by connect_pods), cls.root (the trust bundle a pod mounts)."""

    @classmethod
    def connect_pods(cls, control_ns, control_ip, pods):
        """`pods`: [(namespace, ip)]; namespaces not yet made are made."""
        cls.control_ns, cls.control_ip = control_ns, control_ip
        for ns in [control_ns] + [ns for ns, _ in pods]:
            if ns not in cls.namespaces:
                cls.add_namespace(ns)
        sh("ip", "-n", control_ns, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", control_ns, "addr", "add", control_ip + "/24", "dev", "br0")
        sh("ip", "-n", control_ns, "link", "set", "br0", "up")
        sh("ip", "-n", control_ns, "link", "set", "lo", "up")
        tag = os.getpid() % 100000
        for index, (ns, ip) in enumerate(pods):
            pod_end, bridge_end = "p%d-%d" % (index, tag), "q%d-%d" % (index, tag)
            sh("ip", "link", "add", pod_end, "type", "veth", "peer", "name", bridge_end)
            sh("ip", "link", "set", pod_end, "netns", ns)
            sh("ip", "link", "set", bridge_end, "netns", control_ns)
            sh("ip", "-n", control_ns, "link", "set", bridge_end, "master", "br0")
            sh("ip", "-n", control_ns, "link", "set", bridge_end, "up")
            cls.address_pod(ns, pod_end, ip)

    @classmethod
    def resolve_in(cls, ns, names):
        """`names`: {hostname: ip}, resolvable in `ns` from now on."""
        cls.etc_file(ns, "hosts", "127.0.0.1 localhost\n" + "".join(
            "%s %s\n" % (ip, name) for name, ip in sorted(names.items())))

    @classmethod
    def start_control(cls, mesh_yaml, service_accounts):
        """weft-control on `mesh_yaml` (a config directory of one file), with
        a projected-token stand-in for each of `service_accounts` (in shop)."""
        cls.config_dir = os.path.join(cls.dir, "config")
        os.mkdir(cls.config_dir)
        cls.write_config(mesh_yaml)
        tokens = os.path.join(cls.dir, "tokens")
        with open(tokens, "w") as f:
            for account in service_accounts:
                f.write("tok-%s shop %s\n" % (account, account))
        cls.data = os.path.join(cls.dir, "ca")
        ip = cls.control_ip
        cls.spawn(cls.control_ns, [CONTROL_BIN, "--config-dir", cls.config_dir,
                                   "--xds-address", "%s:%d" % (ip, CONTROL_NS_PORTS["xds"]),
                                   "--ca-address", "%s:%d" % (ip, CONTROL_NS_PORTS["ca"]),
                                   "--data-dir", cls.data, "--workload-tokens", tokens,
                                   "--admin-port", str(CONTROL_NS_PORTS["admin"])],
                  name="control")
        cls.wait_for(lambda: os.path.exists(os.path.join(cls.data, "ca.pem")) and cls.in_pod(
            cls.control_ns, ["curl", "-sf", "http://127.0.0.1:15014/ready"]).returncode == 0,
            "weft-control")
        # What the ConfigMap weft-ca-root-cert would mount.
        cls.root = cls.readable(os.path.join(cls.data, "ca.pem"))

    @classmethod
    def write_config(cls, mesh_yaml):
        """Replaces the mesh (atomically: weft-control never reads half a file)."""
        path = os.path.join(cls.config_dir, "mesh.yaml")
        with open(path + ".tmp", "w") as f:
            f.write(mesh_yaml)
        os.rename(path + ".tmp", path)

    @classmethod
    def start_pod(cls, ns, pod, pod_ip, service_account, extra_env=None):
        init = sh("ip", "netns", "exec", ns, cls.proxy_bin, "init", "--proxy-uid", str(UID),
                  "--outbound-port", "15001", "--inbound-port", "15006",
                  "--exclude-inbound-ports", "15020", check=False)
        if init.returncode != 0:
            raise AssertionError("weft-proxy init: " + init.stdout + init.stderr)
        token = os.path.join(cls.dir, pod + ".token")
        with open(token, "w") as f:
            f.write("tok-%s\n" % service_account)
        os.chmod(token, 0o644)
        env = {"WEFT_POD_NAME": pod, "WEFT_POD_NAMESPACE": "shop", "WEFT_POD_IP": pod_ip,
               "WEFT_SERVICE_ACCOUNT": service_account,
               "WEFT_XDS_ADDRESS": "%s:%d" % (cls.control_ip, CONTROL_NS_PORTS["xds"]),
               "WEFT_CA_ADDRESS": "%s:%d" % (cls.control_ip, CONTROL_NS_PORTS["ca"]),
               "WEFT_CA_ROOT_CERT": cls.root, "WEFT_CA_TOKEN_FILE": token,
               "WEFT_TRUST_DOMAIN": "cluster.local", "WEFT_CONCURRENCY": "1",
               "WEFT_OUTBOUND_PORT": "15001", "WEFT_INBOUND_PORT": "15006",
               "WEFT_ADMIN_PORT": "15000", "WEFT_STATUS_PORT": "15020", **(extra_env or {})}
        cls.spawn(ns, [cls.proxy_bin, "sidecar"], uid=UID, name="proxy-" + pod, env=env)

    @classmethod
    def wait_for_sidecars(cls, namespaces):
        for ns in namespaces:
            # The postStart hook of the fallback shape, run in the pod.
            ready = cls.in_pod(ns, [cls.proxy_bin, "wait", "--port", "15020",
                                    "--timeout-s", "30"], timeout=40)
            if ready.returncode != 0:
                raise AssertionError("sidecar in %s not ready: %s\n%s"
                                     % (ns, ready.stderr, cls.logs()))

    def metrics(self, ns):
        return self.in_pod(ns, ["curl", "-s", "http://127.0.0.1:15020/stats/prometheus"]).stdout
