"""Which TLS library a binary links: OpenSSL 3 or BoringSSL.

weft-control and weft-injector link Debian's gRPC, which links OpenSSL 3, so
everything they share with the proxy (common/tls, security, base64) is built
against OpenSSL by default. weft-proxy links no gRPC: tls_binaries() builds
it, and every library under it, a second time in a configuration where
//third_party:tls says "boringssl". The sources are the same; only the
headers and libraries behind //third_party:tls_library differ.
"""

TlsLibraryInfo = provider(fields = ["name"])

_LIBRARIES = ["openssl", "boringssl"]

def _tls_setting_impl(ctx):
    value = ctx.build_setting_value
    if value not in _LIBRARIES:
        fail("%s: '%s' is not a TLS library weft builds with (one of %s)" %
             (ctx.label, value, ", ".join(_LIBRARIES)))
    return [TlsLibraryInfo(name = value)]

# A string flag restricted to the TLS libraries above.
tls_setting = rule(
    implementation = _tls_setting_impl,
    build_setting = config.string(flag = True),
)

def _to_boringssl_impl(settings, attr):
    return {"//third_party:tls": "boringssl"}

# Only ever towards BoringSSL: a transition that sets the flag to the value
# it already has (OpenSSL, the default) makes Bazel 4 build the same objects
# in two configurations with one output path, which it refuses.
_to_boringssl = transition(
    implementation = _to_boringssl_impl,
    inputs = [],
    outputs = ["//third_party:tls"],
)

def _binary_link_impl(ctx):
    target = ctx.attr.binary[0] if type(ctx.attr.binary) == "list" else ctx.attr.binary
    binary = target[DefaultInfo].files_to_run.executable
    out = ctx.actions.declare_file(ctx.label.name)
    ctx.actions.symlink(output = out, target_file = binary, is_executable = True)
    return [DefaultInfo(executable = out, files = depset([out]))]

_binary_link = rule(
    implementation = _binary_link_impl,
    executable = True,
    attrs = {"binary": attr.label(mandatory = True, executable = True, cfg = "target")},
)

_boringssl_binary = rule(
    implementation = _binary_link_impl,
    executable = True,
    attrs = {
        "binary": attr.label(mandatory = True, executable = True, cfg = _to_boringssl),
        "_allowlist_function_transition": attr.label(
            default = "@bazel_tools//tools/allowlists/function_transition_allowlist",
        ),
    },
)

def tls_binaries(name, binary, visibility = None):
    """`binary` once per TLS library: <name>-openssl, <name>-boringssl, and
    <name>, which is the one --//third_party:proxy_tls names (BoringSSL
    unless --config=proxy-openssl)."""
    _binary_link(name = name + "-openssl", binary = binary, visibility = visibility)
    _boringssl_binary(name = name + "-boringssl", binary = binary, visibility = visibility)
    _binary_link(
        name = name,
        binary = select({
            "//third_party:proxy_tls_is_openssl": ":" + name + "-openssl",
            "//conditions:default": ":" + name + "-boringssl",
        }),
        visibility = visibility,
    )
