#include "proxy/stats/istio_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <utility>

#include "proxy/stream_info/response_flags.h"

namespace weft::stats {

using workload::kUnknown;
using workload::WorkloadMetadata;

struct IstioMetrics::Families {
  prometheus::Family<prometheus::Counter>* requests;
  prometheus::Family<prometheus::Histogram>* duration;
  prometheus::Family<prometheus::Histogram>* request_bytes;
  prometheus::Family<prometheus::Histogram>* response_bytes;
  prometheus::Family<prometheus::Counter>* tcp_opened;
  prometheus::Family<prometheus::Counter>* tcp_closed;
  prometheus::Family<prometheus::Counter>* tcp_sent;
  prometheus::Family<prometheus::Counter>* tcp_received;
  prometheus::Counter* overflow;
};

namespace {

// Istio's buckets: request duration in ms, and sizes in bytes (powers of 10).
const prometheus::Histogram::BucketBoundaries& durationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.5,  1,    5,     10,    25,    50,     100,    250,     500,    1000,
      2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000};
  return kBuckets;
}

const prometheus::Histogram::BucketBoundaries& sizeBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
  return kBuckets;
}

std::string orUnknown(std::string_view value) {
  return value.empty() ? std::string(kUnknown) : std::string(value);
}

// One side's labels ("source_" or "destination_"), from its metadata.
void addWorkload(IstioMetrics::Labels& labels, const std::string& side, const WorkloadMetadata* m,
                 std::string_view principal) {
  static const WorkloadMetadata kNobody;
  if (m == nullptr) m = &kNobody;
  labels[side + "workload"] = orUnknown(m->workload);
  labels[side + "workload_namespace"] = orUnknown(m->namespace_name);
  labels[side + "principal"] = orUnknown(principal);
  labels[side + "app"] = orUnknown(m->app);
  labels[side + "version"] = orUnknown(m->version);
  labels[side + "canonical_service"] = orUnknown(m->canonical_service);
  labels[side + "canonical_revision"] = orUnknown(m->canonical_revision);
  labels[side + "cluster"] = orUnknown(m->cluster);
}

// "reviews.shop.svc.cluster.local" -> ("reviews", "shop").
void addService(IstioMetrics::Labels& labels, std::string_view service) {
  labels["destination_service"] = orUnknown(service);
  size_t dot = service.find('.');
  if (service.empty() || dot == std::string_view::npos) {
    labels["destination_service_name"] = orUnknown(service);
    labels["destination_service_namespace"] = kUnknown;
    return;
  }
  size_t next = service.find('.', dot + 1);
  labels["destination_service_name"] = std::string(service.substr(0, dot));
  labels["destination_service_namespace"] =
      std::string(service.substr(dot + 1, next == std::string_view::npos ? next : next - dot - 1));
}

void appendField(std::string& key, std::string_view value) {
  key.append(value);
  key.push_back('\x1f');  // cannot occur in a validated value
}

}  // namespace

IstioMetrics::IstioMetrics(prometheus::Registry& registry, size_t max_label_sets)
    : families_(std::make_unique<Families>()), max_label_sets_(max_label_sets) {
  auto counter = [&registry](const char* name, const char* help) {
    return &prometheus::BuildCounter().Name(name).Help(help).Register(registry);
  };
  auto histogram = [&registry](const char* name, const char* help) {
    return &prometheus::BuildHistogram().Name(name).Help(help).Register(registry);
  };
  // prometheus-cpp adds "_total" to nothing: the names are Istio's as exported.
  families_->requests = counter("istio_requests_total", "Requests, by both workloads of the call");
  families_->duration =
      histogram("istio_request_duration_milliseconds", "Request duration in milliseconds");
  families_->request_bytes = histogram("istio_request_bytes", "Request body sizes in bytes");
  families_->response_bytes = histogram("istio_response_bytes", "Response body sizes in bytes");
  families_->tcp_opened = counter("istio_tcp_connections_opened_total", "TCP connections opened");
  families_->tcp_closed = counter("istio_tcp_connections_closed_total", "TCP connections closed");
  families_->tcp_sent =
      counter("istio_tcp_sent_bytes_total", "Bytes sent during the response in TCP connections");
  families_->tcp_received = counter("istio_tcp_received_bytes_total",
                                    "Bytes received during the request in TCP connections");
  families_->overflow =
      &counter("weft_istio_label_sets_overflow_total",
               "Requests and connections not counted in istio_* because the proxy already "
               "exports its maximum of label sets")
           ->Add({});
}

IstioMetrics::~IstioMetrics() = default;

void IstioMetrics::setLocal(WorkloadMetadata local) {
  local_ = std::move(local);
  local_header_ = workload::encodePeerMetadata(local_);
}

bool IstioMetrics::admit(const std::string& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (made_.count(key) != 0) return true;
  if (made_.size() >= max_label_sets_) {
    families_->overflow->Increment();
    return false;
  }
  made_.insert(key);
  return true;
}

bool IstioMetrics::requestSeries(const std::string& key, const Labels& labels, RequestSeries* out) {
  if (!admit(key)) return false;
  out->requests = &families_->requests->Add(labels);
  out->duration = &families_->duration->Add(labels, durationBuckets());
  out->request_bytes = &families_->request_bytes->Add(labels, sizeBuckets());
  out->response_bytes = &families_->response_bytes->Add(labels, sizeBuckets());
  return true;
}

