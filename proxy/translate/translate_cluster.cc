#include "proxy/translate/translate_cluster.h"
#include "proxy/workload/workload_metadata.h"

#include "envoy/extensions/upstreams/http/v3/http_protocol_options.pb.h"
#include "proxy/translate/translate_util.h"

#include <functional>

namespace weft::translate {

namespace cluster_v3 = envoy::config::cluster::v3;

namespace {
constexpr char kHttpProtocolOptionsKey[] = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions";
}  // namespace

namespace {

// Calls `add` for each lb_endpoint of `la` that is eligible for new requests
// (not UNHEALTHY or DRAINING), with its path and weight.
bool forEachEndpoint(const envoy::config::endpoint::v3::ClusterLoadAssignment& la,
                     const std::string& path, common::ErrorList& errors,
                     const std::function<bool(const envoy::config::core::v3::Address&,
                                              const std::string& path, uint32_t weight)>& add) {
  bool ok = true;
  for (int i = 0; i < la.endpoints_size(); ++i) {
    const auto& locality = la.endpoints(i);
    for (int j = 0; j < locality.lb_endpoints_size(); ++j) {
      const auto& lbe = locality.lb_endpoints(j);
      std::string epath =
          path + ".endpoints[" + std::to_string(i) + "].lb_endpoints[" + std::to_string(j) + "]";
      if (!lbe.has_endpoint()) {
        errors.add(epath, "endpoint is required");
        ok = false;
        continue;
      }
      uint32_t weight = lbe.has_load_balancing_weight() ? lbe.load_balancing_weight().value() : 1;
      if (weight == 0) {
        errors.add(epath + ".load_balancing_weight", "must be at least 1");
        ok = false;
        continue;
      }
      if (lbe.health_status() == envoy::config::core::v3::UNHEALTHY ||
          lbe.health_status() == envoy::config::core::v3::DRAINING) {
        continue;  // not eligible for new requests
      }
      ok &= add(lbe.endpoint().address(), epath + ".endpoint.address", weight);
    }
  }
  return ok;
}

bool lookupFamilyFrom(cluster_v3::Cluster::DnsLookupFamily proto, dns::LookupFamily* out) {
  switch (proto) {
    case cluster_v3::Cluster::AUTO:
      *out = dns::LookupFamily::kAuto;
      return true;
    case cluster_v3::Cluster::V4_ONLY:
      *out = dns::LookupFamily::kV4Only;
      return true;
    case cluster_v3::Cluster::V6_ONLY:
      *out = dns::LookupFamily::kV6Only;
      return true;
    case cluster_v3::Cluster::V4_PREFERRED:
      *out = dns::LookupFamily::kV4Preferred;
      return true;
    case cluster_v3::Cluster::ALL:
      *out = dns::LookupFamily::kAll;
      return true;
    default:
      return false;
  }
}

// Envoy's ceilings: a larger ring or table only costs memory.
constexpr uint64_t kMaxRingSize = 8 * 1024 * 1024;
constexpr uint64_t kMaxMaglevTableSize = 5000011;

bool isPrime(uint64_t n) {
  if (n < 2) return false;
  for (uint64_t d = 2; d * d <= n; ++d) {
    if (n % d == 0) return false;
  }
  return true;
}

bool translateRingHash(const cluster_v3::Cluster& proto, const std::string& path,
                       config::ClusterConfig* out, common::ErrorList& errors) {
  if (!proto.has_ring_hash_lb_config()) return true;
  const auto& ring = proto.ring_hash_lb_config();
  const std::string at = path + ".ring_hash_lb_config";
  bool ok = true;
  if (ring.hash_function() != cluster_v3::Cluster::RingHashLbConfig::XX_HASH) {
    errors.add(at + ".hash_function", "only XX_HASH is supported");
    ok = false;
  }
  if (ring.has_minimum_ring_size()) out->ring_min_size = ring.minimum_ring_size().value();
  if (ring.has_maximum_ring_size()) out->ring_max_size = ring.maximum_ring_size().value();
  if (out->ring_min_size == 0 || out->ring_max_size > kMaxRingSize ||
      out->ring_min_size > out->ring_max_size) {
    errors.add(at, "needs 0 < minimum_ring_size <= maximum_ring_size <= 8388608");
    ok = false;
  }
  return ok;
}

// STRICT_DNS: every address of every name is a host. LOGICAL_DNS: one name,
// and only its first address (new connections follow the latest answer,
// open ones stay). A name the cache has not resolved yet leaves the cluster
// without its hosts and is reported missing (the configuration warms).
bool translateDnsCluster(const cluster_v3::Cluster& proto, const std::string& path,
                         config::ClusterConfig* out, common::ErrorList& errors, dns::DnsLookup* dns,
                         std::vector<std::string>* missing) {
  bool ok = true;
  out->logical_dns = proto.type() == cluster_v3::Cluster::LOGICAL_DNS;
  dns::DnsTarget settings;
  if (proto.has_dns_refresh_rate()) {
    settings.refresh_ms = durationMs(proto.dns_refresh_rate());
    if (settings.refresh_ms == 0) {
      errors.add(path + ".dns_refresh_rate", "must be at least 1ms");
      ok = false;
    }
  }
  settings.respect_ttl = proto.respect_dns_ttl();
  if (!lookupFamilyFrom(proto.dns_lookup_family(), &settings.family)) {
    errors.add(path + ".dns_lookup_family", "unknown family");
    ok = false;
  }
  if (proto.has_eds_cluster_config()) {
    errors.add(path + ".eds_cluster_config", "only EDS clusters take eds_cluster_config");
    ok = false;
  }
  ok &= forEachEndpoint(
      proto.load_assignment(), path + ".load_assignment", errors,
      [&](const envoy::config::core::v3::Address& address, const std::string& apath,
          uint32_t weight) {
        const auto& sa = address.socket_address();
        if (!address.has_socket_address() || sa.address().empty() || sa.port_value() == 0 ||
            sa.port_value() > 65535) {
          errors.add(apath, "a DNS cluster's endpoint needs socket_address {address, port_value}");
          return false;
        }
        config::ClusterConfig::DnsName name;
        name.target = settings;
        name.target.hostname = sa.address();
        name.port = static_cast<uint16_t>(sa.port_value());
        name.weight = weight;
        out->dns_names.push_back(std::move(name));
        return true;
      });
  if (out->logical_dns && out->dns_names.size() != 1) {
    errors.add(path + ".load_assignment", "a LOGICAL_DNS cluster resolves exactly one name");
    ok = false;
  }
  if (!ok) return false;
  if (dns == nullptr) {
    errors.add(path + ".type", "DNS clusters need the proxy's resolver (not available here)");
    return false;
  }
  for (const auto& name : out->dns_names) {
    // An IP literal resolves to itself, at once.
    if (auto literal = network::Address::fromIpPort(name.target.hostname, name.port)) {
      out->hosts.push_back({*literal, name.weight});
      continue;
    }
    const std::vector<std::string>* addresses = dns->lookup(name.target);
    if (addresses == nullptr) {
      if (missing != nullptr) missing->push_back("DNS name " + name.target.hostname);
      continue;
    }
    for (const auto& ip : *addresses) {
      if (auto host = network::Address::fromIpPort(ip, name.port)) {
        out->hosts.push_back({*host, name.weight});
      }
      if (out->logical_dns) break;
    }
  }
  return true;
}

}  // namespace

bool translateLoadAssignment(const envoy::config::endpoint::v3::ClusterLoadAssignment& la,
                             const std::string& path, std::vector<config::HostConfig>* hosts,
                             common::ErrorList& errors) {
  return forEachEndpoint(la, path, errors,
                         [&](const envoy::config::core::v3::Address& address,
                             const std::string& apath, uint32_t weight) {
                           config::HostConfig host;
                           host.weight = weight;
                           if (!addressFrom(address, apath, &host.address, errors)) return false;
                           hosts->push_back(host);
                           return true;
                         });
}

bool translateCluster(const cluster_v3::Cluster& proto, const std::string& path,
                      config::ClusterConfig* out, common::ErrorList& errors,
                      const envoy::config::endpoint::v3::ClusterLoadAssignment* eds,
                      const SecretResolver* secrets, dns::DnsLookup* dns,
                      std::vector<std::string>* missing) {
  bool ok = true;
  if (proto.name().empty()) {
    errors.add(path + ".name", "cluster name is required");
    ok = false;
  }
  out->name = proto.name();
  out->service = std::string(workload::serviceOfCluster(proto.name()));
  if (proto.type() == cluster_v3::Cluster::EDS) {
    const auto& source = proto.eds_cluster_config().eds_config();
    if (!source.has_ads()) {
      errors.add(path + ".eds_cluster_config.eds_config", "only ads: {} is supported");
      ok = false;
    }
    if (proto.has_load_assignment()) {
      errors.add(path + ".load_assignment", "an EDS cluster takes its endpoints from EDS");
      ok = false;
    }
    if (eds != nullptr &&
        !translateLoadAssignment(*eds, "ClusterLoadAssignment '" + eds->cluster_name() + "'",
                                 &out->hosts, errors)) {
      ok = false;
    }
  } else if (proto.type() == cluster_v3::Cluster::STATIC) {
    if (proto.has_eds_cluster_config()) {
      errors.add(path + ".eds_cluster_config", "only EDS clusters take eds_cluster_config");
      ok = false;
    }
    if (!translateLoadAssignment(proto.load_assignment(), path + ".load_assignment", &out->hosts,
                                 errors)) {
      ok = false;
    }
  } else if (proto.type() == cluster_v3::Cluster::ORIGINAL_DST) {
    out->original_dst = true;
    if (proto.lb_policy() != cluster_v3::Cluster::CLUSTER_PROVIDED) {
      errors.add(path + ".lb_policy", "an ORIGINAL_DST cluster needs lb_policy CLUSTER_PROVIDED");
      ok = false;
    }
    if (proto.has_load_assignment()) {
      errors.add(path + ".load_assignment", "an ORIGINAL_DST cluster has no endpoints of its own");
      ok = false;
    }
  } else if (proto.type() == cluster_v3::Cluster::STRICT_DNS ||
             proto.type() == cluster_v3::Cluster::LOGICAL_DNS) {
    ok &= translateDnsCluster(proto, path, out, errors, dns, missing);
  } else {
    errors.add(path + ".type",
               "only STATIC, EDS, ORIGINAL_DST, STRICT_DNS and LOGICAL_DNS clusters are supported");
    ok = false;
  }
  bool dns_type = proto.type() == cluster_v3::Cluster::STRICT_DNS ||
                  proto.type() == cluster_v3::Cluster::LOGICAL_DNS;
  if (!dns_type && (proto.has_dns_refresh_rate() || proto.respect_dns_ttl() ||
                    proto.dns_lookup_family() != cluster_v3::Cluster::AUTO)) {
    errors.add(path,
               "dns_refresh_rate, respect_dns_ttl and dns_lookup_family apply to DNS "
               "clusters only");
    ok = false;
  }
  switch (out->original_dst ? cluster_v3::Cluster::ROUND_ROBIN : proto.lb_policy()) {
    case cluster_v3::Cluster::ROUND_ROBIN:
      out->lb_policy = config::LbPolicy::kRoundRobin;
      break;
    case cluster_v3::Cluster::LEAST_REQUEST:
      out->lb_policy = config::LbPolicy::kLeastRequest;
      if (proto.has_least_request_lb_config() &&
          proto.least_request_lb_config().has_choice_count()) {
        out->least_request_choices = proto.least_request_lb_config().choice_count().value();
        if (out->least_request_choices < 2) {
          errors.add(path + ".least_request_lb_config.choice_count", "must be at least 2");
          ok = false;
        }
      }
      break;
    case cluster_v3::Cluster::RING_HASH:
      out->lb_policy = config::LbPolicy::kRingHash;
      ok &= translateRingHash(proto, path, out, errors);
      break;
    case cluster_v3::Cluster::MAGLEV:
      out->lb_policy = config::LbPolicy::kMaglev;
      if (proto.has_maglev_lb_config() && proto.maglev_lb_config().has_table_size()) {
        out->maglev_table_size = proto.maglev_lb_config().table_size().value();
        if (!isPrime(out->maglev_table_size) || out->maglev_table_size > kMaxMaglevTableSize) {
          errors.add(path + ".maglev_lb_config.table_size",
                     "must be a prime number no larger than 5000011");
          ok = false;
        }
      }
      break;
    default:
      errors.add(path + ".lb_policy",
                 "only ROUND_ROBIN, LEAST_REQUEST, RING_HASH and MAGLEV are supported");
      ok = false;
  }
  // An lb_config for another policy would do nothing: refused, as Envoy does.
  const bool misplaced_config =
      (proto.has_ring_hash_lb_config() && out->lb_policy != config::LbPolicy::kRingHash) ||
      (proto.has_maglev_lb_config() && out->lb_policy != config::LbPolicy::kMaglev) ||
      (proto.has_least_request_lb_config() && out->lb_policy != config::LbPolicy::kLeastRequest);
  if (misplaced_config && !out->original_dst) {
    errors.add(path + ".lb_config", "configures a load balancer other than lb_policy's");
    ok = false;
  }
  if (proto.has_connect_timeout()) {
    out->connect_timeout_ms = durationMs(proto.connect_timeout());
    if (out->connect_timeout_ms == 0) {
      errors.add(path + ".connect_timeout", "must be greater than 0");
      ok = false;
    }
  }
  if (proto.has_max_requests_per_connection()) {
    out->max_requests_per_connection = proto.max_requests_per_connection().value();
  }
  if (proto.has_common_http_protocol_options() &&
      proto.common_http_protocol_options().has_idle_timeout()) {
    out->idle_timeout_ms = durationMs(proto.common_http_protocol_options().idle_timeout());
  }
  if (proto.has_http2_protocol_options()) {
    out->protocol = config::UpstreamProtocol::kHttp2;
    ok &= translateHttp2Options(proto.http2_protocol_options(), path + ".http2_protocol_options",
                                &out->allow_connect, errors);
  }
  for (const auto& [key, any] : proto.typed_extension_protocol_options()) {
    std::string opath = path + ".typed_extension_protocol_options[\"" + key + "\"]";
    envoy::extensions::upstreams::http::v3::HttpProtocolOptions options;
    if (key != kHttpProtocolOptionsKey || !any.UnpackTo(&options)) {
      errors.add(opath,
                 "unsupported extension (only " + std::string(kHttpProtocolOptionsKey) + ")");
      ok = false;
      continue;
    }
    if (options.has_explicit_http_config() &&
        options.explicit_http_config().has_http2_protocol_options()) {
      out->protocol = config::UpstreamProtocol::kHttp2;
      ok &= translateHttp2Options(options.explicit_http_config().http2_protocol_options(),
                                  opath + ".explicit_http_config.http2_protocol_options",
                                  &out->allow_connect, errors);
    }
    if (options.common_http_protocol_options().has_idle_timeout()) {
      out->idle_timeout_ms = durationMs(options.common_http_protocol_options().idle_timeout());
    }
  }
  for (const auto& t : proto.circuit_breakers().thresholds()) {
    if (t.priority() != envoy::config::core::v3::DEFAULT) continue;
    if (t.has_max_connections()) out->max_connections = t.max_connections().value();
    if (t.has_max_pending_requests()) out->max_pending_requests = t.max_pending_requests().value();
    if (t.has_max_requests()) out->max_requests = t.max_requests().value();
    if (t.has_max_retries()) {
      out->max_retries = t.max_retries().value();
      out->retry_budget_enabled = t.has_retry_budget();
    }
    if (t.has_retry_budget()) {
      if (t.retry_budget().has_budget_percent()) {
        out->retry_budget_percent = t.retry_budget().budget_percent().value();
      }
      if (t.retry_budget().has_min_retry_concurrency()) {
        out->min_retry_concurrency = t.retry_budget().min_retry_concurrency().value();
      }
    }
  }
  if (proto.has_outlier_detection()) {
    const auto& od = proto.outlier_detection();
    auto& o = out->outlier;
    o.enabled = true;
    if (od.has_consecutive_5xx()) o.consecutive_5xx = od.consecutive_5xx().value();
    if (od.has_consecutive_gateway_failure()) {
      o.consecutive_gateway_failure = od.consecutive_gateway_failure().value();
    }
    if (od.has_enforcing_consecutive_5xx())
      o.enforce_5xx = od.enforcing_consecutive_5xx().value() > 0;
    if (od.has_enforcing_consecutive_gateway_failure()) {
      o.enforce_gateway_failure = od.enforcing_consecutive_gateway_failure().value() > 0;
    }
    if (od.has_base_ejection_time()) o.base_ejection_time_ms = durationMs(od.base_ejection_time());
    if (od.has_max_ejection_time()) o.max_ejection_time_ms = durationMs(od.max_ejection_time());
    if (od.has_max_ejection_percent()) {
      o.max_ejection_percent = od.max_ejection_percent().value();
      if (o.max_ejection_percent > 100) {
        errors.add(path + ".outlier_detection.max_ejection_percent", "must be within 0..100");
        ok = false;
      }
    }
    if (od.has_interval() && durationMs(od.interval()) == 0) {
      errors.add(path + ".outlier_detection.interval", "must be greater than 0");
      ok = false;
    }
  }
  if (proto.has_transport_socket() &&
      !transportSocketFrom(proto.transport_socket(), false, path + ".transport_socket", secrets,
                           errors, &out->tls)) {
    ok = false;
  }
  return ok;
}

}  // namespace weft::translate