bool IstioMetrics::tcpSeries(const std::string& key, const Labels& labels, IstioTcpSeries* out) {
  if (!admit(key)) return false;
  out->opened = &families_->tcp_opened->Add(labels);
  out->closed = &families_->tcp_closed->Add(labels);
  out->sent = &families_->tcp_sent->Add(labels);
  out->received = &families_->tcp_received->Add(labels);
  return true;
}

IstioMetrics::Labels IstioRecorder::commonLabels(Reporter reporter, std::string_view peer_header,
                                                 std::string_view peer_principal,
                                                 std::string_view service, bool mutual_tls,
                                                 uint32_t response_flags) const {
  WorkloadMetadata peer;
  std::string peer_service, error;
  bool known = !peer_header.empty() &&
               workload::parsePeerMetadata(peer_header, &peer, &peer_service, &error);
  const WorkloadMetadata& local = metrics_.local();
  IstioMetrics::Labels labels;
  if (reporter == Reporter::kSource) {
    labels["reporter"] = "source";
    addWorkload(labels, "source_", &local, local.principal);
    addWorkload(labels, "destination_", known ? &peer : nullptr, known ? peer.principal : "");
    labels["connection_security_policy"] = kUnknown;
    addService(labels, service);
  } else {
    labels["reporter"] = "destination";
    // The caller's principal is the one its certificate proved, not the one its header claims.
    addWorkload(labels, "source_", known ? &peer : nullptr, peer_principal);
    addWorkload(labels, "destination_", &local, local.principal);
    labels["connection_security_policy"] = mutual_tls ? "mutual_tls" : "none";
    addService(labels, service.empty() && known ? std::string_view(peer_service) : service);
  }
  labels["response_flags"] = stream_info::responseFlagsString(response_flags);
  return labels;
}

void IstioRecorder::recordRequest(const IstioRequest& request) {
  key_.clear();
  key_.push_back(request.reporter == Reporter::kSource ? 's' : 'd');
  key_.push_back(request.grpc ? 'g' : 'h');
  key_.push_back(request.mutual_tls ? 'm' : 'p');
  appendField(key_, request.peer_header);
  appendField(key_, request.peer_principal);
  appendField(key_, request.service);
  key_.append(std::to_string(request.response_code));
  key_.push_back('/');
  key_.append(std::to_string(request.grpc_status));
  key_.push_back('/');
  key_.append(std::to_string(request.response_flags));
  auto it = requests_.find(key_);
  if (it == requests_.end()) {
    IstioMetrics::Labels labels =
        commonLabels(request.reporter, request.peer_header, request.peer_principal, request.service,
                     request.mutual_tls, request.response_flags);
    labels["request_protocol"] = request.grpc ? "grpc" : "http";
    labels["response_code"] = std::to_string(request.response_code);
    labels["grpc_response_status"] =
        request.grpc && request.grpc_status >= 0 ? std::to_string(request.grpc_status) : "";
    IstioMetrics::RequestSeries series{};
    if (!metrics_.requestSeries(key_, labels, &series)) {
      // Remember the refusal too (bounded), so a flood of new label sets
      // does not take the cap's mutex per request.
      if (requests_.size() < 2 * metrics_.max_label_sets_) requests_.emplace(key_, series);
      return;
    }
    it = requests_.emplace(key_, series).first;
  }
  const IstioMetrics::RequestSeries& series = it->second;
  if (series.requests == nullptr) {
    metrics_.families_->overflow->Increment();
    return;
  }
  series.requests->Increment();
  series.duration->Observe(request.duration_ms);
  series.request_bytes->Observe(static_cast<double>(request.request_bytes));
  series.response_bytes->Observe(static_cast<double>(request.response_bytes));
}

void IstioRecorder::connectionKey(const IstioConnection& connection) {
  key_.clear();
  key_.push_back(connection.reporter == Reporter::kSource ? 's' : 'd');
  key_.push_back(connection.mutual_tls ? 'm' : 'p');
  appendField(key_, connection.peer_header);
  appendField(key_, connection.peer_principal);
  appendField(key_, connection.service);
  key_.append(std::to_string(connection.response_flags));
}

const IstioTcpSeries* IstioRecorder::connectionSeries(const IstioConnection& connection) {
  connectionKey(connection);
  auto it = connections_.find(key_);
  if (it == connections_.end()) {
    IstioMetrics::Labels labels =
        commonLabels(connection.reporter, connection.peer_header, connection.peer_principal,
                     connection.service, connection.mutual_tls, connection.response_flags);
    labels["request_protocol"] = "tcp";
    IstioTcpSeries series{};
    if (!metrics_.tcpSeries(key_, labels, &series)) {
      if (connections_.size() < 2 * metrics_.max_label_sets_) connections_.emplace(key_, series);
      return nullptr;
    }
    it = connections_.emplace(key_, series).first;
  }
  if (it->second.opened == nullptr) {
    metrics_.families_->overflow->Increment();
    return nullptr;
  }
  return &it->second;
}

const IstioTcpSeries* IstioRecorder::openConnection(const IstioConnection& connection) {
  const IstioTcpSeries* series = connectionSeries(connection);
  if (series != nullptr) series->opened->Increment();
  return series;
}

void IstioRecorder::closeConnection(const IstioConnection& connection) {
  const IstioTcpSeries* series = connectionSeries(connection);
  if (series != nullptr) series->closed->Increment();
}

}  // namespace weft::stats
